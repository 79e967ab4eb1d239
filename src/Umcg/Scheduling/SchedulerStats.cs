namespace Umcg.Scheduling;

/// <summary>Running totals of what a scheduler did. Reads are racy snapshots, good for reports and tests.</summary>
public sealed class SchedulerStats
{
    private readonly UmcgScheduler _scheduler;
    private long _spawned;
    private long _reused;
    private long _queuedAsleep;
    private long _completed;
    private long _directSwitches;
    private long _directStarts;
    private long _blocksLeftServerOpen;
    private long _successorSwitches;
    private long _successorSteals;
    private long _arrivalsMovedToIdle;
    private long _blocks;
    private long _detectorBlocks;
    private long _yields;
    private long _faults;
    private long _unhandled;
    private long _latePosts;
    private long _threadLimits;
    private long _absorbedInterrupts;
    private long _queued;
    private long _admissionWaits;
    private long _admissionRejections;
    private long _canceledBeforeStart;
    private int _peakWorkerThreads;
    private long _demotions;
    private long _adoptions;
    private long _demotionsDeferred;
    private long _retiredDemoted;
    private long _loweredRunningOn;

    internal SchedulerStats(UmcgScheduler scheduler) => _scheduler = scheduler;

    /// <summary>Bodies spawned: admitted, to start at once or after waiting for a thread (the admissions).</summary>
    public long Spawned => Volatile.Read(ref _spawned);

    /// <summary>Bodies that ran on a reused worker thread.</summary>
    public long ReusedThreads => Volatile.Read(ref _reused);

    /// <summary>
    /// Bodies handed to a pooled thread that slept on while the spawner queued it for its server (see
    /// <see cref="UmcgSchedulerOptions.QueueIdleThreadsAsleep"/>): each saved a wake-up of that thread. Each is also
    /// one of <see cref="ReusedThreads"/>.
    /// </summary>
    public long SpawnsQueuedAsleep => Volatile.Read(ref _queuedAsleep);

    /// <summary>Bodies finished (in any way).</summary>
    public long Completed => Volatile.Read(ref _completed);

    /// <summary>Worker→worker switches through next_tid (no trip through the server).</summary>
    public long DirectSwitches => Volatile.Read(ref _directSwitches);

    /// <summary>
    /// Direct successors: a worker that blocked, parked, yielded or finished its body handed its CPU straight to the
    /// next worker of its server's run queue, without the server (see <see cref="UmcgSchedulerOptions.DirectSuccessor"/>).
    /// With <see cref="DirectSwitches"/> (a named target) and the servers' own picks, every switch is on one path.
    /// </summary>
    public long SuccessorSwitches => Volatile.Read(ref _successorSwitches);

    /// <summary>
    /// Direct successors taken from another server's queue: the stopping worker's own server had nothing queued, and
    /// another had more than it could run (with <see cref="UmcgSchedulerOptions.Balance"/>). Each is also one of
    /// <see cref="SuccessorSwitches"/> once its switch happens.
    /// </summary>
    public long SuccessorSteals => Volatile.Read(ref _successorSteals);

    /// <summary>
    /// Workers that left a blocking region while their server ran another and moved to an idle server to run there
    /// at once (wake-to-remote-idle; with <see cref="UmcgSchedulerOptions.Balance"/> and a body that may migrate).
    /// </summary>
    public long ArrivalsMovedToIdleServers => Volatile.Read(ref _arrivalsMovedToIdle);

    /// <summary>
    /// Workers that started themselves on a server that slept with nothing to run (see
    /// <see cref="UmcgSchedulerOptions.OpenIdleServers"/>): an unblock that ran on at once, or a body whose pooled thread
    /// was woken straight to run, with no pick by the server. With the servers' picks and the switches, every start of a
    /// worker is on one path.
    /// </summary>
    public long DirectStarts => Volatile.Read(ref _directStarts);

    /// <summary>
    /// Blocks (regions, and the ends of bodies) that found nothing for their server to run and left it asleep open
    /// instead of waking it (see <see cref="UmcgSchedulerOptions.OpenIdleServers"/>): each saved the server a wake-up.
    /// </summary>
    public long BlocksLeftServerOpen => Volatile.Read(ref _blocksLeftServerOpen);

    /// <summary>Blocking regions entered by workers.</summary>
    public long Blocks => Volatile.Read(ref _blocks);

