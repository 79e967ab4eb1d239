namespace Umcg.Tests.Detection;

/// <summary>
/// The detector's calm interval: while workers run and none is seen asleep, it polls every
/// <see cref="DetectionOptions.CalmInterval"/> instead of every <see cref="DetectionOptions.ActiveInterval"/>; the
/// first sleep it sees brings the active interval back, and that sleep's successors are still marked.
/// </summary>
[Collection(DetectionAlone.Name)]
public sealed class CalmPollTests
{
    [Fact]
    public void Polls_stretch_while_no_worker_sleeps_and_a_seen_sleep_brings_the_active_interval_back()
    {
        // Calm after eight calm intervals (2 s) with nothing seen: long beside the active interval (250 µs), so that
        // the active stretch after a mark lasts far longer than the polls this test waits for, even on a loaded machine.
        var scheduler = new UmcgScheduler(new UmcgSchedulerOptions
        {
            Servers = 1,
            Kernel = Parkers.NewKernel("futex"),
            Detection = new DetectionOptions { Mode = BlockingDetection.Monitor, CalmInterval = TimeSpan.FromMilliseconds(250) },
        });
        var stats = DetectionFixture.Detector(scheduler).Stats;
        long calmAtMark = -1;
        long calmAfter = -1;

        var body = scheduler.Spawn(() =>
        {
            // A worker that only computes gives the detector nothing to find: it goes calm. The safepoint settles a mark
            // that a stall of the runtime (a collection, a JIT lock) may still earn it, which would keep the detector sharp.
            Watchdog.UntilAtSafepoints(() => stats.CalmPolls > 0, scheduler.Kernel, "a calm poll while the worker computes");
            long marksWhenCalm = stats.Marked;

            // Unannounced sleeps until one is marked: a calm poll sees one asleep, and the next one is marked.
            while (stats.Marked == marksWhenCalm)
            {
                Thread.Sleep(20);
                Worker.Safepoint();
            }

            // Back on the unblock path at the safepoint above; the detector polls at its active interval again.
            calmAtMark = stats.CalmPolls;
            long polls = stats.Polls;
            Watchdog.UntilAtSafepoints(() => stats.Polls >= polls + 20, scheduler.Kernel, "twenty polls after the mark");
            calmAfter = stats.CalmPolls;
        });

        SchedulerFixture.WaitAll(scheduler, body);
        Assert.True(stats.Marked >= 1);
        Assert.Equal(calmAtMark, calmAfter);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_calm_interval_shorter_than_the_active_one_is_refused()
    {
        var options = new DetectionOptions { ActiveInterval = TimeSpan.FromMilliseconds(1), CalmInterval = TimeSpan.FromMicroseconds(500) };
        var e = Assert.Throws<ArgumentOutOfRangeException>(options.Validate);
        Assert.Equal(nameof(DetectionOptions.CalmInterval), e.ParamName);
    }
}
