using Umcg.Kernel.Parking;

namespace Umcg.Tests.Kernel;

/// <summary>
/// A detector's mark that lands on a worker's own wait in flight (made RUNNING by its server, not yet back
/// from the park) must not break the wait: the worker finds itself BLOCKED, takes the unblock path there and
/// waits on until a server runs it again.
/// </summary>
public sealed unsafe class MarkedWaitTests
{
    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void A_mark_landing_on_a_wait_in_flight_requeues_the_worker_and_the_wait_succeeds(string parker)
    {
        var marking = new MarkOnWakeParker(parker == "futex" ? FutexParker.Instance : MonitorParker.Instance);
        var kernel = new UmcgKernel(marking);
        marking.Kernel = kernel;
        var errors = new ConcurrentQueue<Exception>();
        using var server = new RunQueueServer(kernel);
        int yieldsBack = 0;
        int tid = 0;

        var worker = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            Volatile.Write(ref tid, ctx.Tid);
            ctx.Yield();

            // The server's next start of this worker wakes it, and the mark lands right after the wake's
            // RUNNABLE → RUNNING, before this thread returns from its park.
            marking.Arm(ctx.Task, ctx.Tid);
            ctx.Yield();
            Volatile.Write(ref yieldsBack, 1);
            Assert.Equal(TaskState.Running, StateWord.StateOf(ctx.Task));
            ctx.Yield();
        }, errors, "marked worker");

        Watchdog.Join(kernel, () => server.Describe(), worker);
        Assert.Empty(errors);
        Assert.Empty(server.Errors);
        Assert.Equal(Errno.Ok, marking.MarkResult);
        Assert.Equal(1, Volatile.Read(ref yieldsBack));

        // Picked once after registering, once after each of the three yields, and once more after the mark.
        Assert.Equal(5, server.Started.Count(started => started == Volatile.Read(ref tid)));
    }
}
