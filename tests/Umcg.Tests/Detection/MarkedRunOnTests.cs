using Umcg.Scheduling.Demotion;
using Umcg.Tests.Demotion;

namespace Umcg.Tests.Detection;

/// <summary>
/// A worker the detector marked blocked that comes back and runs on without a safepoint: it competes with its server's
/// next worker for the CPU until it ends, so its thread is lowered as a demoted worker's would be, and put back after.
/// </summary>
public sealed class MarkedRunOnTests
{
    [Theory]
    [MemberData(nameof(DetectionFixture.Modes), MemberType = typeof(DetectionFixture))]
    public void A_marked_worker_that_runs_on_without_a_safepoint_is_lowered_and_put_back(BlockingDetection mode)
    {
        using var scheduler = DetectionFixture.Create(mode, options: new UmcgSchedulerOptions { Policy = () => new FifoPolicy() });
        Assert.NotEqual(DemotionMode.Unavailable, scheduler.DemotionMode);
        int released = 0;
        int runnerTid = 0;
        (int Policy, int Nice) seen = default;

        // The runner sleeps unannounced (the detector marks it, and its one server runs the other worker), then spins
        // with no safepoint until released.
        var runner = scheduler.Spawn(() =>
        {
            Volatile.Write(ref runnerTid, Worker.Current!.Tid);
            Thread.Sleep(50);
            while (Volatile.Read(ref released) == 0)
            {
                Thread.SpinWait(20);
            }
        });
        Watchdog.Until(() => Volatile.Read(ref runnerTid) != 0, scheduler.Kernel, "the runner runs");

        // The server's next worker, which runs while the runner is marked (it has safepoints and ends when released).
        var other = scheduler.Spawn(() =>
        {
            while (Volatile.Read(ref released) == 0)
            {
                Thread.SpinWait(20);
                Worker.Safepoint();
            }
        });

        // Fails (a stall, with a dump) rather than hangs if the runner is never lowered; it is still spinning, marked.
        try
        {
            Watchdog.Until(() => scheduler.Stats.LoweredAfterDetectorMark >= 1, scheduler.Kernel, "the marked runner lowered");
            seen = ProcSched.Read(Volatile.Read(ref runnerTid));
        }
        finally
        {
            Volatile.Write(ref released, 1); // so that a failure ends the bodies too
        }

        SchedulerFixture.WaitAll(scheduler, runner, other);
        Assert.True(seen.Policy == ProcSched.Idle || seen.Nice == 19, $"the marked runner ran on at policy {seen.Policy}, nice {seen.Nice}");
        Assert.Equal(1, scheduler.Stats.LoweredAfterDetectorMark);
        if (scheduler.DemotionMode == DemotionMode.Restorable)
        {
            // Put back once, by itself after its block at the end of its body: it runs its next body at its own priority.
            Watchdog.Until(() => scheduler.Stats.Restorations == 1, scheduler.Kernel, "the runner's thread restored");
            Assert.Equal((ProcSched.Other, 0), ProcSched.Read(runnerTid));
        }

        Assert.Empty(scheduler.Faults);
    }
}
