using Umcg.Abi;
using Umcg.Scheduling.Demotion;

namespace Umcg.Scheduling;

// Preemption by demotion: a worker asked to give way (S4) that reaches no safepoint within the grace period keeps
// running, but in the background, and the server runs its next worker on the same CPU. See docs/preemption.md.
//
// Steps (server thread, within a turn of the loop)
//   D1 when: the running worker still has TF_PREEMPT, has run at least GracePeriod of CPU time since it was asked
//      (the grace alarm rings us by the moment it could have: DemotionDeadline, Server.GraceAlarm.cs), another worker is queued, and fewer
//      than MaxDemotedPerServer workers of this server are in the background. The grace counts the worker's CPU time,
//      not the clock's: a worker the OS did not run meanwhile — other processes held its CPU — had no chance to reach
//      its safepoint, and lowered behind those processes it would barely run again, and stall every stop-the-world
//      GC until it did. A worker found asleep in the kernel at the grace's end is demoted as before: its own wait, not
//      the OS, keeps it from its safepoint (a blocking call nobody announced).
//   D2 demote: K9 first — the kernel half's CAS is the one step that decides against the worker's own give-way; a
//      worker that reached its safepoint first keeps its record and its priority — then its OS thread is lowered
//      (SCHED_IDLE, or nice 19). CFS then gives the next worker nearly the whole CPU.
//   D3 the same turn picks the next worker (S4).
//   D4 back: a background worker leaves at its next safepoint, block, wait or exit (the kernel half queues it like an
//      arrival, K5/K2 from the background). Whoever next runs it in the foreground restores its thread: the server's
//      pick, a worker that hands it the CPU (H2), or the worker itself as it blocks, so that its wake-up is not
//      starved. When the server has nothing better to run — a queue whose head the policy would not preempt it for,
//      or an empty queue for a grace period — it adopts its oldest background worker (K10) and restores it. Until then
//      a lowered thread takes the CPU only when nothing else wants it, and a request that arrives meanwhile runs at
//      once instead of waiting out a second grace period behind the adopted worker.
//
// Invariants
//   V1′ at most one foreground worker per server: K9 empties the record before D3's pick; K10 needs an empty record.
//   V7 a server has at most MaxDemotedPerServer background workers (D1 counts them after pruning those that left).
//   V8 a restoration happens once per demotion: WorkerThread._demoted is taken by one exchange.
internal sealed unsafe partial class Server
{
    // This server's background workers, oldest first. Server thread only. An entry leaves when the server adopts it
    // or finds it no longer in the background (it left by itself, D4): pruned before every count and every adoption.
    private readonly List<WorkerThread> _background = [];

    // _background.Count as other threads may read it (O5: a block leaves the server open only if it has no background
    // worker to adopt). Written by the server after each change of the list.
    private volatile int _backgroundCount;

    // A background worker that holds a Umcg lock a parked worker waits for: adopted ahead of the queue (D4). Written by
    // the waiter (then it wakes us), taken by our next adoption look.
    private WorkerThread? _adoptFirst;

    // Set when an adoption failed this turn: the loop drains again before it sleeps (see Adopted). Server thread only.
    private bool _lookAgain;

    // D1's grace for the give-way this loop asked of its running worker (S4). Server thread only.
    //   _giveWayAskedCpuNs: the worker's CPU time when asked; -1 when it cannot be read (then the clock counts alone).
    //   _graceEndsNs: when D1 looks next — the grace's end had the worker run all along, pushed back by what it did not.
    private long _giveWayAskedCpuNs;
    private long _graceEndsNs;

    // Since when this loop has found nothing to run but background workers (0: it ran something since), for D4's
    // adoption after a grace period. Server thread only.
    private long _onlyBackgroundSinceNs;

