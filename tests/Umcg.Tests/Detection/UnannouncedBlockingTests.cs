using System.IO.Pipes;

namespace Umcg.Tests.Detection;

/// <summary>
/// A worker blocks without saying so; on a single server the only way another worker can run meanwhile is a
/// detector marking the first one blocked. Without detection each of these would hold the server forever
/// and the watchdog would fail the test with a dump.
/// </summary>
public sealed class UnannouncedBlockingTests
{
    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_plain_Thread_Sleep_lets_another_worker_of_the_server_run(BlockingDetection mode) => MarkedOnOneServer(mode, scheduler =>
    {
        var run = UnannouncedBlock.SleepWhileAnotherWorkerRuns(scheduler, () => Worker.Current!.ServerIndex);
        Assert.True(run.OtherRanWhileSleeping);
        Assert.Equal(0, run.AfterSleep);
        Assert.True(run.Sleeps >= 1);
    });

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_worker_that_claimed_an_open_server_is_still_seen_blocking_unannounced(BlockingDetection mode) => MarkedOnOneServer(mode, scheduler =>
    {
        // The reader leaves a region while its server sleeps open: it claims the server and runs on without a switch,
        // so its runnable_ts is newer than its last switch-in. Its next sleep must count all the same.
        using var reading = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
        using var writing = new AnonymousPipeClientStream(PipeDirection.Out, reading.ClientSafePipeHandle);
        var server = scheduler.Servers[0];
        int claimed = 0;
        var reader = scheduler.Spawn(() =>
        {
            using (Worker.Blocking())
            {
                Watchdog.Until(() => server.IsOpenForTests && server.WaitsForTests, scheduler.Kernel, "the server asleep open");
            }

            Volatile.Write(ref claimed, 1);
            return reading.ReadByte(); // read(2) on the pipe, no blocking region
        });
        Watchdog.Until(() => Volatile.Read(ref claimed) == 1, scheduler.Kernel, "the reader runs again");
        var writer = scheduler.Spawn(() =>
        {
            writing.WriteByte(42);
            writing.Flush();
        });
        SchedulerFixture.WaitAll(scheduler, reader, writer);
        Assert.Equal(42, reader.Join());
        Assert.True(scheduler.Stats.DirectStarts >= 1, "the reader's unblock did not claim its server");
    });

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_synchronous_pipe_read_lets_the_writer_on_the_same_server_run(BlockingDetection mode) => MarkedOnOneServer(mode, scheduler =>
    {
        using var reading = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
        using var writing = new AnonymousPipeClientStream(PipeDirection.Out, reading.ClientSafePipeHandle);
        int read = UnannouncedBlock.WhileAnotherWorkerRuns(
            scheduler,
            "reader",
            () => reading.ReadByte(), // read(2) on the pipe, no blocking region
            () =>
            {
                writing.WriteByte(42);
                writing.Flush();
            });
        Assert.Equal(42, read);
    });

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void Waiting_for_a_contended_lock_lets_the_worker_that_frees_it_run(BlockingDetection mode) => MarkedOnOneServer(mode, scheduler =>
    {
        var gate = new object();
        using var holding = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();

        // A plain thread holds the lock until a second worker of the same server has run.
        var holder = new Thread(() =>
        {
            lock (gate)
            {
                holding.Set();
                release.Wait();
            }
        }) { IsBackground = true, Name = "lock holder" };
        holder.Start();
        holding.Wait();

        int serverIndex = UnannouncedBlock.WhileAnotherWorkerRuns(
            scheduler,
            "waiter",
            () =>
            {
                lock (gate)
                {
                    return Worker.Current!.ServerIndex;
                }
            },
            release.Set);
        Watchdog.Join(scheduler.Kernel, holder);
        Assert.Equal(0, serverIndex);
    });

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_marked_worker_takes_the_unblock_path_at_its_next_safepoint(BlockingDetection mode)
    {
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(mode);

        // Marked BLOCKED, the sleeper runs on unmanaged until its safepoint, which queues it and returns once
        // its server runs it again.
        var run = UnannouncedBlock.SleepWhileAnotherWorkerRuns(scheduler, () =>
        {
            Worker.Safepoint();
            return Worker.Current!.Kernel.IsWorkerThread;
        });
        Assert.True(run.AfterSleep);
        Watchdog.Until(() => detector.Stats.UnmanagedRuns >= 1, scheduler.Kernel, "the unmanaged run to be counted");
        Assert.True(detector.Stats.UnmanagedCpu >= TimeSpan.Zero);
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>
    /// Runs <paramref name="scenario"/> on a one-server scheduler that detects with <paramref name="mode"/>; then the
    /// detector the mode calls for must have marked the block, and the scheduler shuts down cleanly.
    /// </summary>
    private static void MarkedOnOneServer(BlockingDetection mode, Action<UmcgScheduler> scenario)
    {
        var scheduler = DetectionFixture.Create(mode);
        scenario(scheduler);
        DetectionFixture.AssertMarkedBy(scheduler, mode);
        SchedulerFixture.Shutdown(scheduler);
    }
}
