using System.Runtime.InteropServices;

namespace Umcg.Kernel.Native;

/// <summary>File descriptors, memory maps and pipes.</summary>
internal static unsafe partial class LinuxSyscalls
{
    [LibraryImport(Libc, EntryPoint = "mmap", SetLastError = true)]
    private static partial nint Mmap(nint address, nuint length, int prot, int flags, int fd, long offset);

    [LibraryImport(Libc, EntryPoint = "munmap")]
    private static partial int Munmap(nint address, nuint length);

    [LibraryImport(Libc, EntryPoint = "posix_fadvise")]
    private static partial int PosixFadvise(int fd, long offset, long length, int advice);

    [LibraryImport(Libc, EntryPoint = "close")]
    private static partial int CloseFd(int fd);

    [LibraryImport(Libc, EntryPoint = "open", SetLastError = true)]
    private static partial int OpenFile(byte* path, int flags);

    [LibraryImport(Libc, EntryPoint = "pread", SetLastError = true)]
    private static partial nint Pread(int fd, byte* buffer, nuint count, long offset);

    [LibraryImport(Libc, EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Libc, EntryPoint = "read", SetLastError = true)]
    private static partial nint ReadFd(int fd, byte* buffer, nint count);

    [LibraryImport(Libc, EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteFd(int fd, byte* buffer, nint count);

    /// <summary>Maps <paramref name="length"/> bytes of <paramref name="fd"/> from <paramref name="offset"/> read-only and shared (for a perf ring: overwrite mode).</summary>
    /// <returns>The address, or 0 with <paramref name="error"/> set.</returns>
    public static nint MapReadOnly(int fd, nuint length, out int error, long offset = 0)
    {
        nint address = Mmap(0, length, ProtRead, MapShared, fd, offset);
        if (address == -1)
        {
            error = Marshal.GetLastSystemError();
            return 0;
        }

        error = 0;
        return address;
    }

    public static void Unmap(nint address, nuint length) => Munmap(address, length);

    /// <summary>Drops a file's range from the page cache (POSIX_FADV_DONTNEED), so that the next touch reads the disk.</summary>
    public static void DropFromPageCache(int fd, long offset, long length) => PosixFadvise(fd, offset, length, PosixFadvDontneed);

    public static void Close(int fd) => CloseFd(fd);

    /// <summary>Opens a file read-only (close-on-exec). Returns the descriptor or a negated errno.</summary>
    /// <param name="path">The path in UTF-8, ending with a NUL byte (built in the caller's stack: no string per file).</param>
    public static int OpenReadOnly(ReadOnlySpan<byte> path)
    {
        if (path.IsEmpty || path[^1] != 0)
        {
            throw new ArgumentException("The path must end with a NUL byte.", nameof(path));
        }

        fixed (byte* p = path)
        {
            int fd = OpenFile(p, ORdonlyCloexec);
            return fd >= 0 ? fd : -Marshal.GetLastSystemError();
        }
    }

    /// <summary>Reads from offset 0: for a /proc file, a fresh rendering each call.</summary>
    /// <returns>The byte count, or a negated errno.</returns>
    public static int ReadAtStart(int fd, Span<byte> buffer)
    {
        fixed (byte* p = buffer)
        {
            nint n = Pread(fd, p, (nuint)buffer.Length, 0);
            return n >= 0 ? (int)n : -Marshal.GetLastSystemError();
        }
    }

    /// <summary>One read from offset 0 of <paramref name="fd"/>, which is then closed: a look at a /proc file kept by nobody.</summary>
    /// <returns>The byte count, or a negated errno (<paramref name="fd"/> is closed either way).</returns>
    public static int ReadAtStartAndClose(int fd, Span<byte> buffer)
    {
        try
        {
            return ReadAtStart(fd, buffer);
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>A pipe: (read end, write end), both close-on-exec.</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (Pipe2(fds, OCloexec) != 0)
        {
            throw new InvalidOperationException($"pipe2 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (fds[0], fds[1]);
    }

    /// <summary>Reads one byte, blocking until it comes (restarted after signals).</summary>
    public static void ReadByte(int fd)
    {
        byte b;
        while (true)
        {
            nint n = ReadFd(fd, &b, 1);
            if (n == 1)
            {
                return;
            }

            int err = Marshal.GetLastPInvokeError();
            if (n < 0 && err == EINTR)
            {
                continue;
            }

            throw new InvalidOperationException($"read({fd}) failed: returned {n}, errno {err}");
        }
    }

    /// <summary>Writes one byte (restarted after signals).</summary>
    public static void WriteByte(int fd)
    {
        byte b = 1;
        while (WriteFd(fd, &b, 1) != 1)
        {
            int err = Marshal.GetLastPInvokeError();
            if (err != EINTR)
            {
                throw new InvalidOperationException($"write({fd}) failed: errno {err}");
            }
        }
    }
}
