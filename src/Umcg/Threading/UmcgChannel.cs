using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;
using Umcg.Scheduling;

namespace Umcg.Threading;

/// <summary>
/// A worker-aware FIFO channel, bounded (senders wait while it is full: back-pressure) or unbounded. A send to
/// a receiver that is already waiting hands the item straight to it and, when both are workers of the same
/// server, switches the CPU straight to the receiver: at once (<see cref="ReceiverHandOff.SwitchNow"/>, the
/// default) or at the sender's next wait (<see cref="ReceiverHandOff.RunNext"/>).
/// </summary>
/// <remarks>
/// <para>Items come out in the order they went in; waiting receivers are served first in, first out, and so are
/// waiting senders. <see cref="Complete"/> closes the channel for sending; items already in it can still be
/// received, after which receiving reports completion.</para>
/// <para>A worker that waits parks and gives its CPU straight to the next runnable worker of its server; a
/// thread that is not a worker waits on a monitor, so the same channel connects workers and ordinary threads.</para>
/// </remarks>
/// <typeparam name="T">The item type.</typeparam>
/// <example>
/// <code>
/// var channel = new UmcgChannel&lt;int&gt;(capacity: 64);
/// scheduler.Spawn(() =&gt; { for (int i = 0; i &lt; 100; i++) channel.Send(i); channel.Complete(); });
/// scheduler.Spawn(() =&gt; { foreach (int i in channel.ReceiveAll()) Console.WriteLine(i); });
/// </code>
/// </example>
public sealed class UmcgChannel<T> : IWaitSite
{
    private const int Unbounded = int.MaxValue;

    // Everything below is guarded by _gate. Invariants: receivers wait only while _items is empty; senders
    // wait only while _items holds _capacity items; a completed channel has no waiters.
    private readonly Lock _gate = new();
    private readonly Queue<T> _items = new();
    private readonly WaitQueue _receivers = new();
    private readonly WaitQueue _senders = new();
    private readonly int _capacity;
    private bool _completed;

    /// <summary>Creates an unbounded channel: sends never wait.</summary>
    /// <param name="handOff">What a send does for a waiting receiver on the sender's server; see <see cref="ReceiverHandOff"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">An undefined <paramref name="handOff"/>.</exception>
    public UmcgChannel(ReceiverHandOff handOff = ReceiverHandOff.SwitchNow)
        : this(Unbounded, handOff)
    {
    }

    /// <summary>Creates a channel that holds at most <paramref name="capacity"/> items; a send to a full channel waits.</summary>
    /// <param name="capacity">The most items the channel holds.</param>
    /// <param name="handOff">What a send does for a waiting receiver on the sender's server; see <see cref="ReceiverHandOff"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is less than 1, or an undefined <paramref name="handOff"/>.</exception>
    public UmcgChannel(int capacity, ReceiverHandOff handOff = ReceiverHandOff.SwitchNow)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        if (!Enum.IsDefined(handOff))
        {
            throw new ArgumentOutOfRangeException(nameof(handOff), handOff, "Not a ReceiverHandOff value.");
        }

