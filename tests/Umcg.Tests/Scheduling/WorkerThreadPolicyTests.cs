using Umcg.Diagnostics;
using Umcg.Kernel.Native;

namespace Umcg.Tests.Scheduling;

public sealed class WorkerThreadPolicyTests
{
    [Theory]
    [InlineData(true, LinuxSyscalls.SchedBatch)]
    [InlineData(false, LinuxSyscalls.SchedOther)]
    public void Worker_threads_run_under_SCHED_BATCH_unless_told_not_to_and_servers_keep_SCHED_OTHER(bool batch, int expected)
    {
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { BatchWorkerThreads = batch });
        var h = scheduler.Spawn(() =>
        {
            Assert.Equal(0, LinuxSyscalls.GetSchedPolicy(0, out int policy, out _, out _));
            return policy;
        });
        SchedulerFixture.WaitAll(scheduler, h);
        Assert.Equal(expected, h.Join());

        int serverTid = scheduler.SampleServers()[0].Tid;
        Assert.Equal(0, LinuxSyscalls.GetSchedPolicy(serverTid, out int serverPolicy, out _, out _));
        Assert.Equal(LinuxSyscalls.SchedOther, serverPolicy);
        SchedulerFixture.Shutdown(scheduler);
    }
}
