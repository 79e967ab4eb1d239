using Umcg.Abi;
using Umcg.Kernel.Native;

namespace Umcg.Kernel.Detection;

// The detector thread: poll the running workers, mark the ones asleep for too long, sleep until the next
// poll or the moment a pending sleep crosses the threshold, whichever is first. The poll interval has three
// levels: active (a worker was seen asleep lately), calm (workers ran for eight calm intervals and none was seen
// asleep: their code announces its blocking; a spell with nothing running neither counts nor resets that) and idle
// (nothing runs; doubling up to the idle interval).
public sealed unsafe partial class BlockingDetector
{
    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID: a vDSO read, no system call

    // Calm after this many calm intervals with no worker seen asleep.
    private const int CalmAfterIntervals = 8;

    // Marked workers whose unmanaged run is still being timed (detector thread only).
    private readonly List<WatchedWorker> _marked = [];

    // Set by the detector thread while its poll interval is longer than its floor (the active interval, or the calm one
    // once calm); cleared by the first NoteRunning, which also sets _runningNoted and wakes the thread.
    private volatile bool _backedOff;
    private int _runningNoted;

    // Whether the detector thread last moved itself to SCHED_BATCH (PollInClass). Detector thread only.
    private bool _pollsAsBatch;

    /// <summary>
    /// Tells the detector that a server is starting a worker. While workers run the detector polls at its
    /// floor (the active interval, or the calm one) anyway and this is one volatile read; after a quiet spell, when
    /// its polls have backed off past that floor, it wakes the detector, which returns to the floor at once.
    /// </summary>
    public void NoteRunning()
    {
        if (!_backedOff)
        {
            return;
        }

        _backedOff = false;
        Interlocked.Exchange(ref _runningNoted, 1);
        lock (_lifecycle)
        {
            if (!_disposed)
            {
                Wake();
            }
        }
    }

    private void Run()
    {
        Volatile.Write(ref _threadIdForTests, UmcgKernel.CurrentTid);
        LinuxSyscalls.SetTimerSlack(TimerSlackNs);
        long interval = _activeNs;
        long lastSleepSeenNs = KernelClock.Now(ClockId.Monotonic);
        long lastPollNs = lastSleepSeenNs;
        bool ranAtLastPoll = false;
        int lastGcs = GcCount();
        while (true)
        {
            LoopTopForTests?.Invoke();

            // Read before looking, so that a Wake during the poll makes the sleep below return at once. The stop flag
            // after it: Dispose sets the flag before its Wake bumps the word, so a word read with that bump in it is
            // followed by a read of the flag set — else the sleep with no deadline below would wait for a wake that
            // has already come, and Dispose would join this thread for ever.
            uint seen = Volatile.Read(ref *_wakeWord);
            if (_stopping)
            {
                break;
            }

            DisposeRetired();
            if (_workers.IsEmpty)
            {
                // Nothing to watch: sleep until a worker registers (or Dispose).
                // Workers registered after this are new code: watched at the active interval, as a new process's are.
                interval = _activeNs;
                LinuxSyscalls.FutexWaitAbsolute(_wakeWord, seen, 0, realtime: false);
                lastSleepSeenNs = lastPollNs = KernelClock.Now(ClockId.Monotonic);
                ranAtLastPoll = false;
                continue;
            }

            long now = KernelClock.Now(ClockId.Monotonic);

            // A garbage collection since the last poll stopped every managed thread, workers included, which
            // look asleep (in the runtime's wait) while they are being resumed: this poll marks nothing and
            // looks again one threshold later.
            int gcs = GcCount();
            bool mayMark = gcs == lastGcs;
            lastGcs = gcs;
            TimeUnmanagedRuns();
            long due = Poll(now, mayMark, gcs, out bool anyRunning);
            Stats.CountPoll();
            if ((due != long.MaxValue && mayMark) || _marked.Count > 0)
            {
                // A sleep pending (or a marked worker still timed): this code blocks unannounced; stay sharp. Not a
                // sighting right after a garbage collection, which stops every managed thread and so looks like one.
                lastSleepSeenNs = now;
            }

            Stats.SetDetectorCpu(LinuxSyscalls.ClockNow(ThreadCpuClock));

            bool running = anyRunning | Interlocked.Exchange(ref _runningNoted, 0) != 0;
            if (!running || !ranAtLastPoll)
            {
                // A quiet spell is no evidence either way: the time since the last poll counts toward calm only when
                // both polls found a worker running (it is pushed forward by that time, never past this poll, which
                // may have set it to now for a sighting). Restarting the count instead kept a service whose servers
                // idle for a moment between requests at the active interval nearly always.
                lastSleepSeenNs = Math.Min(now, lastSleepSeenNs + (now - lastPollNs));
            }

            lastPollNs = now;
            ranAtLastPoll = running;

            // Calm: workers ran for eight calm intervals and none was seen asleep. Polls then come every calm interval;
            // the first sleep seen brings the active one back.
            bool calm = now - lastSleepSeenNs >= CalmAfterIntervals * _calmNs;
            long floor = calm ? _calmNs : _activeNs;

            // Adaptive: the floor while workers run (a new sleep is noticed within it), doubling from it up to the
            // idle interval (or the floor, if longer) while none does. Backed off past the floor, a server that starts
            // a worker brings the detector back at once (NoteRunning), so the first block after a quiet spell is not
            // noticed later than the floor allows; at or under it NoteRunning stays a single read.
            interval = running ? floor : Math.Min(Math.Max(interval, floor) * 2, Math.Max(_idleNs, floor));
            _backedOff = interval > floor;
            PollInClass(batch: calm);
            if (running && calm)
            {
                Stats.CountCalmPoll();
            }

            long deadline = Math.Min(now + interval, due);
            if (!_stopping)
            {
                LinuxSyscalls.FutexWaitAbsolute(_wakeWord, seen, deadline, realtime: false);
            }
        }
    }

