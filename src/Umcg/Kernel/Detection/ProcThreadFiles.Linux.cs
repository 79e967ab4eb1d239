using System.Buffers.Text;
using Umcg.Kernel.Native;

namespace Umcg.Kernel.Detection;

/// <summary>
/// A worker thread's <c>/proc/self/task/TID/syscall</c> and <c>schedstat</c>. Measured on this project's
/// machine (docs/detection.md, "Measured"), a pread at offset 0 of a descriptor kept open costs about a
/// seventh of open+read+close, and <c>syscall</c> is three times cheaper than <c>stat</c> while telling more:
/// whether the thread is off the CPU, and on which futex word it sleeps. So descriptors stay open, within a
/// budget shared by the detector's workers (<see cref="ProcFileBudget"/>); past it each read reopens.
/// </summary>
/// <remarks>
/// Used by the detector thread only. Created on the worker's own thread (when it registers), so the record
/// holds the TID alone: the paths are written into the stack when the detector opens a file. Formatting
/// them there at creation would keep two strings per worker, and rent a buffer from the shared
/// <see cref="System.Buffers.ArrayPool{T}"/>, whose per-thread cache every worker thread would then keep.
/// </remarks>
internal sealed class ProcThreadFiles : IDisposable
{
    private readonly int _tid;
    private readonly ProcFileBudget _budget;
    private int _syscallFd = -1;
    private int _schedstatFd = -1;
    private bool _holdsBudget;
    private bool _triedBudget;

    public ProcThreadFiles(int tid, ProcFileBudget budget)
    {
        _tid = tid;
        _budget = budget;
    }

    /// <summary>Where the thread is: running (or runnable), or asleep in the kernel, and in which call.</summary>
    /// <returns>False if the file could not be read (the thread is gone).</returns>
    public bool TryReadSyscall(out ThreadSample sample)
    {
        sample = default;
        Span<byte> text = stackalloc byte[256];
        int n = Read("syscall"u8, ref _syscallFd, text);
        if (n <= 0)
        {
            return false;
        }

        // "running" while the thread is on a CPU or waits for one; otherwise "NR ARG0 ARG1 ... SP PC" (hex
        // arguments), with NR -1 when it sleeps outside a system call (a page fault).
        text = text[..n];
        if (text[0] == (byte)'r')
        {
            return true;
        }

        if (!Utf8Parser.TryParse(text, out long number, out int used) || used >= text.Length || text[used] != (byte)' ')
        {
            return false;
        }

        ulong first = 0;
        var rest = text[(used + 1)..];
        if (rest.StartsWith("0x"u8))
        {
            Utf8Parser.TryParse(rest[2..], out first, out _, 'x');
        }

        sample = new ThreadSample(true, number, first);
        return true;
    }

    /// <summary>The thread's CPU time so far (ns) and how many times it was put on a CPU.</summary>
    public bool TryReadSchedstat(out long runtimeNs, out long runs)
    {
        runtimeNs = 0;
        runs = 0;
        Span<byte> text = stackalloc byte[128];
        int n = Read("schedstat"u8, ref _schedstatFd, text);
        if (n <= 0)
        {
            return false;
        }

        // "RUNTIME_NS WAIT_NS RUNS"
        text = text[..n];
        if (!Utf8Parser.TryParse(text, out runtimeNs, out int a) || a >= text.Length)
        {
            return false;
        }

        text = text[(a + 1)..];
        if (!Utf8Parser.TryParse(text, out long _, out int b) || b >= text.Length)
        {
            return false;
        }

        return Utf8Parser.TryParse(text[(b + 1)..], out runs, out _);
    }

    private int Read(ReadOnlySpan<byte> file, ref int fd, Span<byte> buffer)
    {
        if (fd < 0 && !_triedBudget)
        {
            _triedBudget = true;
            _holdsBudget = _budget.TryTake();
        }

        if (fd < 0 && _holdsBudget)
        {
            fd = Open(_tid, file);
        }

        if (fd >= 0)
        {
            return LinuxSyscalls.ReadAtStart(fd, buffer);
        }

        int once = Open(_tid, file);
        return once < 0 ? once : LinuxSyscalls.ReadAtStartAndClose(once, buffer);
    }

    /// <summary>
    /// One look at thread <paramref name="tid"/>'s <c>syscall</c> file, with no record and no descriptor kept (open,
    /// read, close: for a rare look from outside the detector): true if it sleeps in the kernel now, false if it runs
    /// or waits for a CPU, null if the file cannot be read (the thread is gone).
    /// </summary>
    public static bool? SleepsNow(int tid)
    {
        int fd = Open(tid, "syscall"u8);
        if (fd < 0)
        {
            return null;
        }

        Span<byte> text = stackalloc byte[256];
        int n = LinuxSyscalls.ReadAtStartAndClose(fd, text);
        return n <= 0 ? null : text[0] != (byte)'r'; // "running" on a CPU or on a run queue
    }

    /// <summary>Opens <c>/proc/self/task/TID/</c><paramref name="file"/>: a descriptor or a negated errno.</summary>
    private static int Open(int tid, ReadOnlySpan<byte> file)
    {
        // "/proc/self/task/" (16 bytes) + a TID (at most 10 digits) + "/" + the name + NUL.
        ReadOnlySpan<byte> prefix = "/proc/self/task/"u8;
        Span<byte> path = stackalloc byte[prefix.Length + 12 + file.Length];
        prefix.CopyTo(path);
        Utf8Formatter.TryFormat(tid, path[prefix.Length..], out int digits);
        int end = prefix.Length + digits;
        path[end++] = (byte)'/';
        file.CopyTo(path[end..]);
        end += file.Length;
        path[end++] = 0;
        return LinuxSyscalls.OpenReadOnly(path[..end]);
    }

    public void Dispose()
    {
        if (_syscallFd >= 0)
        {
            LinuxSyscalls.Close(_syscallFd);
            _syscallFd = -1;
        }

        if (_schedstatFd >= 0)
        {
            LinuxSyscalls.Close(_schedstatFd);
            _schedstatFd = -1;
        }

        if (_holdsBudget)
        {
            _holdsBudget = false;
            _budget.Return();
        }
    }
}
