using Umcg.Tests.Demotion;

namespace Umcg.Tests.Detection;

/// <summary>
/// The detector's calm interval: while workers run and none is seen asleep, it polls every
/// <see cref="DetectionOptions.CalmInterval"/> instead of every <see cref="DetectionOptions.ActiveInterval"/>; the
/// first sleep it sees brings the active interval back, and that sleep's successors are still marked.
/// </summary>
[Collection(DetectionAlone.Name)]
public sealed class CalmPollTests
{
    private const int SchedBatch = 3;

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
        var detector = DetectionFixture.Detector(scheduler);
        var stats = detector.Stats;
        long calmAtMark = -1;
        long calmAfter = -1;
        int policyWhenCalm = -1;
        int policyAfter = -1;

        var body = scheduler.Spawn(() =>
        {
            // A worker that only computes gives the detector nothing to find: it goes calm. The safepoint settles a mark
            // that a stall of the runtime (a collection, a JIT lock) may still earn it, which would keep the detector sharp.
            Watchdog.UntilAtSafepoints(() => stats.CalmPolls > 0, scheduler.Kernel, "a calm poll while the worker computes");
            long marksWhenCalm = stats.Marked;
            policyWhenCalm = ProcSched.Read(detector.ThreadIdForTests).Policy;

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
            policyAfter = ProcSched.Read(detector.ThreadIdForTests).Policy;
        });

        SchedulerFixture.WaitAll(scheduler, body);
        Assert.True(stats.Marked >= 1);
        Assert.Equal(calmAtMark, calmAfter);

        // Calm, its polls wait under SCHED_BATCH (they would preempt the computing worker for nothing); active, under
        // SCHED_OTHER again.
        Assert.Equal((SchedBatch, ProcSched.Other), (policyWhenCalm, policyAfter));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_spell_with_no_worker_running_does_not_end_calm()
    {
        // Calm after eight calm intervals (160 ms) of computing; backing off from 20 ms up to 80 ms while nothing runs.
        // Before, a poll that found nothing running restarted that count, so the polls after a quiet spell were active
        // ones for eight calm intervals: 640 of them at 250 µs, and no spell was ever followed by a calm poll soon.
        var scheduler = new UmcgScheduler(new UmcgSchedulerOptions
        {
            Servers = 1,
            Kernel = Parkers.NewKernel("futex"),
            Detection = new DetectionOptions
            {
                Mode = BlockingDetection.Monitor,
                CalmInterval = TimeSpan.FromMilliseconds(20),
                IdleInterval = TimeSpan.FromMilliseconds(80),
            },
        });
        var stats = DetectionFixture.Detector(scheduler).Stats;
        var body = scheduler.Spawn(() =>
        {
            Watchdog.UntilAtSafepoints(() => stats.CalmPolls > 0, scheduler.Kernel, "a calm poll while the worker computes");

            // A stall of the runtime right after a spell (a collection, a page fault) can look like a sleep and rightly
            // make the next polls active ones: so spells until one is followed by a calm poll among its next ten polls.
            Watchdog.Until(
                () =>
                {
                    // The one worker blocked (announced): its server runs nothing, and the polls find nothing running.
                    using (Worker.Blocking())
                    {
                        long before = stats.Polls;
                        Watchdog.Until(() => stats.Polls >= before + 3, scheduler.Kernel, "three polls while nothing runs");
                    }

                    // Computing again, which wakes the backed-off detector: calm from the first polls on.
                    long polls = stats.Polls;
                    long calm = stats.CalmPolls;
                    Watchdog.UntilAtSafepoints(() => stats.Polls >= polls + 10, scheduler.Kernel, "ten polls after the quiet spell");
                    return stats.CalmPolls > calm;
                },
                scheduler.Kernel,
                "a quiet spell followed by a calm poll among the next ten");
        });

        // The watchdog above fails the test with every task's state if no spell is ever followed by a calm poll.
        SchedulerFixture.WaitAll(scheduler, body);
        Assert.True(stats.CalmPolls > 0);
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
