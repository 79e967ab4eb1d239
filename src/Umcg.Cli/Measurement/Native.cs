using System.Runtime.InteropServices;

namespace Umcg.Cli.Measurement;

/// <summary>The libc calls the workloads and their accounting make (Linux x64 layouts).</summary>
internal static unsafe partial class Native
{
    public const int ClockMonotonic = 1;
    public const int ClockThreadCpuTime = 3;
    private const int TimerAbsolute = 1;
    private const int RusageSelf = 0;
    private const int OCloexec = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    /// <summary>struct rusage: two timevals, then 14 longs (ru_maxrss … ru_nivcsw).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Rusage
    {
        public long UserSeconds;
        public long UserMicros;
        public long SystemSeconds;
        public long SystemMicros;
        public fixed long Fields[14];
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_gettime(int clock, Timespec* ts);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int clock_nanosleep(int clock, int flags, Timespec* request, Timespec* remain);

    [LibraryImport("libc")]
    private static partial int sched_getcpu();

    [LibraryImport("libc", SetLastError = true)]
    private static partial int getrusage(int who, Rusage* usage);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int pipe2(int* fds, int flags);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int close(int fd);

    /// <summary>CPU time the calling thread has run, in ns.</summary>
    public static long ThreadCpuNs() => Clock(ClockThreadCpuTime);

    /// <summary>CLOCK_MONOTONIC in ns (the clock the kernel half stamps with).</summary>
    public static long MonotonicNs() => Clock(ClockMonotonic);

    private static long Clock(int clock)
    {
        Timespec ts;
        if (clock_gettime(clock, &ts) != 0)
        {
            throw new InvalidOperationException($"clock_gettime({clock}) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (ts.Seconds * 1_000_000_000) + ts.Nanoseconds;
    }

    /// <summary>The CPU the calling thread runs on right now.</summary>
    public static int CurrentCpu() => Math.Max(0, sched_getcpu());

    /// <summary>A real nanosleep of <paramref name="ns"/> (restarted after signals).</summary>
    public static void SleepNs(long ns) => SleepUntilNs(MonotonicNs() + ns);

    /// <summary>Sleeps until CLOCK_MONOTONIC reaches <paramref name="deadlineNs"/> (clock_nanosleep, absolute).</summary>
    public static void SleepUntilNs(long deadlineNs)
    {
        var ts = new Timespec { Seconds = deadlineNs / 1_000_000_000, Nanoseconds = deadlineNs % 1_000_000_000 };
        while (clock_nanosleep(ClockMonotonic, TimerAbsolute, &ts, null) is int r && r != 0)
        {
            if (r != 4)
            {
                throw new InvalidOperationException($"clock_nanosleep failed: {r}");
            }
        }
    }

    /// <summary>Voluntary and involuntary context switches of the whole process so far (getrusage RUSAGE_SELF).</summary>
    public static (long Voluntary, long Involuntary) ContextSwitches()
    {
        Rusage usage;
        if (getrusage(RusageSelf, &usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return (usage.Fields[12], usage.Fields[13]);
    }

    /// <summary>CPU time (user + system) of the whole process so far, in ns.</summary>
    public static long ProcessCpuNs()
    {
        Rusage usage;
        if (getrusage(RusageSelf, &usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return ((usage.UserSeconds + usage.SystemSeconds) * 1_000_000_000) + ((usage.UserMicros + usage.SystemMicros) * 1_000);
    }

    /// <summary>A pipe: (read end, write end), both close-on-exec.</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (pipe2(fds, OCloexec) != 0)
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
            nint n = read(fd, &b, 1);
            if (n == 1)
            {
                return;
            }

            int err = Marshal.GetLastPInvokeError();
            if (n < 0 && err == 4)
            {
                continue;
            }

            throw new InvalidOperationException($"read({fd}) failed: returned {n}, errno {err}");
        }
    }

    /// <summary>Writes one byte.</summary>
    public static void WriteByte(int fd)
    {
        byte b = 1;
        while (write(fd, &b, 1) != 1)
        {
            int err = Marshal.GetLastPInvokeError();
            if (err != 4)
            {
                throw new InvalidOperationException($"write({fd}) failed: errno {err}");
            }
        }
    }

    public static void Close(int fd) => close(fd);
}
