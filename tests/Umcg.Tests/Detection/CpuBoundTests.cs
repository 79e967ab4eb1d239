using Umcg.Kernel.Detection;
using Umcg.Scheduling;
using Umcg.Scheduling.Policies;
using Umcg.Tests.Scheduling;

namespace Umcg.Tests.Detection;

/// <summary>A worker that only computes is preempted, never asleep: no detector may mark it.</summary>
public sealed class CpuBoundTests
{
    private const int PollsToWatch = 100;

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_spinning_worker_is_never_marked_blocked(BlockingDetection mode)
    {
        var scheduler = DetectionFixture.Create(mode);
        var detector = DetectionFixture.Detector(scheduler);

        // Spins, without a safepoint, until the detector has looked at it many times.
        var spinner = scheduler.Spawn(() =>
        {
            long until = detector.Stats.Polls + PollsToWatch;
            while (detector.Stats.Polls < until)
            {
                Thread.SpinWait(20);
            }
        });

        SchedulerFixture.WaitAll(scheduler, spinner);
        spinner.Join();
        Assert.Equal(0, detector.Stats.Marked);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void Workers_preempted_by_time_slice_and_switching_all_the_time_are_never_marked_blocked(BlockingDetection mode)
    {
        // Three spinners on one server with a 100 µs slice: they go through their own UMCG waits (switch-outs
        // that are not preemptions, with the state RUNNABLE, then RUNNING while the wake is on its way)
        // thousands of times while the detector watches.
        var scheduler = DetectionFixture.Create(mode, options: new UmcgSchedulerOptions { Policy = () => new FifoPolicy(TimeSpan.FromMicroseconds(100)) });
        var detector = DetectionFixture.Detector(scheduler);
        long until = detector.Stats.Polls + PollsToWatch;

        // Until the detector has watched long enough and the slices have ended often enough: on a loaded
        // machine the polls alone can pass before the server has ended a single slice.
        var spinners = Enumerable.Range(0, 3).Select(_ => scheduler.Spawn(() =>
        {
            while (detector.Stats.Polls < until || scheduler.CountersForTests(0).Preemptions < 3)
            {
                Thread.SpinWait(20);
                Worker.Safepoint();
            }
        })).ToArray();

        SchedulerFixture.WaitAll(scheduler, spinners);
        Assert.All(spinners, s => s.Join());
        Assert.True(scheduler.CountersForTests(0).Preemptions >= 3);
        Assert.True(detector.Stats.Marked == 0, $"{detector.Stats.Marked} marks, {detector.Stats.Rejected} rejected, {detector.Stats.Polls} polls");
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void Workers_handing_off_with_yield_are_never_marked_blocked(BlockingDetection mode)
    {
        var scheduler = DetectionFixture.Create(mode);
        var detector = DetectionFixture.Detector(scheduler);
        long until = detector.Stats.Polls + PollsToWatch;
        var yielders = Enumerable.Range(0, 2).Select(_ => scheduler.Spawn(() =>
        {
            while (detector.Stats.Polls < until)
            {
                Worker.Yield();
            }
        })).ToArray();

        SchedulerFixture.WaitAll(scheduler, yielders);
        Assert.All(yielders, y => y.Join());
        Assert.Equal(0, detector.Stats.Marked);
        SchedulerFixture.Shutdown(scheduler);
    }
}
