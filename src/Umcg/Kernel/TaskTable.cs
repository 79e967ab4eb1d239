using System.Collections.Concurrent;
using Umcg.Abi;

namespace Umcg.Kernel;

/// <summary>
/// TID → task and block address → task: the only way the kernel half reaches a control block. An address
/// or TID that user code wrote is looked up here before anything is dereferenced.
/// </summary>
internal sealed unsafe class TaskTable
{
    private readonly ConcurrentDictionary<int, KernelTask> _byTid = new();
    private readonly ConcurrentDictionary<nint, KernelTask> _byBlock = new();

    public int Count => _byTid.Count;

    public bool TryAdd(KernelTask task)
    {
        if (!_byTid.TryAdd(task.Tid, task))
        {
            return false;
        }

        if (!_byBlock.TryAdd((nint)task.Block, task))
        {
            _byTid.TryRemove(task.Tid, out _);
            return false;
        }

        return true;
    }

    public void Remove(KernelTask task)
    {
        _byTid.TryRemove(new KeyValuePair<int, KernelTask>(task.Tid, task));
        _byBlock.TryRemove(new KeyValuePair<nint, KernelTask>((nint)task.Block, task));
    }

    /// <summary>
    /// Finds a task by TID. Bits 30 and 31 are not part of a TID (Linux TIDs fit in
    /// <see cref="UmcgConstants.TidMask"/>; bit 31 is <see cref="UmcgConstants.TidRunning"/>), so a value with
    /// either set names no task: the one rule behind every ESRCH for such a value in Ctl, Wait and Kick.
    /// </summary>
    public bool TryGet(uint tid, out KernelTask task)
    {
        if (tid != 0 && (tid & ~UmcgConstants.TidMask) == 0 && _byTid.TryGetValue((int)tid, out var found))
        {
            task = found;
            return true;
        }

        task = null!;
        return false;
    }

    public bool TryGetByBlock(ulong address, out KernelTask task)
    {
        if (address != 0 && _byBlock.TryGetValue((nint)address, out var found))
        {
            task = found;
            return true;
        }

        task = null!;
        return false;
    }

    public bool ContainsBlock(UmcgTask* block) => _byBlock.ContainsKey((nint)block);

    public KernelTask[] Snapshot() => [.. _byTid.Values];
}
