using System.Threading.Channels;

namespace Umcg.Tests.Threading;

[Collection(ThreadingStress.Name)]
public sealed class ChannelTests
{
    public static TheoryData<string, int> Shapes => new()
    {
        { "futex", 1 },
        { "futex", 8 },
        { "futex", 0 }, // unbounded
        { "monitor", 8 },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Items_come_out_in_the_order_they_went_in(string parker, int capacity)
    {
        const int Items = 20_000;
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        var channel = capacity == 0 ? new UmcgChannel<int>() : new UmcgChannel<int>(capacity);
        var producer = scheduler.Spawn(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                channel.Send(i);
            }

            channel.Complete();
        });
        var consumer = scheduler.Spawn(() => channel.ReceiveAll().ToList());

        SchedulerFixture.WaitAll(scheduler, producer, consumer);
        producer.Join();
        Assert.Equal(Enumerable.Range(0, Items), consumer.Join());
        Assert.True(channel.IsCompleted);
        Assert.Equal(capacity == 0 ? null : capacity, channel.Capacity);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_full_bounded_channel_holds_senders_back_and_keeps_their_order()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var channel = new UmcgChannel<int>(4);
        for (int i = 0; i < 4; i++)
        {
            Assert.True(channel.TrySend(i));
        }

        Assert.False(channel.TrySend(99));
        var late = new List<WorkerHandle>();
        for (int i = 4; i < 7; i++)
        {
            int item = i;
            late.Add(scheduler.Spawn(() => channel.Send(item)));
            int senders = i - 3;
            ThreadingFixture.Until(scheduler, () => channel.WaitersForTests.Senders == senders, $"sender {i} waits");
        }

        Assert.Equal(4, channel.Count);
        Assert.All(late, h => Assert.False(h.IsCompleted));

        // Each receive makes room for exactly one waiting sender, oldest first; the channel never holds more than 4.
        var received = new List<int>();
        for (int i = 0; i < 7; i++)
        {
            Assert.True(channel.TryReceive(out int item));
            received.Add(item);
            Assert.InRange(channel.Count, 0, 4);
        }

