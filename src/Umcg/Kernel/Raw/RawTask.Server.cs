using Umcg.Abi;

namespace Umcg.Kernel.Raw;

/// <summary>
/// The server's side: the steps of one pass of the canonical server loop (the RFC's UMCG_TF_COND_WAIT
/// comment), for loops that choose their own queue and deadline:
/// <list type="number">
/// <item><see cref="PrepareWait"/>: RUNNING → RUNNABLE|COND_WAIT, so that a wake from here on makes Wait return at once.</item>
/// <item><see cref="DrainRunnable"/>: take the runnable list with one exchange.</item>
/// <item>Pick: write a RUNNABLE worker's TID to <see cref="NextTid"/> if no worker runs (<see cref="SlotHeld"/>) and no pick is pending.</item>
/// <item><see cref="Wait"/>: sleep until the worker gives the CPU back, a wake, or the deadline; or
/// <see cref="CancelWait"/> to leave the loop instead.</item>
/// </list>
/// <see cref="RunWorker"/> is a whole pass for one named worker; <see cref="Accept"/> runs a new worker once.
/// </summary>
internal sealed unsafe partial class RawTask
{
    private readonly List<int> _drained = [];

    /// <summary>What the last <see cref="DrainRunnable"/> took off the runnable list, oldest first.</summary>
    public IReadOnlyList<int> Drained => _drained;

    /// <summary>The next_tid slot: the worker picked to run, with <see cref="UmcgConstants.TidRunning"/> while it runs.</summary>
    public uint NextTid
    {
        get => Volatile.Read(ref Task->NextTid);
        set => Volatile.Write(ref Task->NextTid, value);
    }

    /// <summary>The head of the runnable list (0: empty), read without taking it: for reports.</summary>
    public ulong RunnableHead => Volatile.Read(ref Task->RunnableWorkersPtr);

    /// <summary>Whether a worker runs for this server now (the kernel half set TID_RUNNING in the slot).</summary>
    public bool SlotHeld => (NextTid & UmcgConstants.TidRunning) != 0;

    /// <summary>Step 1: RUNNING → RUNNABLE|COND_WAIT; false if the task was not RUNNING.</summary>
    public bool PrepareWait() => StateWord.PrepareWait(Task);

    /// <summary>
    /// Step 2: takes the runnable list with one exchange into <see cref="Drained"/>, in arrival order (the list
    /// is LIFO, so it is reversed).
    /// </summary>
    /// <returns>Ok, or EFAULT if an entry was not a control block (every queued worker is reported all the same).</returns>
    public Errno DrainRunnable()
    {
        _drained.Clear();
        var r = RunnableList.Drain(Kernel, Task, _drained);
        _drained.Reverse();
        return r;
    }

    /// <summary>Step 4: the server's Wait, until <paramref name="deadlineNs"/> (CLOCK_MONOTONIC; 0: none).</summary>
    public Errno Wait(long deadlineNs = 0) => Kernel.Wait(0, deadlineNs);

    /// <summary>Undoes step 1 without waiting (RUNNABLE|COND_WAIT → RUNNING): the loop is leaving.</summary>
    public void CancelWait() => Interlocked.Exchange(ref Task->State, (uint)TaskState.Running);

    /// <summary>The state of task <paramref name="tid"/> (TID_RUNNING ignored), or None if the kernel half does not know it.</summary>
    public TaskState StateOf(uint tid)
    {
        var block = tid == 0 ? null : Kernel.BlockOf((int)(tid & UmcgConstants.TidMask));
        return block == null ? TaskState.None : StateWord.StateOf(block);
    }

    /// <summary>Whether task <paramref name="tid"/> is RUNNABLE: the only state a pick may name.</summary>
    public bool IsRunnable(uint tid) => StateOf(tid) == TaskState.Runnable;

    /// <summary>
    /// One whole pass with nothing running: prepare, drain, name <paramref name="tid"/> in next_tid, Wait without a
    /// deadline. Returns once the worker has given the CPU back.
    /// </summary>
    /// <exception cref="InvalidOperationException">A step failed, or the server woke while its worker still held the slot.</exception>
    public void RunWorker(int tid)
    {
        if (!PrepareWait())
        {
            throw new InvalidOperationException("server was not RUNNING before Wait");
        }

        Check(DrainRunnable(), "drain");
        NextTid = (uint)tid;
        Check(Wait(), "server wait");

        // Only the worker's release of the slot wakes the server here; a slot still naming it means a wake
        // came from somewhere else while the worker ran.
        if (NextTid != 0)
        {
            throw new InvalidOperationException("server woke while its worker still held the slot");
        }
    }

    /// <summary>
    /// Runs a new worker once; returns when it has registered, run and released the slot. The worker is named in
    /// next_tid only after it has shown up on the runnable list (before that it may not be registered yet:
    /// ESRCH). Its registration also wakes the server, possibly while it already runs, so Ok alone does not mean
    /// it gave the CPU back: the released slot does.
    /// </summary>
    /// <param name="tidOf">The worker's TID, or 0 while its thread has not published it yet.</param>
    /// <param name="limit">How long the worker may take to register before this throws.</param>
    /// <exception cref="InvalidOperationException">A Wait failed, or the worker was not accepted within <paramref name="limit"/>.</exception>
    public void Accept(Func<int> tidOf, TimeSpan limit)
    {
        ArgumentNullException.ThrowIfNull(tidOf);
        long deadline = KernelClock.DeadlineAfter(ClockId.Monotonic, limit);
        bool queued = false;
        while (true)
        {
            if (KernelClock.Now(ClockId.Monotonic) > deadline)
            {
                throw new InvalidOperationException($"a worker was not accepted within {limit.TotalSeconds:0} s");
            }

            PrepareWait();
            Check(DrainRunnable(), "drain");
            int tid = tidOf();
            queued |= tid != 0 && _drained.Contains(tid);
            if (queued && !SlotHeld)
            {
                NextTid = (uint)tid;
            }

            // EAGAIN: woken between PrepareWait and Wait; ETIMEDOUT: the worker has not queued itself yet.
            var r = Wait(KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(1)));
            if (r is not (Errno.Ok or Errno.EAGAIN or Errno.ETIMEDOUT))
            {
                throw new InvalidOperationException($"server wait while accepting worker {tid}: {r}");
            }

            if (queued && r == Errno.Ok && NextTid == 0)
            {
                return;
            }
        }
    }
}