    /// <summary>D1 and D2 for the running worker; true if it is in the background now and the server's record is empty.</summary>
    private bool DemoteIfOverstayed(WorkerThread running, long now)
    {
        var demotion = _scheduler.Demotion;
        if (demotion is null || demotion.Mode == DemotionMode.Unavailable || running.HoldsAwaitedLock || !OverstayedGiveWay(running, now))
        {
            return false;
        }

        PruneBackground();
        if (_background.Count >= _scheduler.Options.Demotion.MaxDemotedPerServer)
        {
            return false;
        }

        lock (_queueLock)
        {
            if (_policy.Count == 0)
            {
                return false; // nothing else to run: demoting it would only make it adoptable at once
            }
        }

        if (Kernel.Demote(running.Tid) != Errno.Ok)
        {
            return false; // it gave way, blocked or left first: its own transition took care of the record
        }

        // One-way: a thread demoted for good is not lowered twice (a second demotion would save the lowered state).
        if (!running.RunsDemotedForGood)
        {
            var demoted = demotion.Demote(running.Tid);
            if (demoted.IsDemoted)
            {
                running.NoteDemoted(demoted, demotion.Mode);
            }
        }

        _background.Add(running);
        _backgroundCount = _background.Count;
        Interlocked.CompareExchange(ref _askedToGiveWay, 0, running.Tid); // it will never give way on our list now
        _sliceOwner = 0;
        _scheduler.Telemetry.Demoted(this, running);
        return true;
    }

    private long GraceNs => (long)_scheduler.Options.Demotion.GracePeriod.TotalNanoseconds;

    /// <summary>S4 asked <paramref name="running"/> to give way at <paramref name="now"/>: D1's grace starts, by the clock and by its CPU time.</summary>
    private void NoteGiveWayAsked(WorkerThread running, long now)
    {
        _graceEndsNs = now + GraceNs;
        _giveWayAskedCpuNs = _scheduler.Demotion is { Mode: not DemotionMode.Unavailable } demotion ? demotion.CpuTimeNs(running.Tid) : -1;
    }

    /// <summary>
    /// Whether the running worker, asked to give way, has since run a grace period's worth of CPU (or sleeps in the
    /// kernel past the grace) and still holds the CPU. One that ran less and waits for a CPU now — the OS gave its CPU
    /// to other processes — gets the rest of its grace: D1 looks again when it could have run it.
    /// </summary>
    private bool OverstayedGiveWay(WorkerThread running, long now)
    {
        if (Volatile.Read(ref _askedToGiveWay) != running.Tid
            || (StateWord.FlagsOf(running.Block.Task) & TaskFlags.Preempt) == 0
            || now < _graceEndsNs)
        {
            return false;
        }

        long cpu = _giveWayAskedCpuNs < 0 ? -1 : _scheduler.Demotion!.CpuTimeNs(running.Tid);
        long ran = cpu - _giveWayAskedCpuNs;
        if (cpu < 0 || ran >= GraceNs)
        {
            return true; // unreadable (the clock alone decides; a thread gone fails K9 anyway), or it overstayed
        }

        if (ThreadDemotion.SleepsNowOrUnknown(running.Tid))
        {
            // Asleep in the kernel, unannounced (no region, no detector mark yet): not the OS but its own wait keeps
            // it from its safepoint, and demotion is what gives its CPU to the next worker.
            return true;
        }

        // At least a quarter grace on: a worker that gets only slivers of its CPU must not turn D1 into a poll.
        _graceEndsNs = now + Math.Max(GraceNs - ran, GraceNs / 4);
        _scheduler.Stats.CountDemotionDeferred();
        return false;
    }

    /// <summary>
    /// D1's moment for the running worker, for the turn's deadline: when the grace period of a pending give-way ends
    /// (by the worker's CPU time as far as the server knows it) if demotion could follow it, else 0.
    /// </summary>
    private long DemotionDeadline(WorkerThread running)
    {
        if (_scheduler.Demotion is not { Mode: not DemotionMode.Unavailable } || Volatile.Read(ref _askedToGiveWay) != running.Tid)
        {
            return 0;
        }

        return _background.Count < _scheduler.Options.Demotion.MaxDemotedPerServer
            ? _graceEndsNs
            : 0;
    }

