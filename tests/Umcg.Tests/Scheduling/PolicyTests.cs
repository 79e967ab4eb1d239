using Umcg.Kernel.Native;

namespace Umcg.Tests.Scheduling;

public sealed class PolicyTests
{
    private static UmcgSchedulerOptions With(Func<IRunQueuePolicy> policy) => SchedulerFixture.Undetected with { Policy = policy };

    [Fact]
    public void Strict_priority_runs_a_high_priority_worker_ahead_of_queued_low_priority_ones()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: With(() => new PriorityPolicy()));
        Assert.Equal(["high", "low0", "low1", "low2", "low3", "low4"], SchedulerFixture.RunFiveLowOneHighBehindABusyWorker(scheduler));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_cpu_bound_low_priority_worker_calling_safepoints_is_preempted_for_a_high_priority_one()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: With(() => new PriorityPolicy()));

        // Without preemption this never ends: one server, and the low worker spins until the high one ran.
        SchedulerFixture.RunCpuBoundUntilPreempted(scheduler, cpuBound: new WorkerOptions { Priority = 0 }, other: new WorkerOptions { Priority = 20 });
        Assert.True(scheduler.CountersForTests(0).Preemptions >= 1);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_time_slice_preempts_a_cpu_bound_worker_at_its_safepoints()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: With(() => new FifoPolicy(TimeSpan.FromMilliseconds(1))));
        SchedulerFixture.RunCpuBoundUntilPreempted(scheduler);
        Assert.True(scheduler.CountersForTests(0).Preemptions >= 1);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Fair_share_divides_the_cpu_by_weight()
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: With(() => new FairSharePolicy(TimeSpan.FromMilliseconds(1))));
        long heavy = 0;
        long light = 0;
        int stop = 0;
        using var bothStarted = new CountdownEvent(2);

        // CPU time each worker's thread received, published as it goes: what the policy divides is the server's
        // time, and iterations are a poor proxy for it on a loaded machine, where the OS may take the CPU from
        // the worker holding the server at any moment (the policy then charges wall time that bought no work).
        void Spin(ref long cpuNs)
        {
            long start = LinuxSyscalls.ThreadCpuNs();
            bothStarted.Signal();
            while (Volatile.Read(ref stop) == 0)
            {
                Volatile.Write(ref cpuNs, LinuxSyscalls.ThreadCpuNs() - start);
                Worker.Safepoint();
            }
        }

        var h = scheduler.Spawn(() => Spin(ref heavy), new WorkerOptions { Weight = 3072 });
        var l = scheduler.Spawn(() => Spin(ref light), new WorkerOptions { Weight = 1024 });

        // Let them share the CPU until the light one has had 100 ms of it: hundreds of 1 ms slices, enough for the
        // OS's interference to average out between the two.
        Watchdog.Until(() => bothStarted.IsSet && Volatile.Read(ref light) > 100_000_000, scheduler.Kernel, "light worker progress");
        Volatile.Write(ref stop, 1);
        SchedulerFixture.WaitAll(scheduler, h, l);

        // Weight 3:1; only the direction and a loose ratio are checked.
        double ratio = (double)Volatile.Read(ref heavy) / Volatile.Read(ref light);
        Assert.True(ratio > 1.5, $"heavy/light CPU = {ratio:F2} (heavy {heavy / 1e6:F1} ms, light {light / 1e6:F1} ms)");
        SchedulerFixture.Shutdown(scheduler);
    }
}
