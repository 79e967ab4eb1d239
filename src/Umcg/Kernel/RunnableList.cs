using Umcg.Abi;

namespace Umcg.Kernel;

/// <summary>
/// The user side of a server's runnable list: take the whole list with one exchange and walk it, checking
/// every address against the kernel half's task table before following it.
/// </summary>
public static unsafe class RunnableList
{
    /// <summary>
    /// Takes every entry of <paramref name="server"/>'s runnable list and appends the TIDs of the workers it
    /// names to <paramref name="tids"/>, oldest push last (the list is LIFO).
    /// </summary>
    /// <remarks>
    /// This is the one way to take entries off a runnable list: it also tells the kernel half that each
    /// worker it reports is off the list, so that the worker is pushed again the next time it queues.
    /// </remarks>
    /// <returns>Ok, or EFAULT if an entry is not a live control block (the walk stops there; the rest is lost). Entries of tasks that were removed while queued are skipped.</returns>
    public static Errno Drain(UmcgKernel kernel, UmcgTask* server, List<int> tids)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(tids);

        // One exchange takes the whole list; it is also the full fence that orders the caller's earlier
        // "state = RUNNABLE | COND_WAIT" store before its later read of next_tid.
        ulong entry = Interlocked.Exchange(ref server->RunnableWorkersPtr, 0);
        while (entry != 0)
        {
            UmcgTask* block = (UmcgTask*)entry;
            if (kernel.Tasks.TryGetByBlock(entry, out var worker))
            {
                tids.Add(worker.Tid);
            }
            else if (!TaskBlock.TryResolve(block, out _))
            {
                // Not memory the kernel half handed out: following it would read anything at all.
                return Errno.EFAULT;
            }

            // A live block whose task was removed (killed while queued) is skipped, its link still followed.
            ulong next = Volatile.Read(ref block->RunnableWorkersPtr);
            Volatile.Write(ref block->RunnableWorkersPtr, 0);

            // Off the list (link cleared first, so a new push's link is never wiped). Interlocked: a full
            // fence, so the caller's later look at the worker's state sees a RUNNABLE set before a push that
            // found the entry still here and skipped.
            if (worker is not null)
            {
                Interlocked.Exchange(ref worker.Queued, 0);
            }

            entry = next;
        }

        return Errno.Ok;
    }
}
