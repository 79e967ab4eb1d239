using Umcg.Kernel.Native;

namespace Umcg.Scheduling.Demotion;

/// <summary>
/// What <see cref="ThreadDemotion.Demote"/> did to one thread, and what it found there before: the state
/// <see cref="ThreadDemotion.Restore"/> puts back. The caller keeps it beside the worker for as long as the
/// thread stays demoted.
/// </summary>
/// <param name="Tid">The thread.</param>
/// <param name="Mechanism">How it was demoted; <see cref="DemotionMechanism.None"/> when the demotion was refused.</param>
/// <param name="Errno">0 when demoted, else why not (ESRCH: no such thread; EPERM; EOPNOTSUPP: demotion unavailable).</param>
/// <param name="SavedPolicy">The thread's scheduling policy before (SCHED_OTHER for a worker).</param>
/// <param name="SavedNice">The thread's nice value before.</param>
/// <param name="SavedPriority">The thread's real-time priority before (0 for a fair policy).</param>
internal readonly record struct DemotedThread(int Tid, DemotionMechanism Mechanism, int Errno, int SavedPolicy, int SavedNice, int SavedPriority)
{
    /// <summary>Whether the thread now runs demoted.</summary>
    public bool IsDemoted => Mechanism != DemotionMechanism.None;

    /// <summary>A demotion of <paramref name="tid"/> that did not happen, for <paramref name="errno"/>.</summary>
    public static DemotedThread Refused(int tid, int errno) => new(tid, DemotionMechanism.None, errno, 0, 0, 0);

    /// <inheritdoc/>
    public override string ToString() => IsDemoted
        ? $"thread {Tid} demoted by {Mechanism} (was policy {SavedPolicy}, nice {SavedNice})"
        : $"thread {Tid} not demoted: {LinuxSyscalls.ErrnoName(Errno)}";
}
