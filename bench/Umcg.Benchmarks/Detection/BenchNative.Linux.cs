using System.Runtime.InteropServices;

namespace Umcg.Benchmarks.Detection;

/// <summary>The few libc calls the page-fault workload needs.</summary>
internal static unsafe partial class BenchNative
{
    private const int ProtRead = 1;
    private const int MapShared = 1;
    private const int PosixFadvDontneed = 4;

    [LibraryImport("libc", EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport("libc", EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport("libc", EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(int fd, long offset, long length, int advice);

    /// <summary>Drops the range from the page cache, maps it fresh and touches it: a major fault, read from disk.</summary>
    public static byte FaultIn(int fd, long offset, int length)
    {
        PosixFadvise(fd, offset, length, PosixFadvDontneed);
        nint map = Mmap(0, (nuint)length, ProtRead, MapShared, fd, offset);
        if (map == -1)
        {
            throw new IOException($"mmap failed: errno {Marshal.GetLastSystemError()}");
        }

        try
        {
            return *(byte*)map;
        }
        finally
        {
            Munmap(map, (nuint)length);
        }
    }
}
