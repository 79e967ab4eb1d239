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
    public void A_plain_Thread_Sleep_lets_another_worker_of_the_server_run(BlockingDetection mode)
    {
        var scheduler = DetectionFixture.Create(mode);
        var run = UnannouncedSleeper.SleepWhileAnotherWorkerRuns(scheduler, () => Worker.Current!.ServerIndex);
        Assert.True(run.OtherRanWhileSleeping);
        Assert.Equal(0, run.AfterSleep);
        Assert.True(run.Sleeps >= 1);
        DetectionFixture.AssertMarkedBy(scheduler, mode);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_synchronous_pipe_read_lets_the_writer_on_the_same_server_run(BlockingDetection mode)
    {
        var scheduler = DetectionFixture.Create(mode);
        using var reading = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
        using var writing = new AnonymousPipeClientStream(PipeDirection.Out, reading.ClientSafePipeHandle);
        int readerStarted = 0;
        var reader = scheduler.Spawn(() =>
        {
            Volatile.Write(ref readerStarted, 1);
            return reading.ReadByte(); // read(2) on the pipe, no blocking region
        });
        Watchdog.Until(() => Volatile.Read(ref readerStarted) == 1, scheduler.Kernel, "the reader to start");
        var writer = scheduler.Spawn(() =>
        {
            writing.WriteByte(42);
            writing.Flush();
        });

        SchedulerFixture.WaitAll(scheduler, reader, writer);
        Assert.Equal(42, reader.Join());
        DetectionFixture.AssertMarkedBy(scheduler, mode);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void Waiting_for_a_contended_lock_lets_the_worker_that_frees_it_run(BlockingDetection mode)
    {
        var scheduler = DetectionFixture.Create(mode);
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

        int waiterStarted = 0;
        var waiter = scheduler.Spawn(() =>
        {
            Volatile.Write(ref waiterStarted, 1);
            lock (gate)
            {
                return Worker.Current!.ServerIndex;
            }
        });
        Watchdog.Until(() => Volatile.Read(ref waiterStarted) == 1, scheduler.Kernel, "the waiter to start");
        var freer = scheduler.Spawn(release.Set);

        SchedulerFixture.WaitAll(scheduler, waiter, freer);
        Watchdog.Join(scheduler.Kernel, holder);
        Assert.Equal(0, waiter.Join());
        DetectionFixture.AssertMarkedBy(scheduler, mode);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_marked_worker_takes_the_unblock_path_at_its_next_safepoint(BlockingDetection mode)
    {
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(mode);

        // Marked BLOCKED, the sleeper runs on unmanaged until its safepoint, which queues it and returns once
        // its server runs it again.
        var run = UnannouncedSleeper.SleepWhileAnotherWorkerRuns(scheduler, () =>
        {
            Worker.Safepoint();
            return Worker.Current!.Kernel.IsWorkerThread;
        });
        Assert.True(run.AfterSleep);
        Watchdog.Until(() => detector.Stats.UnmanagedRuns >= 1, scheduler.Kernel, "the unmanaged run to be counted");
        Assert.True(detector.Stats.UnmanagedCpu >= TimeSpan.Zero);
        SchedulerFixture.Shutdown(scheduler);
    }
}
