using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Umcg.Kernel.Native;

/// <summary>
/// The project's one seam to libc (Linux x64 layouts): every system call the library, its tools and its tests
/// make goes through this class. This part holds what the kernel half is built on (futex, thread ids, clocks,
/// affinity); the other parts: <c>LinuxSyscalls.Files.Linux.cs</c> (descriptors, maps, pipes),
/// <c>LinuxSyscalls.Detection.Linux.cs</c> (perf events, timer slack, limits),
/// <c>LinuxSyscalls.Measurement.Linux.cs</c> (sleeps, CPU time, context switches) and
/// <c>LinuxSyscalls.Memory.Linux.cs</c> (pages for guarded control blocks).
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    private const string Libc = "libc";

    // The x86-64 numbers and flags of every call in this class, in one table.
    public const long SysFutex = 202;
    public const long SysGettid = 186;
    public const long SysTgkill = 234;

    /// <summary>nanosleep(2) on x86-64.</summary>
    public const long SysNanosleep = 35;

    /// <summary>clock_nanosleep(2) on x86-64 (what glibc's nanosleep calls).</summary>
    public const long SysClockNanosleep = 230;

    private const long SysPrctl = 157;
    private const long SysPerfEventOpen = 298;
    private const int PrSetTimerslack = 29;
    private const int RlimitNproc = 6;
    private const int RlimitNofile = 7;
    private const int RusageSelf = 0;
    private const int TimerAbsolute = 1;
    private const int ProtRead = 1;
    private const int MapShared = 1;
    private const int OCloexec = 0x80000;
    private const int ORdonlyCloexec = OCloexec;
    private const int PosixFadvDontneed = 4;

    public const int FutexWake = 1;
    public const int FutexWaitBitset = 9;
    public const int FutexPrivateFlag = 128;
    public const int FutexClockRealtime = 256;
    public const uint FutexBitsetMatchAny = 0xffff_ffff;

    public const int ClockMonotonic = 1;
    public const int ClockThreadCpuTime = 3;

    public const int EPERM = 1;
    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EAGAIN = 11;
    public const int EACCES = 13;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int EMFILE = 24;
    public const int ENOSYS = 38;
    public const int EOPNOTSUPP = 95;
    public const int ETIMEDOUT = 110;

    /// <summary>struct timespec: the one layout every call here that takes a time uses.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;

        public static Timespec FromNanoseconds(long ns) => new() { Seconds = ns / 1_000_000_000, Nanoseconds = ns % 1_000_000_000 };

        public readonly long ToNanoseconds() => (Seconds * 1_000_000_000) + Nanoseconds;
    }

    // futex(2) has no libc wrapper; syscall(2) is variadic, but on x86-64 every argument here travels in a
    // register or the first stack slot exactly as a fixed-arity call passes it.
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long FutexSyscall(long number, uint* uaddr, int op, uint val, Timespec* timeout, uint* uaddr2, uint val3);

    // No SetLastError: a wake's result is not looked at, and saving errno costs on every handoff.
    [LibraryImport(Libc, EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long FutexWakeSyscall(long number, uint* uaddr, int op, int count, nint timeout, nint uaddr2, uint val3);

    [LibraryImport(Libc, EntryPoint = "syscall")]
    [SuppressGCTransition]
    private static partial long Syscall0(long number);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall3(long number, long a1, long a2, long a3);

    // No SetLastError: a failure is reported as -1 by ClockNow, and this runs on every transition.
    [LibraryImport(Libc, EntryPoint = "clock_gettime")]
    [SuppressGCTransition]
    private static partial int ClockGettime(int clock, Timespec* ts);

    [LibraryImport(Libc, EntryPoint = "sched_setaffinity", SetLastError = true)]
    private static partial int SchedSetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport(Libc, EntryPoint = "sched_getaffinity", SetLastError = true)]
    private static partial int SchedGetaffinity(int pid, nuint size, ulong* mask);

    [LibraryImport(Libc, EntryPoint = "getpid")]
    [SuppressGCTransition]
    public static partial int Getpid();

    /// <summary>FUTEX_WAIT_BITSET_PRIVATE: sleeps while <c>*word == expected</c>, until woken or the absolute deadline.</summary>
    /// <returns>0 when woken (or spuriously), or EAGAIN (value differed), EINTR, ETIMEDOUT.</returns>
    public static int FutexWaitAbsolute(uint* word, uint expected, long deadlineNs, bool realtime)
    {
        int op = FutexWaitBitset | FutexPrivateFlag | (realtime ? FutexClockRealtime : 0);
        Timespec ts = Timespec.FromNanoseconds(deadlineNs);
        long r = FutexSyscall(SysFutex, word, op, expected, deadlineNs > 0 ? &ts : null, null, FutexBitsetMatchAny);
        return r == 0 ? 0 : Marshal.GetLastSystemError();
    }

    /// <summary>FUTEX_WAKE_PRIVATE for up to <paramref name="count"/> waiters on <paramref name="word"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void FutexWakeWord(uint* word, int count) =>
        FutexWakeSyscall(SysFutex, word, FutexWake | FutexPrivateFlag, count, 0, 0, 0);

    public static int Gettid() => (int)Syscall0(SysGettid);

    /// <summary>tgkill(pid, tid, 0): whether the thread exists (0) or not (ESRCH).</summary>
    public static bool ThreadExists(int tid)
    {
        long r = Syscall3(SysTgkill, Getpid(), tid, 0);
        return r == 0 || Marshal.GetLastSystemError() != 3;
    }

    public static long ClockNow(int clock)
    {
        Timespec ts;
        return ClockGettime(clock, &ts) == 0 ? ts.ToNanoseconds() : -1;
    }

    /// <summary>Pins the thread <paramref name="tid"/> (0: the caller) to one CPU.</summary>
    public static int PinToCpu(int tid, int cpu) => SetAffinity(tid, [cpu]);

    /// <summary>Lets the thread <paramref name="tid"/> (0: the caller) run on exactly <paramref name="cpus"/>; 0 or an errno.</summary>
    public static int SetAffinity(int tid, ReadOnlySpan<int> cpus)
    {
        const int Words = 16; // 1024 CPUs
        ulong* mask = stackalloc ulong[Words];
        new Span<ulong>(mask, Words).Clear();
        foreach (int cpu in cpus)
        {
            if (cpu < 0 || cpu >= Words * 64)
            {
                return EINVAL;
            }

            mask[cpu / 64] |= 1UL << (cpu % 64);
        }

        return SchedSetaffinity(tid, (nuint)(Words * sizeof(ulong)), mask) == 0 ? 0 : Marshal.GetLastSystemError();
    }

    /// <summary>The CPUs thread <paramref name="tid"/> (0: the caller) may run on.</summary>
    public static int[] GetAffinity(int tid)
    {
        const int Words = 16;
        ulong* mask = stackalloc ulong[Words];
        new Span<ulong>(mask, Words).Clear();
        if (SchedGetaffinity(tid, (nuint)(Words * sizeof(ulong)), mask) != 0)
        {
            return [];
        }

        var cpus = new List<int>();
        for (int w = 0; w < Words; w++)
        {
            for (int b = 0; b < 64; b++)
            {
                if ((mask[w] & (1UL << b)) != 0)
                {
                    cpus.Add((w * 64) + b);
                }
            }
        }

        return [.. cpus];
    }
}
