using System.Runtime.InteropServices;

namespace Umcg.Abi;

/// <summary>
/// Where control blocks live. Normally aligned native memory; in guarded mode (tests and debugging) each
/// block gets a page of its own, and freeing it turns the page PROT_NONE instead of unmapping it, so any
/// access after free faults at once instead of reading or corrupting whatever was allocated there next.
/// </summary>
internal static unsafe partial class BlockMemory
{
    private const int ProtNone = 0;
    private const int ProtReadWrite = 3;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
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
            void* page = Mmap(null, PageSize, ProtReadWrite, MapPrivateAnonymous, -1, 0);
            if ((nint)page == -1)
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
            Mprotect(task, PageSize, ProtNone);
        }
        else
        {
            NativeMemory.AlignedFree(task);
        }
    }

    [LibraryImport("libc", EntryPoint = "mmap")]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport("libc", EntryPoint = "mprotect")]
    private static partial int Mprotect(void* addr, nuint length, int prot);

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
