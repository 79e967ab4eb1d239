using Umcg.Cli.Workloads.Scale;
using Umcg.Tests.Kernel;

namespace Umcg.Tests.Cli;

/// <summary>The scale workload's gate: waiters sleep in the kernel until it opens, and all of them pass then.</summary>
public sealed class KernelGateTests
{
    [Fact]
    public void Waiters_sleep_until_the_gate_opens_and_every_one_passes_then()
    {
        const int Waiters = 16;
        var gate = new KernelGate();
        var tids = new int[Waiters];
        int arrived = 0;
        int passed = 0;
        var threads = Enumerable.Range(0, Waiters).Select(i => new Thread(() =>
        {
            Volatile.Write(ref tids[i], UmcgKernel.CurrentTid);
            Interlocked.Increment(ref arrived);
            gate.Wait();
            Interlocked.Increment(ref passed);
        }) { IsBackground = true, Name = $"gate waiter {i}" }).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        // Every waiter asleep in the kernel, and none through: a gate that did not block would never get here.
        Watchdog.Until(
            () => Volatile.Read(ref arrived) == Waiters && tids.All(tid => ThreadProc.State(tid) == 'S'),
            UmcgKernel.Default,
            "every waiter sleeps at the closed gate");
        Assert.Equal(0, Volatile.Read(ref passed));

        gate.Open();
        Watchdog.Join(UmcgKernel.Default, threads);
        Assert.Equal(Waiters, passed);

        gate.Wait(); // open for good: a later waiter goes straight through
    }
}