        _capacity = capacity;
        HandOff = handOff;
    }

    /// <summary>What a send does for a waiting receiver on the sender's server.</summary>
    public ReceiverHandOff HandOff { get; }

    /// <summary>The most items the channel holds, or null if unbounded.</summary>
    public int? Capacity => _capacity == Unbounded ? null : _capacity;

    /// <summary>Items in the channel now (a snapshot).</summary>
    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _items.Count;
            }
        }
    }

    /// <summary>Whether the channel was completed and every item in it has been received.</summary>
    public bool IsCompleted
    {
        get
        {
            lock (_gate)
            {
                return _completed && _items.Count == 0;
            }
        }
    }

    /// <summary>How many receivers and senders wait now.</summary>
    internal (int Receivers, int Senders) WaitersForTests
    {
        get
        {
            lock (_gate)
            {
                return (_receivers.Count, _senders.Count);
            }
        }
    }

    Lock IWaitSite.Gate => _gate;

    /// <summary>Sends <paramref name="item"/>, waiting for room as long as needed.</summary>
    /// <exception cref="ChannelClosedException">The channel is (or was, while waiting) completed; the item was not sent.</exception>
    public void Send(T item) => Send(item, Deadline.None, CancellationToken.None, wait: true);

    /// <summary>Sends <paramref name="item"/>, waiting for room until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <exception cref="ChannelClosedException">The channel is (or was, while waiting) completed; the item was not sent.</exception>
    /// <exception cref="OperationCanceledException">Canceled before there was room; the item was not sent.</exception>
    public void Send(T item, CancellationToken cancellationToken) => Send(item, Deadline.None, cancellationToken, wait: true);

    /// <summary>Sends <paramref name="item"/> if there is room now.</summary>
    /// <returns>False if the channel is full.</returns>
    /// <exception cref="ChannelClosedException">The channel is completed.</exception>
    public bool TrySend(T item) => Send(item, Deadline.None, CancellationToken.None, wait: false);

    /// <summary>Sends <paramref name="item"/>, waiting at most <paramref name="timeout"/> for room.</summary>
    /// <returns>False if the timeout passed first (the item was not sent).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="ChannelClosedException">The channel is (or was, while waiting) completed; the item was not sent.</exception>
    public bool TrySend(T item, TimeSpan timeout) => TrySend(item, timeout, CancellationToken.None);

    /// <summary>Sends <paramref name="item"/>, waiting at most <paramref name="timeout"/> for room and until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <returns>False if the timeout passed first (the item was not sent).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="ChannelClosedException">The channel is (or was, while waiting) completed; the item was not sent.</exception>
    /// <exception cref="OperationCanceledException">Canceled before there was room; the item was not sent.</exception>
    public bool TrySend(T item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Deadline.After(timeout);
        return Send(item, deadline, cancellationToken, wait: timeout != TimeSpan.Zero);
    }

    /// <summary>Receives the oldest item, waiting as long as needed.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and empty.</exception>
    public T Receive() => Receive(CancellationToken.None);

    /// <summary>Receives the oldest item, waiting until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <exception cref="ChannelClosedException">The channel is completed and empty.</exception>
    /// <exception cref="OperationCanceledException">Canceled before an item arrived.</exception>
    public T Receive(CancellationToken cancellationToken) =>
        TryReceive(out var item, Deadline.None, cancellationToken, wait: true)
            ? item
            : throw new ChannelClosedException("The channel is completed and empty.");

    /// <summary>Receives the oldest item if there is one now.</summary>
    /// <returns>False if the channel is empty (see <see cref="IsCompleted"/> for whether more can come).</returns>
    public bool TryReceive([MaybeNullWhen(false)] out T item) => TryReceive(out item, Deadline.None, CancellationToken.None, wait: false);

    /// <summary>Receives the oldest item, waiting at most <paramref name="timeout"/>.</summary>
    /// <returns>False if the timeout passed first, or the channel is completed and empty (<see cref="IsCompleted"/> tells which).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    public bool TryReceive([MaybeNullWhen(false)] out T item, TimeSpan timeout) => TryReceive(out item, timeout, CancellationToken.None);

    /// <summary>Receives the oldest item, waiting at most <paramref name="timeout"/> and until <paramref name="cancellationToken"/> is canceled.</summary>
    /// <returns>False if the timeout passed first, or the channel is completed and empty (<see cref="IsCompleted"/> tells which).</returns>
    /// <exception cref="ArgumentOutOfRangeException">A negative timeout other than infinite.</exception>
    /// <exception cref="OperationCanceledException">Canceled before an item arrived.</exception>
    public bool TryReceive([MaybeNullWhen(false)] out T item, TimeSpan timeout, CancellationToken cancellationToken)
    {
        long deadline = Deadline.After(timeout);
        return TryReceive(out item, deadline, cancellationToken, wait: timeout != TimeSpan.Zero);
    }

    /// <summary>Receives items until the channel is completed and empty.</summary>
    /// <exception cref="OperationCanceledException">Canceled while waiting for an item.</exception>
    public IEnumerable<T> ReceiveAll(CancellationToken cancellationToken = default)
    {
        while (TryReceive(out var item, Deadline.None, cancellationToken, wait: true))
        {
            yield return item;
        }
    }

    /// <summary>
    /// Closes the channel for sending: waiting receivers (the channel is empty, or they would not wait) and
    /// waiting senders (their items are not sent) get <see cref="ChannelClosedException"/> or a false result.
    /// Items already in the channel can still be received.
    /// </summary>
    /// <returns>False if it was already completed.</returns>
    public bool Complete()
    {
        // Woken under the lock: a dequeued waiter may run at once and relink itself elsewhere, so the queues
        // must not be walked after the lock is released.
        lock (_gate)
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            while (_receivers.Dequeue() is { } receiver)
            {
                receiver.Answer(Waiter.Closed).Wake();
            }

            while (_senders.Dequeue() is ItemWaiter<T> sender)
            {
                sender.Item = default;
                sender.Answer(Waiter.Closed).Wake();
            }

            return true;
        }
    }

    private bool Send(T item, long deadlineNs, CancellationToken cancellationToken, bool wait)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ItemWaiter<T>? sender = null;
        WakeTicket receiver;
        lock (_gate)
        {
            if (_completed)
            {
                throw new ChannelClosedException("The channel is completed: nothing more can be sent.");
            }

            if (_receivers.Dequeue() is ItemWaiter<T> waiting)
            {
                // A receiver waits only while the channel is empty: the item goes straight to it.
                waiting.Item = item;
                receiver = waiting.Answer(Waiter.Granted);
            }
            else if (_items.Count < _capacity)
            {
                _items.Enqueue(item);
                return true;
            }
            else if (!wait)
            {
                return false;
            }
            else
            {
                sender = Waiter.ForCurrentThread<ItemWaiter<T>>();
                sender.Receiving = false;
                sender.Item = item;
                sender.Arm(deadlineNs);
                _senders.Enqueue(sender);
                receiver = default;
            }
        }

        if (sender is null)
        {
            HandOver(receiver);
            return true;
        }

        int outcome = WaitSite.Await(this, sender, cancellationToken);
        sender.Item = default;
        return outcome switch
        {
            Waiter.Granted => true,
            Waiter.Closed => throw new ChannelClosedException("The channel was completed while the send waited for room; the item was not sent."),
            _ => false,
        };
    }

    /// <summary>Wakes a receiver that was handed an item; a worker on the caller's server gets the caller's CPU (see <see cref="ReceiverHandOff"/>).</summary>
    private void HandOver(WakeTicket receiver)
    {
        receiver.Wake();
        if (receiver.Worker is { } target
            && Worker.Active() is { } self
            && self.BlockingDepth == 0
            && ReferenceEquals(target.Server, self.Server))
        {
            // The wake queued it on our server's run queue (or it is still on its way there; then SwitchTo is a
            // plain yield and RunNext finds nothing to take): the producer hands its CPU straight to its consumer.
            if (HandOff == ReceiverHandOff.SwitchNow)
            {
                Worker.SwitchTo(target);
            }
            else
            {
                Waiter.RunNextOnMyServer(target);
            }
        }
    }

    private bool TryReceive([MaybeNullWhen(false)] out T item, long deadlineNs, CancellationToken cancellationToken, bool wait)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ItemWaiter<T>? receiver = null;
        WakeTicket sender = default;
        lock (_gate)
        {
            if (_items.TryDequeue(out item))
            {
                // Room now: the oldest waiting sender's item moves in behind the others (FIFO kept).
                if (_senders.Dequeue() is ItemWaiter<T> waiting)
                {
                    _items.Enqueue(waiting.Item!);
                    waiting.Item = default;
                    sender = waiting.Answer(Waiter.Granted);
                }
            }
            else if (_completed || !wait)
            {
                return false;
            }
            else
            {
                receiver = Waiter.ForCurrentThread<ItemWaiter<T>>();
                receiver.Receiving = true;
                receiver.Arm(deadlineNs);
                _receivers.Enqueue(receiver);
            }
        }

        return receiver is null ? TookFromBuffer(sender) : AwaitItem(receiver, out item, cancellationToken);
    }

    private static bool TookFromBuffer(WakeTicket sender)
    {
        sender.Wake();
        return true;
    }

    private bool AwaitItem(ItemWaiter<T> receiver, [MaybeNullWhen(false)] out T item, CancellationToken cancellationToken)
    {
        int outcome = WaitSite.Await(this, receiver, cancellationToken);
        item = receiver.Item!;
        receiver.Item = default;
        return outcome == Waiter.Granted;
    }

    bool IWaitSite.TryRemove(Waiter waiter) => _receivers.Remove(waiter) || _senders.Remove(waiter);

    void IWaitSite.ReturnGrant(Waiter waiter)
    {
        // A receiver that cannot take the item it was handed passes it on, so that no item is lost; a sender
        // whose item was taken has nothing to give back.
        if (waiter is not ItemWaiter<T> { Receiving: true } receiver)
        {
            return;
        }

        var item = receiver.Item!;
        receiver.Item = default;
        WakeTicket next = default;
        lock (_gate)
        {
            if (_receivers.Dequeue() is ItemWaiter<T> other)
            {
                other.Item = item;
                next = other.Answer(Waiter.Granted);
            }
            else
            {
                // Back in front (it was the oldest), even if that is one more than the capacity for a moment.
                var rest = _items.ToArray();
                _items.Clear();
                _items.Enqueue(item);
                foreach (var x in rest)
                {
                    _items.Enqueue(x);
                }
            }
        }

        next.Wake();
    }
}
