using System.Runtime.InteropServices;
using Umcg.Kernel.Native;

namespace Umcg.Abi;

/// <summary>
/// Where control blocks live. Normally aligned native memory; in guarded mode (tests and debugging) each
/// block gets a page of its own, and freeing it turns the page PROT_NONE instead of unmapping it, so any
/// access after free faults at once instead of reading or corrupting whatever was allocated there next.
/// </summary>
internal static unsafe class BlockMemory
{
    private const int PageSize = 4096;

    private static int s_guardedScopes;

    /// <summary>Whether new blocks are allocated guarded (one page each, PROT_NONE once freed).</summary>
    public static bool Guarded => Volatile.Read(ref s_guardedScopes) > 0 && OperatingSystem.IsLinux();

    /// <summary>
    /// Allocates every block guarded until the result is disposed (scopes nest; blocks keep the mode they
    /// were allocated in). Freed guarded pages are never unmapped, so use it in tests, not in production.
    /// </summary>
    public static IDisposable GuardFreedBlocks()
    {
        Interlocked.Increment(ref s_guardedScopes);
        return new Scope();
    }

    /// <summary>A zeroed, aligned block; <paramref name="guarded"/> says how to free it.</summary>
    public static UmcgTask* Allocate(out bool guarded)
    {
        guarded = Guarded;
        if (guarded)
        {
            void* page = LinuxSyscalls.MapZeroedPages(PageSize);
            if (page is null)
            {
                throw new OutOfMemoryException("mmap of a guarded UMCG control block failed.");
            }

            return (UmcgTask*)page; // fresh anonymous pages are zero
        }

        var p = (UmcgTask*)NativeMemory.AlignedAlloc(UmcgConstants.TaskSize, UmcgConstants.TaskAlign);
        NativeMemory.Clear(p, UmcgConstants.TaskSize);
        return p;
    }

    /// <summary>Frees a block: back to the allocator, or (guarded) its page made inaccessible for good.</summary>
    public static void Free(UmcgTask* task, bool guarded)
    {
        if (guarded)
        {
            LinuxSyscalls.ProtectNone(task, PageSize);
        }
        else
        {
            NativeMemory.AlignedFree(task);
        }
    }

    private sealed class Scope : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                Interlocked.Decrement(ref s_guardedScopes);
            }
        }
    }
}