    /// <summary>
    /// The OS class the detector thread waits in between polls: SCHED_BATCH while calm, SCHED_OTHER otherwise. A calm
    /// poll rarely finds anything, and under SCHED_OTHER its wake-up preempted the worker running on its CPU: an
    /// involuntary switch for every poll, 500 a second at the calm interval. Under SCHED_BATCH the wake-up waits for
    /// that worker's next switch or the OS's tick instead; a worker asleep in the kernel, which is what a poll looks
    /// for, leaves its CPU to the detector at once. Active again (a sleep seen), it preempts as before. A system call
    /// only when the class changes; a thread someone set to another policy is left as it is (one try).
    /// </summary>
    private void PollInClass(bool batch)
    {
        if (batch == _pollsAsBatch || !OperatingSystem.IsLinux())
        {
            return;
        }

        _pollsAsBatch = batch;
        LinuxSyscalls.SwitchFairClass(
            batch ? LinuxSyscalls.SchedOther : LinuxSyscalls.SchedBatch,
            batch ? LinuxSyscalls.SchedBatch : LinuxSyscalls.SchedOther);
    }

    /// <summary>Looks at the worker each server runs. Returns when a pending sleep crosses the threshold.</summary>
    private long Poll(long now, bool mayMark, int gcs, out bool anyRunning)
    {
        anyRunning = false;
        long due = long.MaxValue;
        foreach (int serverTid in _servers)
        {
            // Through the task table, never through a pointer user space could have written.
            if (!_kernel.Tasks.TryGet((uint)serverTid, out var server) || server.IsWorker)
            {
                continue;
            }

            uint slot = Volatile.Read(ref *server.NextTidWord);
            if ((slot & UmcgConstants.TidRunning) == 0)
            {
                continue;
            }

            anyRunning = true;
            int tid = (int)(slot & UmcgConstants.TidMask);
            if (_workers.TryGetValue(tid, out var worker) && !worker.Retired
                && _kernel.Tasks.TryGet((uint)tid, out var task) && task.IsWorker)
            {
                due = Math.Min(due, Examine(worker, task, now, mayMark, gcs));
            }
        }

        return due;
    }

    private long Examine(WatchedWorker worker, KernelTask task, long now, bool mayMark, int gcs)
    {
        // The UMCG state first: only a RUNNING worker holds its server. RUNNABLE means it is in (or on its way
        // into) its own UMCG wait; BLOCKED means it already said so, or was marked.
        if ((Volatile.Read(ref *task.StateWord) & UmcgConstants.StateMask) != (uint)TaskState.Running)
        {
            worker.ForgetObservations();
            return long.MaxValue;
        }

        // Come back from its last UMCG wait? Until then a RUNNING worker is still inside that wait.
        ulong runnableTs = Volatile.Read(ref task.Block->RunnableTs);
        long resumedAt = worker.ResumedAtNs();
        if (resumedAt <= (long)runnableTs)
        {
            worker.ForgetObservations();
            return long.MaxValue;
        }

        var verdict = Verdict.Clear;
        if (UsesSwitchEvents && worker.Ring is not null)
        {
            verdict = SwitchEventProbe.Examine(worker.Ring, task, runnableTs, resumedAt, now, _thresholdNs);
        }

        if (UsesMonitor || worker.Ring is null)
        {
            verdict = Verdict.First(verdict, MonitorProbe.Examine(worker, task, runnableTs, now, _thresholdNs));
        }

        switch (verdict.Kind)
        {
            case VerdictKind.Blocked when !mayMark:
                return now + _thresholdNs;
            case VerdictKind.Blocked:
                TryMark(worker, task, runnableTs, verdict, now, gcs);
                return long.MaxValue;
            case VerdictKind.Pending:
                return verdict.DueNs;
            default:
                return long.MaxValue;
        }
    }

