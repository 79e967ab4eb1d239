using Umcg.Kernel.Detection;
using Umcg.Kernel.Native;

namespace Umcg.Scheduling.Demotion;

/// <summary>
/// Demotes and restores OS threads: the lever by which a server takes its CPU back from a worker that overstays
/// without reaching a safepoint. A demoted thread keeps running, but CFS/EEVDF gives a nice-0 thread on the same
/// CPU nearly all of it (SCHED_IDLE: weight 3 against 1024; nice 19: 15 against 1024). Demotion is relative within
/// the thread's autogroup (its session), so it counts against threads of the same process.
/// <para>
/// The constructor detects what the process may do (<see cref="Mode"/>): it reads the privilege
/// (<see cref="NicePrivilege"/>), then tries the round trip on a short-lived thread of its own, because the
/// kernel's answer is what counts (a capability held only inside a user namespace, a seccomp filter, a limit raised
/// since). Thread-safe: every method may be called from any thread; the counters are exact.
/// </para>
/// </summary>
internal sealed class ThreadDemotion
{
    private const int EOPNOTSUPP = LinuxSyscalls.EOPNOTSUPP;

    // Each counter is changed only by Interlocked.Increment, once per call that did (or failed) the thing it
    // counts, so that a reader after the calls returned sees exactly their number.
    private readonly Func<long>? _restoredSliceNs;
    private long _demotions;
    private long _restorations;
    private long _demotionFailures;
    private long _restorationFailures;

    /// <summary>Detects the mode; demotions use <paramref name="preferred"/> first (SCHED_IDLE unless told otherwise).</summary>
    /// <param name="preferred">
    /// <see cref="DemotionMechanism.SchedIdle"/>: SCHED_IDLE, nice 19 where SCHED_IDLE is refused;
    /// <see cref="DemotionMechanism.Nice19"/>: nice 19 only.
    /// </param>
    /// <param name="restoredSliceNs">
    /// The OS time slice a restored SCHED_IDLE thread is given back, read at each restoration (the scheduler's slice of
    /// the moment: see <see cref="OsSliceGovernor"/>); null: the OS's own.
    /// </param>
    public ThreadDemotion(DemotionMechanism preferred = DemotionMechanism.SchedIdle, Func<long>? restoredSliceNs = null)
    {
        _restoredSliceNs = restoredSliceNs;
        if (preferred == DemotionMechanism.None)
        {
            throw new ArgumentOutOfRangeException(nameof(preferred), preferred, "a demotion needs a mechanism");
        }

        Privilege = NicePrivilege.OfCaller();
        if (!OperatingSystem.IsLinux())
        {
            Mode = DemotionMode.Unavailable;
            Reason = "not Linux";
            return;
        }

        var (trial, restored) = Trial(preferred);
        Mechanism = trial.Mechanism;
        if (!trial.IsDemoted)
        {
            Mode = DemotionMode.Unavailable;
            Reason = $"lowering a thread was refused ({LinuxSyscalls.ErrnoName(trial.Errno)})";
            return;
        }

        Mode = restored == 0 ? DemotionMode.Restorable : DemotionMode.OneWay;
        string kernel = restored == 0
            ? "restored"
            : $"restoring from {trial.Mechanism} was refused ({LinuxSyscalls.ErrnoName(restored)})";
        Reason = Privilege.MayRestoreTo(trial.SavedNice) == (restored == 0)
            ? $"{Privilege.Explain(trial.SavedNice)}; {kernel}"
            : $"{Privilege.Explain(trial.SavedNice)}, but the kernel disagreed: {kernel}";
    }

    /// <summary>What the process may do, detected at construction.</summary>
    public DemotionMode Mode { get; }

    /// <summary>How <see cref="Demote"/> lowers a thread first; <see cref="DemotionMechanism.None"/> when <see cref="Mode"/> is unavailable.</summary>
    public DemotionMechanism Mechanism { get; }

    /// <summary>The privilege read at construction.</summary>
    public NicePrivilege Privilege { get; }

    /// <summary>Why <see cref="Mode"/> is what it is, in the kernel's terms (for the scheduler's start message).</summary>
    public string Reason { get; }

    /// <summary>Threads demoted.</summary>
    public long Demotions => Interlocked.Read(ref _demotions);

    /// <summary>Threads restored.</summary>
    public long Restorations => Interlocked.Read(ref _restorations);

    /// <summary>Demotions refused (no such thread, not allowed, or unavailable).</summary>
    public long DemotionFailures => Interlocked.Read(ref _demotionFailures);

    /// <summary>Restorations refused (in <see cref="DemotionMode.OneWay"/>: every one; or the thread was gone).</summary>
    public long RestorationFailures => Interlocked.Read(ref _restorationFailures);

    /// <summary>Every refused demotion and restoration.</summary>
    public long Failures => DemotionFailures + RestorationFailures;

    /// <summary>
    /// The CPU time thread <paramref name="tid"/> has run so far, in ns, or -1 where it cannot be read (the thread is
    /// gone, or demotion is unavailable here). The grace before a demotion counts in it (D1 in Server.Demotion.cs).
    /// </summary>
    public long CpuTimeNs(int tid) =>
        Mode == DemotionMode.Unavailable ? -1 : CpuClockForTests is { } clock ? clock(tid) : LinuxSyscalls.ThreadCpuNs(tid);

