using System.Runtime.CompilerServices;

namespace Umcg.Tests.Detection;

/// <summary>
/// A worker that only computes is preempted, never asleep: no detector may mark it. Checked over windows in
/// which the runtime put no worker to sleep either (<see cref="QuietWindow"/>): on a loaded machine a CPU-bound
/// worker does sleep now and then (the JIT waiting in <c>mprotect</c> for the memory-map lock, a thread woken
/// after a collection waiting for a preempted mutex holder), the detector rightly marks those sleeps, and they
/// say nothing about preemption.
/// </summary>
[Collection(DetectionAlone.Name)]
public sealed class CpuBoundTests
{
    private const int PollsToWatch = 100;
    private const int WindowsWanted = 3;
    private const int MaxWindows = 200;

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_spinning_worker_is_never_marked_blocked(BlockingDetection mode)
    {
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(mode);
        RuntimeHelpers.PrepareMethod(typeof(CpuBoundTests).GetMethod(nameof(SpinUntil), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MethodHandle);

        // Spins without a safepoint while the detector looks at it many times: the thread's own sleeps are
        // counted too, since this worker never parks on purpose within a window.
        var spinner = scheduler.Spawn(() =>
        {
            var windows = new QuietWindows(detector, switchesOfThisThread: true);
            while (windows.Counted < WindowsWanted && windows.Windows < MaxWindows)
            {
                // A worker marked for a real sleep takes the unblock path here, and is RUNNING (watched) again.
                Worker.Safepoint();
                SpinUntil(detector, detector.Stats.Polls + PollsToWatch);
                windows.Next();
            }

            return windows;
        });

        SchedulerFixture.WaitAll(scheduler, spinner);
        var watched = spinner.Join();
        Assert.True(watched.Counted >= WindowsWanted && watched.MarksInCounted == 0, watched.ToString());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void Workers_preempted_by_time_slice_and_switching_all_the_time_are_never_marked_blocked(BlockingDetection mode)
    {
        // Three spinners on one server with a 100 µs slice: they go through their own UMCG waits (switch-outs
        // that are not preemptions, with the state RUNNABLE, then RUNNING while the wake is on its way)
        // thousands of times while the detector watches.
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(mode, options: new UmcgSchedulerOptions { Policy = () => new FifoPolicy(TimeSpan.FromMicroseconds(100)) });
        var watched = WatchWorkers(scheduler, detector, 3, () =>
        {
            Thread.SpinWait(20);
            Worker.Safepoint();
        });

        // On a loaded machine the polls alone can pass before the server has ended a single slice: each
        // window also waits for slices to end.
        Assert.True(watched.Counted >= WindowsWanted && watched.MarksInCounted == 0, watched.ToString());
        Assert.True(scheduler.CountersForTests(0).Preemptions >= 3 * WindowsWanted);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void Workers_handing_off_with_yield_are_never_marked_blocked(BlockingDetection mode)
    {
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(mode);
        var watched = WatchWorkers(scheduler, detector, 2, Worker.Yield, preemptionsPerWindow: 0);
        Assert.True(watched.Counted >= WindowsWanted && watched.MarksInCounted == 0, watched.ToString());
        SchedulerFixture.Shutdown(scheduler);
    }

    /// <summary>
    /// Runs <paramref name="step"/> in a loop on <paramref name="count"/> workers while the test thread counts
    /// marks over windows of <see cref="PollsToWatch"/> polls (and <paramref name="preemptionsPerWindow"/> ended
    /// slices), until enough quiet ones were seen.
    /// </summary>
    private static QuietWindows WatchWorkers(UmcgScheduler scheduler, BlockingDetector detector, int count, Action step, int preemptionsPerWindow = 3)
    {
        bool stop = false;
        var workers = Enumerable.Range(0, count).Select(_ => scheduler.Spawn(() =>
        {
            while (!Volatile.Read(ref stop))
            {
                step();
            }
        })).ToArray();

        var windows = new QuietWindows(detector, switchesOfThisThread: false);
        while (windows.Counted < WindowsWanted && windows.Windows < MaxWindows)
        {
            long polls = detector.Stats.Polls + PollsToWatch;
            long preemptions = scheduler.CountersForTests(0).Preemptions + preemptionsPerWindow;
            Watchdog.Until(() => detector.Stats.Polls >= polls && scheduler.CountersForTests(0).Preemptions >= preemptions, scheduler.Kernel, "a window of polls");
            windows.Next();
        }

        Volatile.Write(ref stop, true);
        SchedulerFixture.WaitAll(scheduler, workers);
        Assert.All(workers, w => Assert.True(w.Completion.IsCompletedSuccessfully, w.Completion.Exception?.ToString()));
        return windows;
    }

    // Fully optimised at once and compiled before the worker runs: no JIT on the spinning thread.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void SpinUntil(BlockingDetector detector, long polls)
    {
        while (detector.Stats.Polls < polls)
        {
            Thread.SpinWait(20);
        }
    }
}
