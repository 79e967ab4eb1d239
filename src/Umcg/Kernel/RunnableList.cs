using Umcg.Abi;

namespace Umcg.Kernel;

/// <summary>
/// The user side of a server's runnable list: take the whole list with one exchange and walk it, checking
/// every address against the set of control blocks before following it.
/// </summary>
public static unsafe class RunnableList
{
    /// <summary>
    /// Takes every entry of <paramref name="server"/>'s runnable list and appends the TIDs of the workers it
    /// names to <paramref name="tids"/>, oldest push last (the list is LIFO).
    /// </summary>
    /// <remarks>
    /// <para>This is the one way to take entries off a runnable list: it also clears each entry's "queued"
    /// mark, so that the worker is pushed again the next time it queues. Entries whose task is gone (removed
    /// or unregistered while listed) are dropped; a block disposed meanwhile is freed here, its last user. An
    /// entry whose worker now belongs to another server (its block was registered again for that server) is
    /// forwarded to that server's list and the server woken.</para>
    /// <para>EFAULT: the head or a link is not a control block (user code scribbled it). The walk stops there,
    /// but no worker behind it is lost: every block still marked as queued on this list and no longer
    /// reachable from it is taken off and reported as well.</para>
    /// </remarks>
    /// <returns>Ok, or EFAULT if an entry is not a control block (every queued worker is reported all the same).</returns>
    public static Errno Drain(UmcgKernel kernel, UmcgTask* server, List<int> tids)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(tids);

        List<TaskBlock>? disposed = null;
        Errno result;
        using (BlockGrace.Enter())
        {
            result = Walk(kernel, server, tids, ref disposed);
        }

        FreeDisposed(disposed);
        return result;
    }

    /// <summary>
    /// The drain itself, inside the caller's read section: blocks that were disposed while listed are
    /// collected in <paramref name="disposed"/>, to be freed (<see cref="FreeDisposed"/>) once it is closed.
    /// </summary>
    internal static Errno Walk(UmcgKernel kernel, UmcgTask* server, List<int> tids, ref List<TaskBlock>? disposed)
    {
        ulong list = (ulong)server;
        var result = Errno.Ok;

        // One exchange takes the whole list; it is also the full fence that orders the caller's earlier
        // "state = RUNNABLE | COND_WAIT" store before its later read of next_tid.
        ulong entry = Interlocked.Exchange(ref server->RunnableWorkersPtr, 0);
        for (int steps = 0; entry != 0; steps++)
        {
            // Not memory the kernel half handed out (following it would read anything at all), or a cycle
            // user code made among blocks that are not entries of this list.
            if (!TaskBlock.TryResolve((UmcgTask*)entry, out var block) || block is null || steps > TaskBlock.LiveCount)
            {
                result = Errno.EFAULT;
                break;
            }

            ulong next = Volatile.Read(ref block.Memory->RunnableWorkersPtr);

            // A block that is not an entry of this list (user code linked it here) is skipped, its link followed.
            if (Volatile.Read(ref block.QueuedOn) == list)
            {
                TakeOff(kernel, block, list, tids, ref disposed);
            }

            entry = next;
        }

        if (result == Errno.EFAULT)
        {
            Recover(kernel, server, list, tids, ref disposed);
        }

        return result;
    }

    /// <summary>Frees the blocks a walk found disposed (outside any read section: each free waits for a grace period).</summary>
    internal static void FreeDisposed(List<TaskBlock>? disposed)
    {
        if (disposed is null)
        {
            return;
        }

        foreach (var block in disposed)
        {
            block.FreeIfUnqueued();
        }
    }

    /// <summary>
    /// An entry of this list leaves it: link cleared, then the mark (the order matters: once the mark is clear
    /// a new push may write the link, which must not be wiped). Only this server drains this list, so the mark
    /// cannot change between the caller's check and the exchange here.
    /// </summary>
    private static void TakeOff(UmcgKernel kernel, TaskBlock block, ulong list, List<int> tids, ref List<TaskBlock>? disposed)
    {
        Volatile.Write(ref block.Memory->RunnableWorkersPtr, 0);

        // Interlocked: a full fence, so the caller's later look at the worker's state sees a RUNNABLE set
        // before a push that found the mark still set and skipped; and against Dispose (see TaskBlock).
        Interlocked.Exchange(ref block.QueuedOn, 0);
        if (block.IsDisposed)
        {
            (disposed ??= []).Add(block);
            return;
        }

        if (kernel.Tasks.TryGetByBlock((ulong)block.Memory, out var worker) && worker.IsWorker
            && !kernel.TryForward(worker, list))
        {
            tids.Add(worker.Tid);
        }
    }

    /// <summary>
    /// After an EFAULT: the entries behind the bad one cannot be reached, but their blocks still carry this
    /// list's mark. Blocks marked first, then the list walked again from its current head: a block pushed
    /// after the first exchange is marked before the scan and reachable from the head (pushes add at the
    /// head, and a marked block is never pushed again), so whatever is marked and unreachable was behind the
    /// bad entry. Those are taken off and reported.
    /// </summary>
    private static void Recover(UmcgKernel kernel, UmcgTask* server, ulong list, List<int> tids, ref List<TaskBlock>? disposed)
    {
        var marked = TaskBlock.QueuedOnList(list);
        if (marked.Count == 0)
        {
            return;
        }

        var reachable = new HashSet<ulong>();
        ulong entry = Volatile.Read(ref server->RunnableWorkersPtr);
        while (entry != 0 && reachable.Count <= TaskBlock.LiveCount && TaskBlock.TryResolve((UmcgTask*)entry, out var block) && block is not null && reachable.Add(entry))
        {
            entry = Volatile.Read(ref block.Memory->RunnableWorkersPtr);
        }

        foreach (var block in marked)
        {
            if (!reachable.Contains((ulong)block.Memory) && Volatile.Read(ref block.QueuedOn) == list)
            {
                TakeOff(kernel, block, list, tids, ref disposed);
            }
        }
    }
}
