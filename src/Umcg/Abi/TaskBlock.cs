using System.Collections.Concurrent;

namespace Umcg.Abi;

/// <summary>
/// Owns one <see cref="UmcgTask"/> in unmanaged memory, zeroed and aligned to
/// <see cref="UmcgConstants.TaskAlign"/>; <see cref="Dispose"/> gives it up.
/// </summary>
/// <remarks>
/// <para>Every live block is recorded, so the kernel half can tell a block it may touch from an address it
/// must refuse (the emulation's EFAULT). A block still registered with the kernel half cannot be disposed.</para>
/// <para><b>Lifetime rule: the kernel half, not the caller, decides when a block's memory is freed.</b>
/// <see cref="Dispose"/> ends the caller's use at once (<see cref="Task"/> throws from then on), but the
/// memory is freed only when no kernel-half path can still hold its address:</para>
/// <list type="number">
/// <item>no runnable list holds an entry for it (<see cref="QueuedOn"/> is 0): a stale entry — a worker
/// switched to directly keeps the entry its earlier Wait pushed — keeps the block until the drain that
/// takes the entry off frees it; until then the address stays in the live set, so it is never handed out
/// again and the drain can still follow the entry's link;</item>
/// <item>and a grace period has passed (<see cref="BlockGrace"/>): every kernel-half path that reached the
/// block through the task table before the task left it has returned.</item>
/// </list>
/// <para>The address is reused only after both, so a stale list entry can never name a recycled block.</para>
/// </remarks>
public sealed unsafe class TaskBlock : IDisposable
{
    private const int Disposed = -1;

    private static readonly ConcurrentDictionary<nint, TaskBlock> s_live = new();

    private static int s_liveCount;

    private readonly UmcgTask* _memory;
    private readonly bool _guarded;

    // 1 while a kernel half references the block (registered), 0 when free to register or dispose, -1 once
    // disposed. Changed only by CAS, so a registration and a Dispose on two threads cannot both win.
    private int _registrations;

    // Set by whichever of Dispose and the drain that drops the last list entry frees the memory (exactly once).
    private int _freed;

    private TaskBlock(UmcgTask* task, bool guarded)
    {
        _memory = task;
        _guarded = guarded;
    }

    /// <summary>The control block. Valid until <see cref="Dispose"/>.</summary>
    public UmcgTask* Task
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return _memory;
        }
    }

    /// <summary>The control block's address, as it appears in a runnable list.</summary>
    public ulong Address => (ulong)Task;

    /// <summary>Whether a kernel half still references this block.</summary>
    public bool IsRegistered => Volatile.Read(ref _registrations) > 0;

    /// <summary>Whether <see cref="Dispose"/> was called (the memory may still wait for a list drain).</summary>
    internal bool IsDisposed => Volatile.Read(ref _registrations) == Disposed;

    /// <summary>Whether the memory itself has been freed (test hook).</summary>
    internal bool IsFreed => Volatile.Read(ref _freed) != 0;

    /// <summary>The block's memory, for the kernel half (valid while the lifetime rule above holds it).</summary>
    internal UmcgTask* Memory => _memory;

    /// <summary>
    /// The address of the server block whose runnable list holds this block's entry, or 0 (the "queued"
    /// mark). It lives with the block, not with a registration, because the entry is in the block's memory:
    /// a block registered again while its old entry is still listed must not be pushed a second time. Set
    /// by the push (CAS from 0), cleared by the drain that takes the entry off (exchange, a full fence).
    /// </summary>
    internal ulong QueuedOn;

    /// <summary>Allocates a zeroed, aligned control block.</summary>
    public static TaskBlock Allocate()
    {
        var p = BlockMemory.Allocate(out bool guarded);
        var block = new TaskBlock(p, guarded);
        s_live[(nint)p] = block;
        Interlocked.Increment(ref s_liveCount);
        return block;
    }

    /// <summary>How many blocks the kernel half may still touch (a bound for list walks).</summary>
    internal static int LiveCount => Volatile.Read(ref s_liveCount);

    /// <summary>Finds the block at <paramref name="task"/> whose memory the kernel half may still touch (live, or disposed and awaiting a drain); false for any other address.</summary>
    internal static bool TryResolve(UmcgTask* task, out TaskBlock? block) => s_live.TryGetValue((nint)task, out block);

    /// <summary>Whether <paramref name="address"/> lies inside some live block (not necessarily at its start).</summary>
    internal static bool TryResolveInterior(nint address, out TaskBlock? block)
    {
        nint start = address & ~(nint)(UmcgConstants.TaskAlign - 1);
        return s_live.TryGetValue(start, out block);
    }

    /// <summary>Every block whose entry is on the runnable list of the server block at <paramref name="server"/>.</summary>
    internal static List<TaskBlock> QueuedOnList(ulong server)
    {
        var found = new List<TaskBlock>();
        foreach (var block in s_live.Values)
        {
            if (Volatile.Read(ref block.QueuedOn) == server)
            {
                found.Add(block);
            }
        }

        return found;
    }

    /// <summary>Takes the block for one registration; false if a kernel half already references it or it was disposed.</summary>
    /// <remarks>One atomic step, so two threads registering the same block at once cannot both succeed.</remarks>
    internal bool TryClaim() => Interlocked.CompareExchange(ref _registrations, 1, 0) == 0;

    internal void RemoveRegistration() => Interlocked.CompareExchange(ref _registrations, 0, 1);

    /// <summary>Gives the block up. Its memory is freed now, or later by the drain that takes its last list entry.</summary>
    /// <exception cref="InvalidOperationException">The block is still registered with a kernel half.</exception>
    public void Dispose()
    {
        int seen = Interlocked.CompareExchange(ref _registrations, Disposed, 0);
        if (seen == Disposed)
        {
            return;
        }

        if (seen != 0)
        {
            throw new InvalidOperationException(
                "This UMCG control block is still registered; unregister the task (or let its thread exit) before freeing it.");
        }

        FreeIfUnqueued();
    }

    /// <summary>
    /// Frees a disposed block once no runnable list holds its entry: called by <see cref="Dispose"/>, and by
    /// the drain that took the entry off after the block was disposed. Outside a read section.
    /// </summary>
    /// <remarks>
    /// The drain clears <see cref="QueuedOn"/> (an exchange) and then reads <see cref="IsDisposed"/>; Dispose
    /// sets disposed (a CAS) and then reads QueuedOn: one of the two sees both, and frees. After the grace
    /// period below no path can set QueuedOn any more (pushes need a registered task, and a disposed block has
    /// none), so the check after it is final.
    /// </remarks>
    internal void FreeIfUnqueued()
    {
        if (!IsDisposed)
        {
            return;
        }

        BlockGrace.WaitForReaders();
        if (Volatile.Read(ref QueuedOn) == 0)
        {
            Free();
        }
    }

    private void Free()
    {
        if (Interlocked.Exchange(ref _freed, 1) != 0)
        {
            return;
        }

        // Unpublish, wait out every path that may have resolved the address, then free.
        if (s_live.TryRemove(new KeyValuePair<nint, TaskBlock>((nint)_memory, this)))
        {
            Interlocked.Decrement(ref s_liveCount);
        }

        BlockGrace.WaitForReaders();
        BlockMemory.Free(_memory, _guarded);
    }
}