    /// <summary>
    /// The last look before acting, then the mark. Everything the verdict rested on is checked again as late
    /// as possible, because MarkBlocked on a worker whose own wait is being woken would break that wait.
    /// </summary>
    /// <remarks>
    /// A window remains between the last check and MarkBlocked's CAS: if in that instant the worker woke,
    /// ran, went into a UMCG wait and was woken again, the CAS lands on a wait in flight. The kernel half
    /// absorbs that: a worker that finds itself BLOCKED inside its own wait takes the unblock path there
    /// (requeued, server woken) and sleeps on. Such a mark costs one extra trip through the run queue.
    /// </remarks>
    private void TryMark(WatchedWorker worker, KernelTask task, ulong runnableTs, Verdict verdict, long now, int gcs)
    {
        // On the thread itself: asleep in the kernel, and not in futex on its own state word.
        if (!worker.Proc.TryReadSyscall(out var sample) || !sample.Asleep || sample.IsFutexWaitOn((ulong)task.StateWord)
            || !worker.Proc.TryReadSchedstat(out long runtime, out _))
        {
            Stats.CountRejected();
            worker.ForgetObservations();
            return;
        }

        // Nothing moved while we looked: no garbage collection (it stops every managed thread; this thread
        // cannot run managed code during one, but its /proc reads can), no UMCG transition, no return from
        // the kernel half.
        if (GcCount() != gcs
            || (Volatile.Read(ref *task.StateWord) & UmcgConstants.StateMask) != (uint)TaskState.Running
            || Volatile.Read(ref task.Block->RunnableTs) != runnableTs
            || worker.ResumedAtNs() <= (long)runnableTs)
        {
            Stats.CountRejected();
            worker.ForgetObservations();
            return;
        }

        // Counted before the mark takes effect, so that whoever sees its effect (another worker running on
        // the server) also sees the count.
        Stats.CountMark(verdict.BySwitchEvents, now - verdict.SinceNs);
        if (_kernel.MarkBlocked(task.Tid) != Errno.Ok)
        {
            Stats.UncountMark(verdict.BySwitchEvents, now - verdict.SinceNs);
            Stats.CountRejected();
            return;
        }

        worker.ForgetObservations();
        if (!worker.Marked)
        {
            worker.Marked = true;
            _marked.Add(worker);
        }

        worker.RuntimeAtMarkNs = runtime;
        worker.RunnableTsAtMark = runnableTs;
    }

    /// <summary>
    /// A marked worker still BLOCKED that has run a threshold's worth of CPU since its mark: it came back from the
    /// kernel and runs on, unmanaged, beside its server's next worker, until its next safepoint — which code without
    /// safepoints never reaches. Reported once, to <see cref="MarkedWorkerRunsOn"/> (the scheduler lowers its thread).
    /// </summary>
    private void ReportIfRunningOn(WatchedWorker worker)
    {
        if (worker.ReportedRunningOn || MarkedWorkerRunsOn is not { } report
            || !worker.Proc.TryReadSchedstat(out long runtime, out _) || runtime - worker.RuntimeAtMarkNs < _thresholdNs)
        {
            return;
        }

        worker.ReportedRunningOn = true;
        report(worker.Tid);
    }

    /// <summary>
    /// Counts the CPU time marked workers ran before taking the unblock path (which stamps runnable_ts). Sampled
    /// at polls: a worker that has gone on running managed may add up to one poll's worth.
    /// </summary>
    private void TimeUnmanagedRuns()
    {
        for (int i = _marked.Count - 1; i >= 0; i--)
        {
            var worker = _marked[i];
            if (!worker.Retired && _kernel.Tasks.TryGet((uint)worker.Tid, out var task)
                && task.State == TaskState.Blocked && Volatile.Read(ref task.Block->RunnableTs) == worker.RunnableTsAtMark)
            {
                ReportIfRunningOn(worker);
                continue;
            }

            if (!worker.Retired && worker.Proc.TryReadSchedstat(out long runtime, out _))
            {
                Stats.CountUnmanaged(runtime - worker.RuntimeAtMarkNs);
            }

            worker.Marked = false;
            worker.ReportedRunningOn = false;
            _marked[i] = _marked[^1];
            _marked.RemoveAt(_marked.Count - 1);
        }
    }

    private void DisposeRetired()
    {
        while (_retired.TryDequeue(out var worker))
        {
            if (worker.Marked)
            {
                worker.Marked = false;
                _marked.Remove(worker);
            }

            ReleaseRing(worker);
            worker.Dispose();
        }
    }

    private static int GcCount() => GC.CollectionCount(0) + GC.CollectionCount(2);
}
