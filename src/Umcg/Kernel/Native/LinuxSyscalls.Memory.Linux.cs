using System.Runtime.InteropServices;

namespace Umcg.Kernel.Native;

/// <summary>Whole pages, for control blocks that must fault on any access after they are freed (guarded mode).</summary>
internal static unsafe partial class LinuxSyscalls
{
    private const int ProtNone = 0;
    private const int ProtReadWrite = 3;
    private const int MapPrivateAnonymous = 0x02 | 0x20;

    [LibraryImport(Libc, EntryPoint = "mmap")]
    private static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Libc, EntryPoint = "mprotect")]
    private static partial int Mprotect(void* addr, nuint length, int prot);

    /// <summary>Fresh zeroed read-write anonymous memory of <paramref name="length"/> bytes, page-aligned; null if refused.</summary>
    public static void* MapZeroedPages(nuint length)
    {
        void* pages = Mmap(null, length, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        return (nint)pages == -1 ? null : pages;
    }

    /// <summary>Makes the pages at <paramref name="address"/> inaccessible for good: any later access faults.</summary>
    public static void ProtectNone(void* address, nuint length) => Mprotect(address, length, ProtNone);
}
