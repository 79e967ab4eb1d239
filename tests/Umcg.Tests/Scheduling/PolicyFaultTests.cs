namespace Umcg.Tests.Scheduling;

/// <summary>A custom run-queue policy that throws or lies is contained: its server falls back to FIFO, nothing is lost.</summary>
public sealed class PolicyFaultTests
{
    public enum Breakage
    {
        EnqueueThrows,
        DequeueThrows,
        ShouldPreemptThrows,
        TimeSliceThrows,
        ChargeThrows,
        DequeueReturnsNothing,
    }

    public static TheoryData<Breakage> Breakages => new(Enum.GetValues<Breakage>());

    [Theory]
    [MemberData(nameof(Breakages))]
    public void A_failing_policy_loses_no_body_and_its_server_goes_on(Breakage breakage)
    {
        const int Bodies = 200;
        var scheduler = SchedulerFixture.Create(servers: 2, options: new UmcgSchedulerOptions { Policy = () => new BreakingPolicy(breakage) });
        var reports = new ConcurrentQueue<UmcgUnhandledExceptionEventArgs>();
        scheduler.UnhandledException += (_, e) => reports.Enqueue(e);

        var runs = new int[Bodies];
        var handles = Enumerable.Range(0, Bodies).Select(i => scheduler.Spawn(() =>
        {
            for (int y = 0; y < 5; y++)
            {
                Worker.Yield();
            }

            Interlocked.Increment(ref runs[i]);
        })).ToArray();

        SchedulerFixture.WaitAll(scheduler, handles);
        Watchdog.Wait(scheduler.Kernel, scheduler.ShutdownAsync(), $"shutdown; faults: {string.Join(Environment.NewLine, scheduler.Faults)}");

        Assert.All(handles, h => Assert.True(h.Completion.IsCompletedSuccessfully));
        Assert.All(runs, r => Assert.Equal(1, r));

        // One report per server whose policy failed (at most once each), through the fault channel and Faults alike.
        Assert.InRange(scheduler.Faults.Count, 1, 2);
        Assert.Equal(scheduler.Faults.Count, reports.Count);
        Assert.All(reports, r =>
        {
            Assert.Equal(UmcgFaultSource.Policy, r.Source);
            Assert.NotNull(r.ServerIndex);
            Assert.Contains(r.Exception, scheduler.Faults);
            if (breakage == Breakage.DequeueReturnsNothing)
            {
                Assert.Contains("broke its contract", r.Exception.Message, StringComparison.Ordinal);
            }
            else
            {
                Assert.IsType<PolicyFailure>(r.Exception);
            }
        });
    }

    private sealed class PolicyFailure(string message) : Exception(message);

    /// <summary>A FIFO (queuing in WorkerQueues) that breaks on the fifth call of one method (after queuing, for Enqueue).</summary>
    private sealed class BreakingPolicy(Breakage breakage) : IRunQueuePolicy
    {
        private readonly FifoPolicy _fifo = new();
        private int _calls;

        public int Count => _fifo.Count;

        public void Enqueue(WorkerThread worker)
        {
            _fifo.Enqueue(worker);
            Break(Breakage.EnqueueThrows);
        }

        public WorkerThread? Dequeue()
        {
            Break(Breakage.DequeueThrows);
            return breakage == Breakage.DequeueReturnsNothing && Due() ? null : _fifo.Dequeue();
        }

        public bool Remove(WorkerThread worker) => _fifo.Remove(worker);

        public WorkerThread? Steal() => _fifo.Steal();

        public bool ShouldPreempt(WorkerThread running)
        {
            Break(Breakage.ShouldPreemptThrows);
            return false;
        }

        public TimeSpan? TimeSlice(WorkerThread running)
        {
            Break(Breakage.TimeSliceThrows);
            return null;
        }

        public void Charge(WorkerThread worker, long ranNs) => Break(Breakage.ChargeThrows);

        private bool Due() => ++_calls >= 5;

        private void Break(Breakage at)
        {
            if (breakage == at && Due())
            {
                throw new PolicyFailure($"{at} on call {_calls}");
            }
        }
    }
}
