using System.Collections.Concurrent;
using Umcg.Abi;

namespace Umcg.Scheduling;

/// <summary>
/// The control blocks of a scheduler's worker threads. A server may still be looking at a worker it read from its
/// slot a moment before that worker left, so a block given back is recycled for a new worker thread, never freed,
/// until every server has stopped (<see cref="FreeAll"/>).
/// </summary>
internal sealed class TaskBlockPool
{
    private readonly ConcurrentBag<TaskBlock> _spare = [];
    private readonly ConcurrentBag<TaskBlock> _all = [];

    /// <summary>A zeroed block: a spare one, else a new one.</summary>
    /// <exception cref="OutOfMemoryException">No native memory for a new block.</exception>
    public unsafe TaskBlock Rent()
    {
        if (_spare.TryTake(out var block))
        {
            // Zeroed again: Ctl refuses a block with stale reserved fields or next_tid.
            *block.Task = default;
            return block;
        }

        block = TaskBlock.Allocate();
        _all.Add(block);
        return block;
    }

    /// <summary>Takes back the block of a worker thread that left (or never started); a block still registered is kept out of reuse.</summary>
    public void Return(TaskBlock block)
    {
        if (!block.IsRegistered)
        {
            _spare.Add(block);
        }
    }

    /// <summary>Frees every block no longer registered. Only once no server runs: none may look at a block any more.</summary>
    public void FreeAll()
    {
        while (_all.TryTake(out var block))
        {
            if (!block.IsRegistered)
            {
                block.Dispose();
            }
        }
    }
}
