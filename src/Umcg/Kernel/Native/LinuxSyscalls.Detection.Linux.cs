using System.Runtime.InteropServices;

namespace Umcg.Kernel.Native;

/// <summary>What the blocking detectors need besides files: perf_event_open, timer slack, the descriptor limit.</summary>
internal static unsafe partial class LinuxSyscalls
{
    // perf_event_attr: the layout of PERF_ATTR_SIZE_VER8 (128 bytes), the fields this file sets.
    private const uint PerfTypeSoftware = 1;
    private const ulong PerfCountSwDummy = 9;
    private const ulong PerfSampleTid = 1 << 1;
    private const ulong PerfSampleTime = 1 << 2;
    private const ulong PerfFlagFdCloexec = 1 << 3;

    // Bits of the attr's flag word (offset 40), in the order of the C bit-field.
    private const ulong AttrExcludeKernel = 1UL << 5;
    private const ulong AttrExcludeHv = 1UL << 6;
    private const ulong AttrWatermark = 1UL << 14;
    private const ulong AttrSampleIdAll = 1UL << 18;
    private const ulong AttrUseClockid = 1UL << 25;
    private const ulong AttrContextSwitch = 1UL << 26;
    private const ulong AttrWriteBackward = 1UL << 27;

    [StructLayout(LayoutKind.Explicit, Size = 128)]
    private struct PerfEventAttr
    {
        [FieldOffset(0)] public uint Type;
        [FieldOffset(4)] public uint Size;
        [FieldOffset(8)] public ulong Config;
        [FieldOffset(24)] public ulong SampleType;
        [FieldOffset(40)] public ulong Flags;
        [FieldOffset(48)] public uint WakeupWatermark;
        [FieldOffset(92)] public int ClockId;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Max;
    }

    // syscall(2) is variadic; on x86-64 these integer arguments travel in registers exactly as a fixed-arity
    // call passes them (the same reasoning as the futex call).
    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long PerfEventOpenSyscall(long number, PerfEventAttr* attr, int pid, int cpu, int groupFd, ulong flags);

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long PrctlSyscall(long number, long option, long arg2, long arg3, long arg4, long arg5);

    [LibraryImport(Libc, EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int Getrlimit(int resource, Rlimit* limit);

    /// <summary>
    /// Opens a context-switch event on thread <paramref name="tid"/> (any CPU): a software dummy event that
    /// counts nothing and only emits PERF_RECORD_SWITCH side-band records, user-space only (what
    /// perf_event_paranoid 2 allows), stamped with the thread id and CLOCK_MONOTONIC time, written backward
    /// so that the newest record sits at the ring's head.
    /// </summary>
    /// <returns>The file descriptor, or a negated errno.</returns>
    public static int OpenSwitchEvent(int tid, uint wakeupWatermark)
    {
        PerfEventAttr attr = default;
        attr.Type = PerfTypeSoftware;
        attr.Size = (uint)sizeof(PerfEventAttr);
        attr.Config = PerfCountSwDummy;
        attr.SampleType = PerfSampleTid | PerfSampleTime;

        // A watermark as large as the ring: the kernel queues at most one (unheard) wakeup per ring's worth
        // of records. Nobody polls these descriptors.
        attr.Flags = AttrExcludeKernel | AttrExcludeHv | AttrWatermark | AttrSampleIdAll | AttrUseClockid | AttrContextSwitch | AttrWriteBackward;
        attr.WakeupWatermark = wakeupWatermark;
        attr.ClockId = ClockMonotonic;
        long fd = PerfEventOpenSyscall(SysPerfEventOpen, &attr, tid, -1, -1, PerfFlagFdCloexec);
        return fd >= 0 ? (int)fd : -Marshal.GetLastSystemError();
    }

    /// <summary>Sets the calling thread's timer slack, so that its timed sleeps end close to their deadline.</summary>
    public static void SetTimerSlack(long nanoseconds) => PrctlSyscall(SysPrctl, PrSetTimerslack, nanoseconds, 0, 0, 0);

    /// <summary>The soft limit on open file descriptors.</summary>
    public static long OpenFileLimit()
    {
        Rlimit limit;
        return Getrlimit(RlimitNofile, &limit) == 0 ? (long)Math.Min(limit.Current, int.MaxValue) : 1024;
    }

    /// <summary>The soft and hard limits on threads of the calling user (RLIMIT_NPROC; <see cref="ulong.MaxValue"/> is unlimited), or null.</summary>
    public static (ulong Soft, ulong Hard)? ThreadCountLimit()
    {
        Rlimit limit;
        return Getrlimit(RlimitNproc, &limit) == 0 ? (limit.Current, limit.Max) : null;
    }

    /// <summary>The name of an errno value, for diagnostics.</summary>
    public static string ErrnoName(int errno) => errno switch
    {
        EPERM => "EPERM",
        ENOENT => "ENOENT",
        EACCES => "EACCES",
        ENODEV => "ENODEV",
        EINVAL => "EINVAL",
        EMFILE => "EMFILE",
        ENOSYS => "ENOSYS",
        EOPNOTSUPP => "EOPNOTSUPP",
        12 => "ENOMEM",
        23 => "ENFILE",
        _ => $"errno {errno}",
    };
}