    /// <summary>Stands in for the OS's thread CPU clock in <see cref="CpuTimeNs"/>: tests make a worker the OS does not run certain.</summary>
    /// <remarks>
    /// Swapped by a test while a server reads it: one reference write, so each read sees the old clock or the new. A
    /// grace whose baseline came from one and reading from the other measures nonsense; the tests install the stand-in
    /// before the give-way is asked and remove it to end the deferrals, where that nonsense is a huge run: a demotion.
    /// </remarks>
    internal Func<int, long>? CpuClockForTests { get; set; }

    /// <summary>
    /// Whether thread <paramref name="tid"/> sleeps in the kernel now (not on a CPU, not waiting for one); true where
    /// that cannot be read, so that a caller deciding to demote keeps the clock's verdict.
    /// </summary>
    public static bool SleepsNowOrUnknown(int tid) => ProcThreadFiles.SleepsNow(tid) != false;

    /// <summary>
    /// Lowers thread <paramref name="tid"/>: SCHED_IDLE (keeping its nice for the way back), or nice 19 where
    /// SCHED_IDLE is refused or <see cref="Mechanism"/> says so. Demoting a thread that is already demoted saves
    /// the demoted state as the one to restore: the caller demotes a thread once.
    /// </summary>
    /// <returns>What was done and what to restore; counted as a demotion or a failure.</returns>
    public DemotedThread Demote(int tid)
    {
        var demoted = Mode == DemotionMode.Unavailable ? DemotedThread.Refused(tid, EOPNOTSUPP) : Lower(tid, Mechanism);
        Interlocked.Increment(ref demoted.IsDemoted ? ref _demotions : ref _demotionFailures);
        return demoted;
    }

    /// <summary>
    /// Puts <paramref name="demoted"/>'s thread back at the policy and nice it had. The kernel decides: in
    /// <see cref="DemotionMode.OneWay"/> it refuses (SCHED_IDLE → SCHED_OTHER: EPERM; nice 19 → lower: EACCES).
    /// </summary>
    /// <returns>0 when restored, else the errno (ESRCH: the thread is gone; EINVAL: <paramref name="demoted"/> was not demoted); counted as a restoration or a failure.</returns>
    public int Restore(in DemotedThread demoted)
    {
        int errno = Raise(demoted, _restoredSliceNs?.Invoke() ?? 0);
        Interlocked.Increment(ref errno == 0 ? ref _restorations : ref _restorationFailures);
        return errno;
    }

    /// <summary>One demotion by <paramref name="first"/>, falling back from SCHED_IDLE to nice 19; not counted.</summary>
    private static DemotedThread Lower(int tid, DemotionMechanism first)
    {
        int errno = LinuxSyscalls.GetSchedPolicy(tid, out int policy, out int nice, out int priority);
        if (errno != 0)
        {
            return DemotedThread.Refused(tid, errno);
        }

        if (first == DemotionMechanism.SchedIdle)
        {
            errno = LinuxSyscalls.SetSchedPolicy(tid, LinuxSyscalls.SchedIdle, nice, 0);
            bool realTime = policy is LinuxSyscalls.SchedFifo or LinuxSyscalls.SchedRr;
            if (errno == 0 || errno == LinuxSyscalls.ESRCH || realTime)
            {
                // A real-time thread is not lowered by a nice value: there is no fallback for it.
                return errno == 0 ? new(tid, DemotionMechanism.SchedIdle, 0, policy, nice, priority) : DemotedThread.Refused(tid, errno);
            }
        }

        errno = LinuxSyscalls.SetNice(tid, LinuxSyscalls.MaxNice);
        return errno == 0 ? new(tid, DemotionMechanism.Nice19, 0, policy, nice, priority) : DemotedThread.Refused(tid, errno);
    }

    /// <summary>One restoration; not counted.</summary>
    private static int Raise(in DemotedThread demoted, long sliceNs) => demoted.Mechanism switch
    {
        // The class change drops any slice the thread had: the scheduler's is asked again. Nice 19 keeps it.
        DemotionMechanism.SchedIdle => LinuxSyscalls.SetSchedPolicy(demoted.Tid, demoted.SavedPolicy, demoted.SavedNice, demoted.SavedPriority, sliceNs),
        DemotionMechanism.Nice19 => LinuxSyscalls.SetNice(demoted.Tid, demoted.SavedNice),
        _ => LinuxSyscalls.EINVAL,
    };

    /// <summary>The round trip on a thread started for it (it inherits the caller's policy and nice), uncounted.</summary>
    private static (DemotedThread Demoted, int Restored) Trial(DemotionMechanism preferred)
    {
        (DemotedThread, int) outcome = default;
        var trial = new Thread(() =>
        {
            var demoted = Lower(LinuxSyscalls.Gettid(), preferred);
            outcome = (demoted, demoted.IsDemoted ? Raise(demoted, 0) : LinuxSyscalls.EINVAL);
        })
        {
            IsBackground = true,
            Name = "umcg demotion trial",
        };
        trial.UnsafeStart();
        trial.Join();
        return outcome;
    }
}