    /// <summary>
    /// D4's adoption, in S4 with an empty record: the oldest background worker, if the policy would not preempt it for
    /// the queue's head (or nothing is queued); it runs in the foreground again, at its own priority. Null if none.
    /// </summary>
    private WorkerThread? AdoptIfNothingBetter(long now)
    {
        if (_background.Count > 0)
        {
            PruneBackground();
        }

        // An awaited lock's holder first, whatever is queued: its waiters wait for it.
        if (Interlocked.Exchange(ref _adoptFirst, null) is { } holder && RemoveBackground(holder))
        {
            switch (Adopt(holder))
            {
                case Adoption.Done:
                    return holder;
                case Adoption.RecordBusy:
                    KeepInBackground(holder);
                    Volatile.Write(ref _adoptFirst, holder);
                    return null;
            }
        }

        while (_background.Count > 0)
        {
            var oldest = _background[0];
            lock (_queueLock)
            {
                if (_policy.Count > 0 && _policy.ShouldPreempt(oldest))
                {
                    return null;
                }

                if (_policy.Count == 0)
                {
                    // Nothing queued: the lowered thread has the CPU anyway while nothing else wants it. Adopt it only
                    // once that has lasted a grace period (the loop's deadline includes the moment: AdoptionDeadline).
                    if (_onlyBackgroundSinceNs == 0)
                    {
                        _onlyBackgroundSinceNs = now;
                    }

                    if (now - _onlyBackgroundSinceNs < (long)_scheduler.Options.Demotion.GracePeriod.TotalNanoseconds)
                    {
                        return null;
                    }
                }
            }

            _background.RemoveAt(0);
            _backgroundCount = _background.Count;
            switch (Adopt(oldest))
            {
                case Adoption.Done:
                    return oldest;
                case Adoption.RecordBusy:
                    KeepInBackground(oldest);
                    return null;
            }

            // It left the background by itself (queued, blocked or gone); look at the next.
        }

        return null;
    }

    /// <summary>What <see cref="Adopt"/> did.</summary>
    private enum Adoption
    {
        /// <summary>K10 took it back: it runs for us in the foreground.</summary>
        Done,

        /// <summary>It left the background by itself first (queued, blocked or gone).</summary>
        LeftByItself,

        /// <summary>
        /// The record was taken (EBUSY): an arrival is between its claim of our open slot and finding the offer gone
        /// (K12c). It gives the record back and wakes us; the worker stays in the background until then.
        /// </summary>
        RecordBusy,
    }

    /// <summary>K10 for one background worker (no longer in the list); its thread restored when taken back.</summary>
    private Adoption Adopt(WorkerThread worker)
    {
        var r = Kernel.Adopt(worker.Tid);
        if (r != Errno.Ok)
        {
            // K10's record named the worker for a moment (or a claimer's did): an arrival that read it then may have
            // stayed quiet, queued on our list after this turn's drain. The loop takes another turn before it sleeps.
            _lookAgain = true;
            return r == Errno.EBUSY ? Adoption.RecordBusy : Adoption.LeftByItself;
        }

        worker.RestoreIfDemoted();
        _scheduler.Telemetry.Adopted(this, worker);
        return Adoption.Done;
    }

    /// <summary>Puts a worker whose adoption found the record busy back at the head of the list, for the next turn.</summary>
    private void KeepInBackground(WorkerThread worker)
    {
        _background.Insert(0, worker);
        _backgroundCount = _background.Count;
    }

    /// <summary>A background worker's lock is awaited: adopt it ahead of the queue at our next look (and look now).</summary>
    internal void AdoptFirst(WorkerThread worker)
    {
        Volatile.Write(ref _adoptFirst, worker);
        Wake();
    }

    /// <summary>Whether this turn must be followed by another before the loop sleeps (a failed adoption); clears it.</summary>
    private bool TakeLookAgain()
    {
        bool again = _lookAgain;
        _lookAgain = false;
        return again;
    }

    /// <summary>D4's moment to adopt, for the turn's deadline while nothing runs: 0 when there is none.</summary>
    private long AdoptionDeadline() =>
        _onlyBackgroundSinceNs != 0 && _background.Count > 0
            ? _onlyBackgroundSinceNs + (long)_scheduler.Options.Demotion.GracePeriod.TotalNanoseconds
            : 0;

    /// <summary>Something runs in the foreground again: a later idle spell starts its own wait for adoption.</summary>
    private void ForegroundRuns() => _onlyBackgroundSinceNs = 0;

    /// <summary>Drops the workers that left the background by themselves (D4) from the list.</summary>
    private void PruneBackground()
    {
        _background.RemoveAll(w => !w.IsInBackground || !ReferenceEquals(w.Server, this));
        _backgroundCount = _background.Count;
    }

    private bool RemoveBackground(WorkerThread worker)
    {
        bool removed = _background.Remove(worker);
        _backgroundCount = _background.Count;
        return removed;
    }
}
