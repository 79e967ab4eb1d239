using Umcg.Diagnostics;
using Umcg.Kernel.Native;
using Umcg.Scheduling.Demotion;

namespace Umcg.Tests.Scheduling;

/// <summary>
/// The OS time slice asked for the scheduler's threads (ThreadSlice.Linux.cs): servers and workers carry it from their
/// start, through every class change (SCHED_BATCH while blocked, SCHED_OTHER to yield) and a demotion's restoration;
/// without one asked they keep the OS's own; under <see cref="OsTimeSliceMode.WhenContended"/> they ask it only while
/// other processes keep the CPUs busy (here a fake sample says how busy). Read with sched_getattr, which reports
/// slices from Linux 6.12 on: on an older kernel (it reports 0) the tests check only that every step still runs.
/// </summary>
public sealed class OsTimeSliceTests
{
    private static readonly TimeSpan Asked = TimeSpan.FromMicroseconds(250);

    private static long SliceOf(int tid)
    {
        Assert.Equal(0, LinuxSyscalls.GetSchedSlice(tid, out long slice));
        return slice;
    }

    /// <summary>Whether this kernel reports slices: a thread that never asked for one reads its default.</summary>
    private static bool KernelReportsSlices => SliceOf(0) > 0;

    [Fact]
    public void Servers_and_workers_run_with_the_asked_slice_through_blocking_yielding_and_parking()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with { OsTimeSlice = Asked, OsTimeSliceMode = OsTimeSliceMode.Always });
        var h = scheduler.Spawn(() =>
        {
            long atStart = SliceOf(0);
            long inRegion;
            int policyInRegion;
            using (Worker.Blocking())
            {
                inRegion = SliceOf(0);
                Assert.Equal(0, LinuxSyscalls.GetSchedPolicy(0, out policyInRegion, out _, out _));
            }

            Worker.Yield();
            long afterYield = SliceOf(0);
            Worker.Sleep(TimeSpan.FromMilliseconds(1));
            return (atStart, inRegion, policyInRegion, afterYield, afterPark: SliceOf(0));
        });
        SchedulerFixture.WaitAll(scheduler, h);
        var (atStart, inRegion, policyInRegion, afterYield, afterPark) = h.Join();
        long server = SliceOf(scheduler.SampleServers()[0].Tid);
        if (!KernelReportsSlices)
        {
            return;
        }

        long asked = (long)Asked.TotalNanoseconds;
        Assert.Equal([asked, asked, asked, asked, asked], [atStart, inRegion, afterYield, afterPark, server]);
        _ = policyInRegion; // SCHED_BATCH or SCHED_OTHER, as the region's arrival decided: the slice holds in both
    }

    [Fact]
    public void A_thread_a_body_starts_gets_the_OS_slice_not_the_workers()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with { OsTimeSlice = Asked, OsTimeSliceMode = OsTimeSliceMode.Always });
        var h = scheduler.Spawn(() =>
        {
            long child = -1;
            var thread = new Thread(() => child = SliceOf(0));
            thread.Start();
            using (Worker.Blocking())
            {
                thread.Join();
            }

            return (own: SliceOf(0), child);
        });
        SchedulerFixture.WaitAll(scheduler, h);
        var (own, child) = h.Join();
        if (KernelReportsSlices)
        {
            Assert.Equal((long)Asked.TotalNanoseconds, own);
            Assert.Equal(SliceOf(0), child); // reset on fork: the default, as this test thread has
        }
    }

    [Fact]
    public void Without_an_asked_slice_workers_and_servers_keep_the_OS_default()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with { OsTimeSlice = null });
        var h = scheduler.Spawn(() => SliceOf(0));
        SchedulerFixture.WaitAll(scheduler, h);
        long own = SliceOf(0); // this test thread never asked for one
        Assert.Equal(own, h.Join());
        Assert.Equal(own, SliceOf(scheduler.SampleServers()[0].Tid));
    }

    [Fact]
    public void A_restored_worker_thread_gets_the_asked_slice_back()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with
        {
            Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan),
            OsTimeSlice = Asked,
            OsTimeSliceMode = OsTimeSliceMode.Always,
        });
        if (scheduler.DemotionMode != DemotionMode.Restorable)
        {
            Assert.Equal(DemotionMode.OneWay, scheduler.DemotionMode); // nothing is restored: the thread retires
            return;
        }

        Demotion.DemotionScenario.RunSpinnerReleasedByHigher(scheduler, out int spinnerTid);
        Assert.Equal(1, scheduler.Stats.Restorations);

        // The spinner's thread, restored from SCHED_IDLE and idle in the pool now, has the asked slice again.
        var (policy, _) = Demotion.ProcSched.Read(spinnerTid);
        Assert.Equal(Demotion.ProcSched.Other, policy);
        if (KernelReportsSlices)
        {
            Assert.Equal((long)Asked.TotalNanoseconds, SliceOf(spinnerTid));
        }
    }

    [Fact]
    public void When_contended_a_worker_gives_the_slice_up_after_four_quiet_samples_and_asks_it_again_after_a_busy_one()
    {
        double others = 0; // the other processes' CPUs, as the fake sample reports them
        using var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with
        {
            OsTimeSlice = Asked,
            OthersCpuForTests = _ => Volatile.Read(ref others),
        });
        long osOwn = SliceOf(0); // this test thread never asked for one
        var h = scheduler.Spawn(() =>
        {
            long atStart = InRegion(); // the short slice until the machine is seen quiet

            for (int i = 0; i < MachineContention.QuietSamplesToRelax; i++)
            {
                scheduler.OsSlice.Contention!.SampleNow();
            }

            long quiet = InRegion();
            Volatile.Write(ref others, 1.0);
            scheduler.OsSlice.Contention!.SampleNow();
            return (atStart, quiet, busy: InRegion());
        });
        SchedulerFixture.WaitAll(scheduler, h);
        var (atStart, quiet, busy) = h.Join();
        Assert.Equal(2, scheduler.Stats.OsSliceChanges);
        Assert.Equal(Asked, scheduler.Stats.OsSliceNow);
        if (KernelReportsSlices)
        {
            Assert.Equal([(long)Asked.TotalNanoseconds, osOwn, (long)Asked.TotalNanoseconds], [atStart, quiet, busy]);
        }

        // The slice a worker waits with in a blocking region: the one it asked on the region's way in.
        static long InRegion()
        {
            using (Worker.Blocking())
            {
                return SliceOf(0);
            }
        }
    }

    [Fact]
    public void Always_the_slice_is_fixed_whatever_a_sample_would_say()
    {
        using var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with { OsTimeSlice = Asked, OsTimeSliceMode = OsTimeSliceMode.Always });
        Assert.False(scheduler.OsSlice.Adapts);
        Assert.Null(scheduler.OsSlice.Contention);
        Assert.Equal(Asked, scheduler.Stats.OsSliceNow);
        Assert.Equal(0, scheduler.Stats.OsSliceChanges);
    }
}