    /// <summary>Blocks that detectors made on workers' behalf (<c>UmcgKernel.MarkBlocked</c>), counted as the workers ran again.</summary>
    public long DetectorBlocks => Volatile.Read(ref _detectorBlocks);

    /// <summary>Explicit yields.</summary>
    public long Yields => Volatile.Read(ref _yields);

    /// <summary>Scheduler-level errors (see <see cref="UmcgScheduler.Faults"/>).</summary>
    public long Faults => Volatile.Read(ref _faults);

    /// <summary>Posted callbacks that threw (see <see cref="UmcgScheduler.UnhandledException"/>).</summary>
    public long UnhandledExceptions => Volatile.Read(ref _unhandled);

    /// <summary>
    /// Callbacks posted (or tasks queued) when the scheduler no longer took work — after shutdown, or when the OS
    /// refused a worker thread — and run on the .NET thread pool instead.
    /// </summary>
    public long LatePosts => Volatile.Read(ref _latePosts);

    /// <summary>Spawns refused because the OS refused a thread (see <see cref="UmcgThreadLimitException"/>).</summary>
    public long ThreadLimitRefusals => Volatile.Read(ref _threadLimits);

    /// <summary>Thread interrupts a body left pending on its worker thread, cleared before the thread was reused.</summary>
    public long AbsorbedInterrupts => Volatile.Read(ref _absorbedInterrupts);

    /// <summary>Admitted bodies that waited in the queue for a worker thread because <see cref="UmcgSchedulerOptions.MaxWorkers"/> were busy.</summary>
    public long Queued => Volatile.Read(ref _queued);

    /// <summary>Spawns that waited for room because both admission bounds were reached (<see cref="AdmissionMode.Wait"/>).</summary>
    public long AdmissionWaits => Volatile.Read(ref _admissionWaits);

    /// <summary>Spawns refused because both admission bounds were reached (<see cref="AdmissionMode.Reject"/>, see <see cref="UmcgAdmissionRejectedException"/>).</summary>
    public long AdmissionRejections => Volatile.Read(ref _admissionRejections);

    /// <summary>
    /// Bodies completed as canceled without running: their token was canceled before they started (at the spawn,
    /// while their caller waited for room, or while they waited for a thread), or a shutdown canceled them.
    /// </summary>
    public long CanceledBeforeStart => Volatile.Read(ref _canceledBeforeStart);

    /// <summary>
    /// Worker threads the scheduler has now (running, runnable, blocked, or idle in the pool; a thread counts from
    /// the moment it is decided on until its last step on the way out). Never above <see cref="UmcgSchedulerOptions.MaxWorkers"/>.
    /// </summary>
    public int WorkerThreads => _scheduler.WorkerThreadCount;

    /// <summary>The most worker threads the scheduler had at once (see <see cref="WorkerThreads"/>).</summary>
    public int PeakWorkerThreads => Volatile.Read(ref _peakWorkerThreads);

    /// <summary>Admitted bodies waiting for a worker thread now.</summary>
    public int QueuedBodies => _scheduler.QueuedBodyCount;

    /// <summary>
    /// Workers a server moved to the background because they overstayed a give-way without a safepoint (their threads
    /// lowered; see <see cref="UmcgSchedulerOptions.Demotion"/>).
    /// </summary>
    public long Demotions => Volatile.Read(ref _demotions);

    /// <summary>
    /// Times a server found a worker past its give-way's grace period by the clock but not by the worker's own CPU time,
    /// and waited instead of demoting it: the OS had not run it for the whole grace (other processes held its CPU), so
    /// it had had no chance to reach a safepoint.
    /// </summary>
    public long DemotionsDeferred => Volatile.Read(ref _demotionsDeferred);

    /// <summary>
    /// Times a give-way's grace period ran out before the worker reached a safepoint, and the grace alarm woke its server
    /// to decide on demotion. A give-way in time wakes nobody. 0 without demotion.
    /// </summary>
    public long GraceAlarms => _scheduler.GraceAlarm?.Rings ?? 0;

    /// <summary>
    /// How many times the OS time slice the threads ask for changed, between <see cref="UmcgSchedulerOptions.OsTimeSlice"/>
    /// and the OS's own (<see cref="UmcgSchedulerOptions.OsTimeSliceMode"/>).
    /// </summary>
    public long OsSliceChanges => _scheduler.OsSlice.Changes;

