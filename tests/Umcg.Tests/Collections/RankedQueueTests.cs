using Umcg.Collections;

namespace Umcg.Tests.Collections;

/// <summary>The admission queue's order: highest rank first, oldest first within a rank, and removal from anywhere.</summary>
public sealed class RankedQueueTests
{
    [Fact]
    public void Entries_leave_by_rank_then_by_age()
    {
        var queue = new RankedQueue<string>(4);
        foreach (var (name, rank) in new[] { ("a", 0), ("b", 2), ("c", 0), ("d", 3), ("e", 2) })
        {
            queue.AddLast(new LinkedListNode<string>(name), rank);
        }

        Assert.Equal(5, queue.Count);
        var taken = new List<string>();
        while (queue.TakeFirst() is { } node)
        {
            Assert.Null(node.List);
            taken.Add(node.Value);
        }

        Assert.Equal(["d", "b", "e", "a", "c"], taken);
        Assert.Equal(0, queue.Count);
        Assert.Null(queue.First);
    }

    [Fact]
    public void A_rank_outside_the_ranks_is_clamped()
    {
        var queue = new RankedQueue<string>(2);
        queue.AddLast(new LinkedListNode<string>("low"), -5);
        queue.AddLast(new LinkedListNode<string>("high"), 99);
        queue.AddLast(new LinkedListNode<string>("one"), 1);
        Assert.Equal(["high", "one", "low"], queue.TakeAll());
    }

    [Fact]
    public void Removing_the_head_of_the_top_rank_uncovers_the_next_one()
    {
        var queue = new RankedQueue<string>(8);
        var top = new LinkedListNode<string>("top");
        var middle = new LinkedListNode<string>("middle");
        queue.AddLast(new LinkedListNode<string>("bottom"), 0);
        queue.AddLast(top, 7);
        queue.AddLast(middle, 4);
        Assert.Same(top, queue.First);

        Assert.True(queue.Remove(top));
        Assert.Null(top.List);
        Assert.False(queue.Remove(top));
        Assert.Same(middle, queue.First);

        // A higher rank added after the top dropped is found again.
        queue.AddLast(new LinkedListNode<string>("again"), 6);
        Assert.Equal(["again", "middle", "bottom"], queue.TakeAll());
        Assert.Equal(0, queue.Count);
    }

    [Fact]
    public void A_node_of_another_list_is_not_removed_and_a_queued_node_is_not_added_twice()
    {
        var queue = new RankedQueue<string>(2);
        var elsewhere = new LinkedList<string>();
        var foreign = elsewhere.AddLast("foreign");
        Assert.False(queue.Remove(foreign));
        Assert.Same(elsewhere, foreign.List);

        var node = new LinkedListNode<string>("once");
        queue.AddLast(node, 1);
        Assert.Throws<InvalidOperationException>(() => queue.AddLast(node, 0));
        Assert.Equal(1, queue.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => new RankedQueue<string>(0));
    }
}
