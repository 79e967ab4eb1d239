namespace Umcg.Tests.Threading;

/// <summary>The intrusive wait queue on its own: order, removal from anywhere, and which queue holds a waiter.</summary>
public sealed class WaitQueueTests
{
    [Fact]
    public void Waiters_leave_in_arrival_order()
    {
        var queue = new WaitQueue();
        Waiter[] waiters = [new(), new(), new()];
        foreach (var w in waiters)
        {
            queue.Enqueue(w);
        }

        Assert.Equal(3, queue.Count);
        Assert.Same(waiters[0], queue.Dequeue());
        Assert.Same(waiters[1], queue.Dequeue());
        Assert.Same(waiters[2], queue.Dequeue());
        Assert.Null(queue.Dequeue());
        Assert.True(queue.IsEmpty);
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void Removal_from_the_middle_or_either_end_keeps_the_order_of_the_rest()
    {
        var queue = new WaitQueue();
        Waiter[] waiters = [new(), new(), new(), new(), new()];
        foreach (var w in waiters)
        {
            queue.Enqueue(w);
        }

        Assert.True(queue.Remove(waiters[2]));
        Assert.True(queue.Remove(waiters[0]));
        Assert.True(queue.Remove(waiters[4]));
        Assert.False(queue.Remove(waiters[2]));
        Assert.Equal(2, queue.Count);

        // A removed waiter may queue again, at the back.
        queue.Enqueue(waiters[0]);
        Assert.Same(waiters[1], queue.Dequeue());
        Assert.Same(waiters[3], queue.Dequeue());
        Assert.Same(waiters[0], queue.Dequeue());
        Assert.True(queue.IsEmpty);
    }

    [Fact]
    public void A_queue_removes_only_its_own_waiters()
    {
        var mine = new WaitQueue();
        var other = new WaitQueue();
        var w = new Waiter();
        other.Enqueue(w);

        Assert.False(mine.Remove(w));
        Assert.Equal(0, mine.Count);
        Assert.Equal(1, other.Count);
        Assert.Same(w, other.Dequeue());
        Assert.False(other.Remove(w));
    }
}
