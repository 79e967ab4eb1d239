using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Tests.Infrastructure;

namespace Umcg.Tests.Kernel;

/// <summary>The UMCG scenarios, on the raw kernel-half API with the canonical server loop, under both parkers.</summary>
public sealed unsafe class ScenarioTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Worker_never_runs_before_a_server_runs_it(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RawServer(kernel, run: false);
        int ran = 0;
        var worker = RawWorker.Start(kernel, server.Tid, _ => Volatile.Write(ref ran, 1), errors);

        // The worker has registered and queued itself: it is RUNNABLE on the list and must stay off the CPU.
        Watchdog.Until(() => Volatile.Read(ref server.Task->RunnableWorkersPtr) != 0, kernel, "worker queued");
        int tid = kernel.TidOfBlock(Volatile.Read(ref server.Task->RunnableWorkersPtr));
        Assert.NotEqual(0, tid);
        Assert.Equal(TaskState.Runnable, StateWord.StateOf(kernel.BlockOf(tid)));
        Assert.Equal(0, Volatile.Read(ref ran));

        server.Run();
        Watchdog.Join(kernel, worker);
        Assert.Equal(1, ran);
        Assert.Empty(errors);
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Many_round_trips_between_server_and_worker(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RawServer(kernel);
        const int RoundTrips = 100_000;
        int done = 0;
        var worker = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            for (int i = 0; i < RoundTrips; i++)
            {
                Assert.Equal(TaskState.Running, StateWord.StateOf(ctx.Task));
                ctx.Yield();
                done++;
            }
        }, errors);
        Watchdog.Join(kernel, worker);
        Assert.Empty(errors);
        Assert.Equal(RoundTrips, done);
    }
}
