using System.Buffers.Text;
using System.Globalization;
using Umcg.Kernel.Native;

namespace Umcg.Kernel.Detection;

/// <summary>
/// A worker thread's <c>/proc/self/task/TID/syscall</c> and <c>schedstat</c>. Measured on this project's
/// machine (docs/detection.md, "Measured"), a pread at offset 0 of a descriptor kept open costs about a
/// seventh of open+read+close, and <c>syscall</c> is three times cheaper than <c>stat</c> while telling more:
/// whether the thread is off the CPU, and on which futex word it sleeps. So descriptors stay open, within a
/// budget shared by the detector's workers (<see cref="ProcFileBudget"/>); past it each read reopens.
/// </summary>
/// <remarks>Used by the detector thread only.</remarks>
internal sealed class ProcThreadFiles : IDisposable
{
    private readonly string _syscallPath;
    private readonly string _schedstatPath;
    private readonly ProcFileBudget _budget;
    private int _syscallFd = -1;
    private int _schedstatFd = -1;
    private bool _holdsBudget;
    private bool _triedBudget;

    public ProcThreadFiles(int tid, ProcFileBudget budget)
    {
        _syscallPath = string.Create(CultureInfo.InvariantCulture, $"/proc/self/task/{tid}/syscall");
        _schedstatPath = string.Create(CultureInfo.InvariantCulture, $"/proc/self/task/{tid}/schedstat");
        _budget = budget;
    }

    /// <summary>Where the thread is: running (or runnable), or asleep in the kernel, and in which call.</summary>
    /// <returns>False if the file could not be read (the thread is gone).</returns>
    public bool TryReadSyscall(out ThreadSample sample)
    {
        sample = default;
        Span<byte> text = stackalloc byte[256];
        int n = Read(_syscallPath, ref _syscallFd, text);
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
        int n = Read(_schedstatPath, ref _schedstatFd, text);
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

    private int Read(string path, ref int fd, Span<byte> buffer)
    {
        if (fd < 0 && !_triedBudget)
        {
            _triedBudget = true;
            _holdsBudget = _budget.TryTake();
        }

        if (fd < 0 && _holdsBudget)
        {
            fd = LinuxSyscalls.OpenReadOnly(path);
        }

        if (fd >= 0)
        {
            return LinuxSyscalls.ReadAtStart(fd, buffer);
        }

        int once = LinuxSyscalls.OpenReadOnly(path);
        if (once < 0)
        {
            return once;
        }

        try
        {
            return LinuxSyscalls.ReadAtStart(once, buffer);
        }
        finally
        {
            LinuxSyscalls.Close(once);
        }
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
