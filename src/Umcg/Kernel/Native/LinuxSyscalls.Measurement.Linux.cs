using System.Runtime.InteropServices;

namespace Umcg.Kernel.Native;

/// <summary>Real sleeps and what the process and its threads have used: for workloads, benchmarks and tests.</summary>
internal static unsafe partial class LinuxSyscalls
{
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

    [LibraryImport(Libc, EntryPoint = "nanosleep", SetLastError = true)]
    private static partial int NanosleepNative(Timespec* request, Timespec* remaining);

    [LibraryImport(Libc, EntryPoint = "clock_nanosleep")]
    private static partial int ClockNanosleep(int clock, int flags, Timespec* request, Timespec* remain);

    [LibraryImport(Libc, EntryPoint = "sched_getcpu")]
    private static partial int SchedGetcpu();

    [LibraryImport(Libc, EntryPoint = "getrusage", SetLastError = true)]
    private static partial int Getrusage(int who, Rusage* usage);

    /// <summary>CPU time the calling thread has run, in ns.</summary>
    public static long ThreadCpuNs() => ClockNow(ClockThreadCpuTime);

    /// <summary>
    /// CPU time the thread <paramref name="tid"/> of this process has run, in ns; -1 if it cannot be read (the thread
    /// is gone). The clock id is the one <c>pthread_getcpuclockid</c> makes from a TID: <c>(~tid &lt;&lt; 3) | 6</c>
    /// (a per-thread clock, CPUCLOCK_SCHED: the scheduler's runtime, the same figure as <c>schedstat</c>'s first).
    /// A real system call (a foreign thread's clock has no vDSO path), about a quarter of a microsecond.
    /// </summary>
    public static long ThreadCpuNs(int tid) => tid > 0 ? ClockNow((~tid << 3) | 6) : -1; // 0 and below name other clocks

    /// <summary>CLOCK_MONOTONIC in ns (the clock the kernel half stamps with).</summary>
    public static long MonotonicNs() => ClockNow(ClockMonotonic);

    /// <summary>The CPU the calling thread runs on right now.</summary>
    public static int CurrentCpu() => Math.Max(0, SchedGetcpu());

    /// <summary>Sleeps in the kernel for <paramref name="nanoseconds"/> through nanosleep(2), restarting after a signal.</summary>
    public static void Nanosleep(long nanoseconds)
    {
        Timespec request = Timespec.FromNanoseconds(nanoseconds);
        Timespec remaining;
        while (NanosleepNative(&request, &remaining) != 0)
        {
            int errno = Marshal.GetLastSystemError();
            if (errno != EINTR)
            {
                throw new InvalidOperationException($"nanosleep: errno {errno}");
            }

            request = remaining;
        }
    }

    /// <summary>A real sleep of <paramref name="ns"/> on CLOCK_MONOTONIC (restarted after signals).</summary>
    public static void SleepNs(long ns) => SleepUntilNs(MonotonicNs() + ns);

    /// <summary>Sleeps until CLOCK_MONOTONIC reaches <paramref name="deadlineNs"/> (clock_nanosleep, absolute).</summary>
    public static void SleepUntilNs(long deadlineNs)
    {
        Timespec ts = Timespec.FromNanoseconds(deadlineNs);
        while (ClockNanosleep(ClockMonotonic, TimerAbsolute, &ts, null) is int r && r != 0)
        {
            if (r != EINTR)
            {
                throw new InvalidOperationException($"clock_nanosleep failed: {r}");
            }
        }
    }

    /// <summary>Voluntary and involuntary context switches of the whole process so far (getrusage RUSAGE_SELF).</summary>
    public static (long Voluntary, long Involuntary) ContextSwitches()
    {
        Rusage usage = ProcessUsage();
        return (usage.Fields[12], usage.Fields[13]);
    }

    /// <summary>CPU time (user + system) of the whole process so far, in ns.</summary>
    public static long ProcessCpuNs()
    {
        Rusage usage = ProcessUsage();
        return ((usage.UserSeconds + usage.SystemSeconds) * 1_000_000_000) + ((usage.UserMicros + usage.SystemMicros) * 1_000);
    }

    private static Rusage ProcessUsage()
    {
        Rusage usage;
        if (Getrusage(RusageSelf, &usage) != 0)
        {
            throw new InvalidOperationException($"getrusage failed: errno {Marshal.GetLastPInvokeError()}");
        }

        return usage;
    }
}
