using System.Runtime.InteropServices;

namespace Umcg.Kernel.Native;

/// <summary>
/// A thread's standing with the OS scheduler: its policy (sched_setattr/sched_getattr), its nice value
/// (setpriority/getpriority on one thread id), and what the process may do about them (RLIMIT_NICE, CAP_SYS_NICE).
/// What demoting a worker that overstays is built on. Every call returns 0 or an errno, never throws.
/// </summary>
internal static unsafe partial class LinuxSyscalls
{
    // x86-64 numbers of the calls this part makes; none of them has a glibc wrapper that takes a thread id
    // and returns the raw value (glibc's getpriority folds the kernel's 20 - nice back into a nice that may be
    // -1, indistinguishable from an error without clearing errno first).
    private const long SysGetpriority = 140;
    private const long SysSetpriority = 141;
    private const long SysCapget = 125;
    private const long SysSchedSetattr = 314;
    private const long SysSchedGetattr = 315;

    private const ulong SchedFlagResetOnFork = 0x01; // SCHED_FLAG_RESET_ON_FORK: children start at the OS's defaults
    private const int PrioProcess = 0; // "which": one task, named by its thread id
    private const int RlimitNice = 13;
    private const uint LinuxCapabilityVersion3 = 0x2008_0522;

    /// <summary>CAP_SYS_NICE: may raise any thread's priority, whatever RLIMIT_NICE says.</summary>
    public const int CapSysNice = 23;

    /// <summary>SCHED_OTHER (SCHED_NORMAL): the default, CFS/EEVDF at the thread's nice.</summary>
    public const int SchedOther = 0;

    /// <summary>SCHED_FIFO: real-time, first in first out.</summary>
    public const int SchedFifo = 1;

    /// <summary>SCHED_RR: real-time, round robin.</summary>
    public const int SchedRr = 2;

    /// <summary>SCHED_BATCH: fair class, treated as CPU-bound.</summary>
    public const int SchedBatch = 3;

    /// <summary>SCHED_IDLE: fair class at the lowest weight (3, against 1024 for nice 0).</summary>
    public const int SchedIdle = 5;

    /// <summary>The highest nice value: the lowest priority within SCHED_OTHER (weight 15 against 1024 for nice 0).</summary>
    public const int MaxNice = 19;

    /// <summary>No such thread.</summary>
    public const int ESRCH = 3;

