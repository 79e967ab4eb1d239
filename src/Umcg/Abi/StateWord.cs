namespace Umcg.Abi;

/// <summary>
/// User space's side of the state word: the few atomic updates user code makes to its own
/// <see cref="UmcgTask.State"/>. Each is a CAS, because the kernel half may change the same word at the
/// same time (a wake, or a detector blocking a worker on its behalf).
/// </summary>
public static unsafe class StateWord
{
    /// <summary>The state part (bits 0–7) of <paramref name="task"/>'s state word.</summary>
    public static TaskState StateOf(UmcgTask* task) => (TaskState)(Volatile.Read(ref task->State) & UmcgConstants.StateMask);

    /// <summary>The flags part (bits 8–15) of <paramref name="task"/>'s state word.</summary>
    public static TaskFlags FlagsOf(UmcgTask* task) => (TaskFlags)(Volatile.Read(ref task->State) & UmcgConstants.FlagsMask);

    /// <summary>
    /// RUNNING → RUNNABLE | TF_COND_WAIT, keeping the user bits: the step before Wait. TF_COND_WAIT tells a
    /// safepoint in between that the task will call Wait, so it must not be parked there.
    /// </summary>
    /// <returns>False if the task was not RUNNING (e.g. already BLOCKED by a detector).</returns>
    /// <remarks>
    /// Keeps <see cref="TaskFlags.Background"/>: a worker demoted while it ran is still in the background when it
    /// waits, and the kernel half's Wait must know it, so that it neither hands on nor releases a record it does not hold.
    /// </remarks>
    public static bool PrepareWait(UmcgTask* task) =>
        Transition(task, TaskState.Running, (uint)TaskState.Runnable | (uint)TaskFlags.CondWait, keep: (uint)TaskFlags.Background);

    /// <summary>
    /// Sets <see cref="TaskFlags.Preempt"/> on a RUNNING task, keeping everything else.
    /// </summary>
    /// <returns>False if the task was not RUNNING (the flag must only be set on RUNNING).</returns>
    public static bool RequestPreempt(UmcgTask* task)
    {
        uint old = Volatile.Read(ref task->State);
        while ((old & UmcgConstants.StateMask) == (uint)TaskState.Running)
        {
            uint seen = Interlocked.CompareExchange(ref task->State, old | (uint)TaskFlags.Preempt, old);
            if (seen == old)
            {
                return true;
            }

            old = seen;
        }

        return false;
    }

    /// <summary>Replaces the user bits (16–31) of the state word, keeping the kernel half's bits.</summary>
    public static void SetUserBits(UmcgTask* task, ushort bits)
    {
        uint old = Volatile.Read(ref task->State);
        while (true)
        {
            uint updated = (old & ~UmcgConstants.UserMask) | ((uint)bits << 16);
            uint seen = Interlocked.CompareExchange(ref task->State, updated, old);
            if (seen == old)
            {
                return;
            }

            old = seen;
        }
    }

    /// <summary>The arrival bits (see <see cref="UmcgConstants.ArrivalMask"/>) of the task's state word.</summary>
    public static byte ArrivalOf(UmcgTask* task) => (byte)((Volatile.Read(ref task->State) & UmcgConstants.ArrivalMask) >> UmcgConstants.ArrivalShift);

    /// <summary>
    /// Replaces the arrival bits (see <see cref="UmcgConstants.ArrivalMask"/>), keeping every other bit. A CAS:
    /// a full fence, which orders it before the caller's next read (the quiet-arrival protocol relies on that).
    /// </summary>
    public static void SetArrival(UmcgTask* task, byte value)
    {
        uint bits = (uint)value << UmcgConstants.ArrivalShift;
        uint old = Volatile.Read(ref task->State);
        while (true)
        {
            uint seen = Interlocked.CompareExchange(ref task->State, (old & ~UmcgConstants.ArrivalMask) | bits, old);
            if (seen == old)
            {
                return;
            }

            old = seen;
        }
    }

    private static bool Transition(UmcgTask* task, TaskState from, uint toStateAndFlags, uint keep)
    {
        uint old = Volatile.Read(ref task->State);
        while ((old & UmcgConstants.StateMask) == (uint)from)
        {
            uint updated = (old & (UmcgConstants.UserMask | keep)) | toStateAndFlags;
            uint seen = Interlocked.CompareExchange(ref task->State, updated, old);
            if (seen == old)
            {
                return true;
            }

            old = seen;
        }

        return false;
    }
}
