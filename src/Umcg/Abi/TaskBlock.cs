using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Umcg.Abi;

/// <summary>
/// Owns one <see cref="UmcgTask"/> in unmanaged memory, zeroed and aligned to
/// <see cref="UmcgConstants.TaskAlign"/>, freed deterministically by <see cref="Dispose"/>.
/// </summary>
/// <remarks>
/// Every live block is recorded, so the kernel half can tell a block it may touch from an address it must
/// refuse (the emulation's EFAULT). A block still registered with the kernel half cannot be freed: the
/// kernel half references it until the task unregisters or its thread exits.
/// </remarks>
public sealed unsafe class TaskBlock : IDisposable
{
    private static readonly ConcurrentDictionary<nint, TaskBlock> s_live = new();

    private UmcgTask* _task;

    // How many kernel-side registrations reference this block (0 or 1 in practice). Changed only with
    // Interlocked so that Dispose on one thread and unregister on another agree on who frees.
    private int _registrations;

    private TaskBlock(UmcgTask* task) => _task = task;

    /// <summary>The control block. Valid until <see cref="Dispose"/>.</summary>
    public UmcgTask* Task
    {
        get
        {
            ObjectDisposedException.ThrowIf(_task == null, this);
            return _task;
        }
    }

    /// <summary>The control block's address, as it appears in a runnable list.</summary>
    public ulong Address => (ulong)Task;

    /// <summary>Whether a kernel half still references this block.</summary>
    public bool IsRegistered => Volatile.Read(ref _registrations) > 0;

    /// <summary>Allocates a zeroed, aligned control block.</summary>
    public static TaskBlock Allocate()
    {
        var p = (UmcgTask*)NativeMemory.AlignedAlloc(UmcgConstants.TaskSize, UmcgConstants.TaskAlign);
        NativeMemory.Clear(p, UmcgConstants.TaskSize);
        var block = new TaskBlock(p);
        s_live[(nint)p] = block;
        return block;
    }

    /// <summary>Finds the live block at <paramref name="task"/>; false for any other address.</summary>
    public static bool TryResolve(UmcgTask* task, out TaskBlock? block) => s_live.TryGetValue((nint)task, out block);

    /// <summary>Whether <paramref name="address"/> lies inside some live block (not necessarily at its start).</summary>
    internal static bool TryResolveInterior(nint address, out TaskBlock? block)
    {
        nint start = address & ~(nint)(UmcgConstants.TaskAlign - 1);
        return s_live.TryGetValue(start, out block);
    }

    /// <summary>Takes the block for one registration; false if a kernel half already references it.</summary>
    /// <remarks>One atomic step, so two threads registering the same block at once cannot both succeed.</remarks>
    internal bool TryClaim() => Interlocked.CompareExchange(ref _registrations, 1, 0) == 0;

    internal void RemoveRegistration() => Interlocked.Decrement(ref _registrations);

    /// <summary>Frees the block.</summary>
    /// <exception cref="InvalidOperationException">The block is still registered with a kernel half.</exception>
    public void Dispose()
    {
        if (_task == null)
        {
            return;
        }

        if (IsRegistered)
        {
            throw new InvalidOperationException(
                "This UMCG control block is still registered; unregister the task (or let its thread exit) before freeing it.");
        }

        s_live.TryRemove((nint)_task, out _);
        NativeMemory.AlignedFree(_task);
        _task = null;
    }
}
