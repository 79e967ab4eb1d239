namespace Umcg.Tests.Threading;

[Collection(ThreadingStress.Name)]
public sealed class SwitchToTests
{
    [Fact]
    public void SwitchTo_a_queued_worker_runs_it_next_through_next_tid()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        WorkerThread? target = null;
        int targetRan = 0;
        bool direct = false;
        bool ranBeforeReturn = false;
        using var firstStarted = new ManualResetEventSlim();

        var first = scheduler.Spawn(() =>
        {
            firstStarted.Set();

            // Let the second body start, run once and queue itself behind us.
            while (Volatile.Read(ref target) is null)
            {
                Worker.Yield();
            }

            direct = Worker.SwitchTo(target!);
            ranBeforeReturn = Volatile.Read(ref targetRan) == 1;
        });
        firstStarted.Wait();
        var second = scheduler.Spawn(() =>
        {
            Volatile.Write(ref target, Worker.Current);
            Worker.Yield();
            Volatile.Write(ref targetRan, 1);
        });

        SchedulerFixture.WaitAll(scheduler, first, second);
        first.Join();
        second.Join();
        Assert.True(direct);
        Assert.True(ranBeforeReturn);
        Assert.True(scheduler.Stats.DirectSwitches >= 1);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void SwitchTo_from_a_plain_thread_or_to_oneself_is_a_plain_yield()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        WorkerThread? worker = null;
        var self = scheduler.Spawn(() =>
        {
            worker = Worker.Current;
            return Worker.SwitchTo(worker!);
        });
        SchedulerFixture.WaitAll(scheduler, self);
        Assert.False(self.Join());
        Assert.False(Worker.SwitchTo(worker!));
        Assert.Throws<ArgumentNullException>(() => Worker.SwitchTo(null!));
        SchedulerFixture.Shutdown(scheduler);
    }
}