    /// <summary>The OS time slice the threads ask for now; <see cref="TimeSpan.Zero"/>: the OS's own.</summary>
    public TimeSpan OsSliceNow => TimeSpan.FromTicks(_scheduler.OsSliceNs / 100);

    /// <summary>Background workers their server took back into the foreground because it had nothing better to run.</summary>
    public long Adoptions => Volatile.Read(ref _adoptions);

    /// <summary>Demoted threads put back at their own priority.</summary>
    public long Restorations => _scheduler.Demotion?.Restorations ?? 0;

    /// <summary>Lowerings and restorations the OS refused (in one-way mode restorations are not tried).</summary>
    public long DemotionFailures => _scheduler.Demotion?.Failures ?? 0;

    /// <summary>Threads that ran demoted for good (one-way mode) and left the pool when their body ended.</summary>
    public long RetiredDemotedThreads => Volatile.Read(ref _retiredDemoted);

    /// <summary>
    /// Workers a detector marked blocked that then ran on without a safepoint beside their server's next worker, and
    /// whose threads were lowered for it (see <see cref="UmcgSchedulerOptions.Demotion"/>).
    /// </summary>
    public long LoweredAfterDetectorMark => Volatile.Read(ref _loweredRunningOn);

    /// <summary>Workers in the background now, over every server.</summary>
    public int BackgroundWorkers => _scheduler.BackgroundWorkerCount;

    internal void CountDemotion() => Interlocked.Increment(ref _demotions);

    internal void CountAdoption() => Interlocked.Increment(ref _adoptions);

    internal void CountDemotionDeferred() => Interlocked.Increment(ref _demotionsDeferred);

    internal void CountLoweredRunningOn() => Interlocked.Increment(ref _loweredRunningOn);

    internal void CountRetiredDemoted() => Interlocked.Increment(ref _retiredDemoted);

    internal void CountQueued() => Interlocked.Increment(ref _queued);

    internal void CountAdmissionWait() => Interlocked.Increment(ref _admissionWaits);

    internal void CountAdmissionRejection() => Interlocked.Increment(ref _admissionRejections);

    internal void CountCanceledBeforeStart() => Interlocked.Increment(ref _canceledBeforeStart);

    /// <summary>Called under the pool lock with the worker-thread count just raised.</summary>
    internal void NoteWorkerThreads(int live)
    {
        if (live > _peakWorkerThreads)
        {
            Volatile.Write(ref _peakWorkerThreads, live);
        }
    }

    internal void CountSpawn() => Interlocked.Increment(ref _spawned);

    /// <summary>Takes back a spawn the OS refused a thread for: it never became a body.</summary>
    internal void UncountSpawn() => Interlocked.Decrement(ref _spawned);

    internal void CountReuse() => Interlocked.Increment(ref _reused);

    internal void CountQueuedAsleep() => Interlocked.Increment(ref _queuedAsleep);

    internal void CountCompletion() => Interlocked.Increment(ref _completed);

    internal void CountDirectSwitch() => Interlocked.Increment(ref _directSwitches);

    internal void CountDirectStart() => Interlocked.Increment(ref _directStarts);

    internal void CountBlockLeftServerOpen() => Interlocked.Increment(ref _blocksLeftServerOpen);

    internal void CountSuccessorSwitch() => Interlocked.Increment(ref _successorSwitches);

    internal void CountSuccessorSteal() => Interlocked.Increment(ref _successorSteals);

    internal void CountArrivalMovedToIdleServer() => Interlocked.Increment(ref _arrivalsMovedToIdle);

    internal void CountBlock() => Interlocked.Increment(ref _blocks);

    internal void CountDetectorBlock() => Interlocked.Increment(ref _detectorBlocks);

    internal void CountYield() => Interlocked.Increment(ref _yields);

    internal void CountFault() => Interlocked.Increment(ref _faults);

    internal void CountUnhandledException() => Interlocked.Increment(ref _unhandled);

    internal void CountLatePost() => Interlocked.Increment(ref _latePosts);

    internal void CountThreadLimit() => Interlocked.Increment(ref _threadLimits);

    internal void CountAbsorbedInterrupt() => Interlocked.Increment(ref _absorbedInterrupts);
}