    /// <summary>struct sched_attr as of SCHED_ATTR_SIZE_VER0 (48 bytes): what both calls here read and write.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapHeader
    {
        public uint Version;
        public int Pid;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CapData
    {
        public uint Effective;
        public uint Permitted;
        public uint Inheritable;
    }

    [LibraryImport(Libc, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall4(long number, long a1, long a2, long a3, long a4);

    /// <summary>Thread <paramref name="tid"/>'s (0: the caller's) scheduling policy, nice and real-time priority (sched_getattr).</summary>
    /// <returns>0, or ESRCH (no such thread), EINVAL, EPERM.</returns>
    public static int GetSchedPolicy(int tid, out int policy, out int nice, out int priority)
    {
        SchedAttr attr = default;
        long r = Syscall4(SysSchedGetattr, tid, (long)&attr, sizeof(SchedAttr), 0);
        policy = (int)attr.Policy;
        nice = attr.Nice;
        priority = (int)attr.Priority;
        return r == 0 ? 0 : Marshal.GetLastSystemError();
    }

    /// <summary>
    /// Thread <paramref name="tid"/>'s (0: the caller's) time slice under a fair policy: sched_getattr's
    /// <c>sched_runtime</c>, which Linux 6.12 and later report (the default slice unless one was asked); 0 before.
    /// </summary>
    /// <returns>0, or ESRCH (no such thread), EINVAL.</returns>
    public static int GetSchedSlice(int tid, out long sliceNs)
    {
        SchedAttr attr = default;
        long r = Syscall4(SysSchedGetattr, tid, (long)&attr, sizeof(SchedAttr), 0);
        sliceNs = (long)attr.Runtime;
        return r == 0 ? 0 : Marshal.GetLastSystemError();
    }

    /// <summary>
    /// Moves a thread to <paramref name="policy"/> at <paramref name="nice"/> (fair policies) or
    /// <paramref name="priority"/> (real-time ones) through sched_setattr. Lowering is always allowed on one's own
    /// threads; SCHED_IDLE back to SCHED_OTHER at nice n needs RLIMIT_NICE ≥ 20 − n or CAP_SYS_NICE.
    /// </summary>
    /// <param name="tid">The thread (0: the caller).</param>
    /// <param name="policy">The policy.</param>
    /// <param name="nice">The nice value, for a fair policy.</param>
    /// <param name="priority">The real-time priority, for a real-time policy (0 otherwise).</param>
    /// <param name="sliceNs">
    /// For SCHED_OTHER and SCHED_BATCH: the thread's time slice (<c>sched_runtime</c>; Linux 6.12 and later clamp it to
    /// 0.1–100 ms, earlier kernels ignore it), or 0 for the OS's default. Every call sets it: a class change without it
    /// drops a slice set before. With a slice the thread also resets on fork: threads it starts get the OS's slice.
    /// </param>
    /// <returns>0, or EPERM (not allowed), ESRCH (no such thread), EINVAL.</returns>
    public static int SetSchedPolicy(int tid, int policy, int nice, int priority, long sliceNs = 0)
    {
        SchedAttr attr = default;
        attr.Size = (uint)sizeof(SchedAttr);
        attr.Policy = (uint)policy;
        attr.Nice = nice;
        attr.Priority = (uint)priority;
        if (policy is SchedOther or SchedBatch && sliceNs > 0)
        {
            // Threads the caller starts (a body's own threads, the runtime's) take the OS's slice, not ours.
            attr.Runtime = (ulong)sliceNs;
            attr.Flags = SchedFlagResetOnFork;
        }

        return Syscall4(SysSchedSetattr, tid, (long)&attr, 0, 0) == 0 ? 0 : Marshal.GetLastSystemError();
    }

    /// <summary>
    /// Moves the calling thread between the two fair classes, <paramref name="from"/> → <paramref name="to"/>
    /// (<see cref="SchedOther"/>, <see cref="SchedBatch"/>), keeping its nice and asking <paramref name="sliceNs"/>
    /// again (a class change drops the slice; 0: the OS's own). A thread under any other policy (lowered by a demotion,
    /// or set so by code the scheduler does not own) is left as it is.
    /// </summary>
    /// <returns>Whether the thread runs under <paramref name="to"/> now.</returns>
    public static bool SwitchFairClass(int from, int to, long sliceNs = 0)
    {
        if (GetSchedPolicy(0, out int policy, out int nice, out _) != 0)
        {
            return false;
        }

        if (policy == to)
        {
            return true;
        }

        return policy == from && SetSchedPolicy(0, to, nice, 0, sliceNs) == 0;
    }

    /// <summary>The nice value (−20 … 19) of one thread (getpriority(PRIO_PROCESS, tid)).</summary>
    /// <returns>0, or ESRCH (no such thread).</returns>
    public static int GetNice(int tid, out int nice)
    {
        // The raw call returns 20 - nice (1 … 40), so that no success looks like -1.
        long r = Syscall4(SysGetpriority, PrioProcess, tid, 0, 0);
        nice = r > 0 ? 20 - (int)r : 0;
        return r > 0 ? 0 : Marshal.GetLastSystemError();
    }

    /// <summary>Sets the nice value of one thread (setpriority(PRIO_PROCESS, tid, nice)).</summary>
    /// <returns>0, or EACCES (raising priority: needs RLIMIT_NICE ≥ 20 − nice or CAP_SYS_NICE), EPERM (another user's thread), ESRCH.</returns>
    public static int SetNice(int tid, int nice) =>
        Syscall4(SysSetpriority, PrioProcess, tid, nice, 0) == 0 ? 0 : Marshal.GetLastSystemError();

    /// <summary>The soft RLIMIT_NICE: a thread may lower its nice to 20 − this (<see cref="ulong.MaxValue"/>: unlimited); null if unreadable.</summary>
    public static ulong? NiceLimit()
    {
        Rlimit limit;
        return Getrlimit(RlimitNice, &limit) == 0 ? limit.Current : null;
    }

    /// <summary>Whether capability <paramref name="capability"/> (e.g. <see cref="CapSysNice"/>) is in the calling thread's effective set (capget); null if unreadable.</summary>
    public static bool? HasEffectiveCapability(int capability)
    {
        CapHeader header = new() { Version = LinuxCapabilityVersion3, Pid = 0 };
        CapData* data = stackalloc CapData[2]; // version 3: two 32-bit words per set
        if (Syscall4(SysCapget, (long)&header, (long)data, 0, 0) != 0)
        {
            return null;
        }

        return (data[capability / 32].Effective & (1u << (capability % 32))) != 0;
    }
}