        SchedulerFixture.WaitAll(scheduler, [.. late]);
        Assert.Equal(Enumerable.Range(0, 7), received);
        Assert.False(channel.TryReceive(out _));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, OnWorkerAndPlainThread]
    public void Timed_sends_and_receives_give_up_without_changing_the_channel(bool onWorker)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var (empty, full) = EmptyAndFull("kept");
        bool received = true;
        bool sent = true;
        Action body = () =>
        {
            received = empty.TryReceive(out _, TimeSpan.FromMilliseconds(20));
            sent = full.TrySend("dropped", TimeSpan.FromMilliseconds(20));
        };
        ThreadingFixture.Run(scheduler, body, onWorker, "timed calls");

        Assert.False(received);
        Assert.False(empty.IsCompleted);
        Assert.False(sent);
        Assert.Equal(1, full.Count);
        Assert.Equal("kept", full.Receive());
        Assert.Equal((0, 0), empty.WaitersForTests);
        Assert.Equal((0, 0), full.WaitersForTests);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, OnWorkerAndPlainThread]
    public void Canceled_sends_and_receives_throw_and_leave_nothing_behind(bool onWorker)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var (empty, full) = EmptyAndFull(1);
        using var cancelReceive = new CancellationTokenSource();
        using var cancelSend = new CancellationTokenSource();
        var receiver = ThreadingFixture.Start(scheduler, () => empty.Receive(cancelReceive.Token), onWorker);
        var sender = ThreadingFixture.Start(scheduler, () => full.Send(2, cancelSend.Token), onWorker);
        ThreadingFixture.Until(scheduler, () => empty.WaitersForTests.Receivers == 1 && full.WaitersForTests.Senders == 1, "both wait");

        cancelReceive.Cancel();
        cancelSend.Cancel();
        ThreadingFixture.Finish(scheduler, Task.WhenAll(receiver, sender).ContinueWith(_ => { }, TaskScheduler.Default), "canceled calls");
        ThreadingFixture.AssertCanceled(receiver);
        ThreadingFixture.AssertCanceled(sender);

        // Nothing waits any more, and the canceled send's item never entered.
        Assert.Equal((0, 0), empty.WaitersForTests);
        Assert.Equal((0, 0), full.WaitersForTests);
        Assert.Equal(1, full.Receive());
        Assert.False(full.TryReceive(out _));
        empty.Send(3);
        Assert.Equal(3, empty.Receive());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Completing_wakes_every_waiter_and_lets_the_rest_be_drained()
    {
        var scheduler = SchedulerFixture.Create(servers: 2);
        var drained = new UmcgChannel<int>(2);
        var receivers = Enumerable.Range(0, 3)
            .Select(_ => scheduler.Spawn(() => drained.TryReceive(out _, Timeout.InfiniteTimeSpan)))
            .ToArray();
        var throwing = scheduler.Spawn(() => drained.Receive());
        ThreadingFixture.Until(scheduler, () => drained.WaitersForTests.Receivers == 4, "receivers wait");

        var full = new UmcgChannel<int>(2);
        full.Send(1);
        full.Send(2);
        var sender = scheduler.Spawn(() => full.Send(3));
        ThreadingFixture.Until(scheduler, () => full.WaitersForTests.Senders == 1, "sender waits");

        Assert.True(drained.Complete());
        Assert.True(full.Complete());
        Assert.False(full.Complete());
        SchedulerFixture.WaitAll(scheduler, [.. receivers, throwing, sender]);

        Assert.All(receivers, r => Assert.False(r.Join()));
        Assert.Throws<ChannelClosedException>(() => throwing.Join());
        Assert.Throws<ChannelClosedException>(sender.Join);
        Assert.Throws<ChannelClosedException>(() => full.Send(4));
        Assert.Throws<ChannelClosedException>(() => full.TrySend(4));

        // Items sent before completion are still there, then completion shows.
        Assert.False(full.IsCompleted);
        Assert.Equal([1, 2], full.ReceiveAll());
        Assert.True(full.IsCompleted);
        Assert.Throws<ChannelClosedException>(() => full.Receive());
        Assert.False(full.TryReceive(out _));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, BothParkers]
    public void Many_producers_and_consumers_workers_and_threads_pass_every_item_exactly_once(string parker)
    {
        const int Producers = 20;
        const int Consumers = 20;
        const int PerProducer = 1000;
        var scheduler = SchedulerFixture.Create(parker, servers: 2);
        var channel = new UmcgChannel<int>(16);
        var seen = new int[Producers * PerProducer];
        int producersLeft = Producers;

        void Produce(int p)
        {
            for (int i = 0; i < PerProducer; i++)
            {
                channel.Send((p * PerProducer) + i);
            }

            if (Interlocked.Decrement(ref producersLeft) == 0)
            {
                channel.Complete();
            }
        }

        void Consume()
        {
            foreach (int item in channel.ReceiveAll())
            {
                Interlocked.Increment(ref seen[item]);
            }
        }

        var tasks = new List<Task>();
        for (int p = 0; p < Producers; p++)
        {
            int id = p;
            tasks.Add(ThreadingFixture.Start(scheduler, () => Produce(id), onWorker: p != 0));
        }

        for (int c = 0; c < Consumers; c++)
        {
            tasks.Add(ThreadingFixture.Start(scheduler, Consume, onWorker: c != 0));
        }

        ThreadingFixture.Finish(scheduler, Task.WhenAll(tasks), "producers and consumers");
        Assert.All(tasks, t => Assert.True(t.IsCompletedSuccessfully, t.Exception?.ToString()));
        Assert.All(seen, count => Assert.Equal(1, count));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory, EveryValue<ReceiverHandOff>]
    public void A_send_to_a_parked_receiver_on_the_same_server_hands_the_cpu_straight_to_it(ReceiverHandOff mode)
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var channel = new UmcgChannel<int>(mode);
        var done = new UmcgChannel<int>();
        WorkerThread? receiverThread = null;
        int received = 0;
        var receiver = scheduler.Spawn(() =>
        {
            Volatile.Write(ref receiverThread, Worker.Current);
            Volatile.Write(ref received, channel.Receive());
            done.Send(0);
        });

        // Parked: its server holds it aside, so the send's wake puts it in the run queue the sender switches from.
        ThreadingFixture.Until(
            scheduler,
            () => Volatile.Read(ref receiverThread) is { } r && WorkerThread.StateOf(r.ParkWord) == WorkerThread.ParkState.Parked,
            "receiver parks");
        long before = scheduler.Stats.DirectSwitches;
        int seenRightAfterSend = -1;
        var sender = scheduler.Spawn(() =>
        {
            channel.Send(42);

            // One server: the receiver can have run only if the send gave it the CPU.
            seenRightAfterSend = Volatile.Read(ref received);
            done.Receive();
        });

        SchedulerFixture.WaitAll(scheduler, receiver, sender);
        sender.Join();
        receiver.Join();
        Assert.Equal(42, received);
        Assert.Equal(mode == ReceiverHandOff.SwitchNow ? 42 : 0, seenRightAfterSend);

        // SwitchNow switched at the send; RunNext when the sender waited for "done".
        Assert.True(scheduler.Stats.DirectSwitches > before, $"direct switches {before} → {scheduler.Stats.DirectSwitches}");
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void With_RunNext_a_producer_fills_the_channel_before_its_consumer_runs()
    {
        const int Capacity = 16;
        const int Items = 10 * Capacity;
        var scheduler = SchedulerFixture.Create(servers: 1);
        var channel = new UmcgChannel<int>(Capacity, ReceiverHandOff.RunNext);
        var batches = new List<int>();
        WorkerThread? consumerThread = null;
        var consumer = scheduler.Spawn(() =>
        {
            Volatile.Write(ref consumerThread, Worker.Current);
            int expected = 0;
            while (expected < Items)
            {
                // One batch: what a single run of the consumer finds, without waiting again.
                Assert.Equal(expected++, channel.Receive());
                int batch = 1;
                while (channel.TryReceive(out int item))
                {
                    Assert.Equal(expected++, item);
                    batch++;
                }

                batches.Add(batch);
            }
        });
        ThreadingFixture.Until(
            scheduler,
            () => Volatile.Read(ref consumerThread) is { } c && WorkerThread.StateOf(c.ParkWord) == WorkerThread.ParkState.Parked,
            "consumer parks");
        var producer = scheduler.Spawn(() =>
        {
            for (int i = 0; i < Items; i++)
            {
                channel.Send(i);
            }
        });

        SchedulerFixture.WaitAll(scheduler, consumer, producer);
        producer.Join();
        consumer.Join();

        // One server: the consumer only runs once the producer waits on a full channel, so apart from the last
        // batch it always finds a full channel (plus the item handed to it while it was parked).
        Assert.Equal(Items, batches.Sum());
        Assert.All(batches.SkipLast(1), b => Assert.True(b >= Capacity, $"batches: {string.Join(",", batches)}"));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Misuse_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmcgChannel<int>(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new UmcgChannel<int>(4, (ReceiverHandOff)7));
        var channel = new UmcgChannel<int>(1);
        Assert.Throws<ArgumentOutOfRangeException>(() => channel.TrySend(1, TimeSpan.FromMilliseconds(-5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => channel.TryReceive(out _, TimeSpan.FromMilliseconds(-5)));
        Assert.Equal(0, channel.Count);
    }

    /// <summary>Two one-item channels: one empty (a receive waits), one holding <paramref name="item"/> (a send waits).</summary>
    private static (UmcgChannel<T> Empty, UmcgChannel<T> Full) EmptyAndFull<T>(T item)
    {
        var full = new UmcgChannel<T>(1);
        full.Send(item);
        return (new UmcgChannel<T>(1), full);
    }
}
