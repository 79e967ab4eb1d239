using Umcg.Diagnostics;
using Umcg.Kernel;
using Umcg.Kernel.Detection;
using Umcg.Scheduling.Demotion;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

/// <summary>Settings of a <see cref="UmcgScheduler"/>.</summary>
public sealed record UmcgSchedulerOptions
{
    /// <summary>
    /// How many servers (one OS thread each), 1 to <see cref="OptionsValidation.MaxServers"/>. Null: one per CPU the process may run on.
    /// </summary>
    public int? Servers { get; init; }

    /// <summary>Pin server <c>i</c> to the <c>i</c>-th CPU of the process's affinity (workers follow their server). Default true.</summary>
    public bool PinServers { get; init; } = true;

    /// <summary>
    /// Creates one run-queue policy per server (it must not return null). Default: <see cref="FifoPolicy"/>. A
    /// policy of your own is contained: if it throws or answers impossibly, its server reports the fault and goes
    /// on with a FIFO queue (see docs/scheduling.md).
    /// </summary>
    public Func<IRunQueuePolicy> Policy { get; init; } = () => new FifoPolicy();

    /// <summary>The kernel half to run on. Default: <see cref="UmcgKernel.Default"/> (futex parking).</summary>
    public UmcgKernel? Kernel { get; init; }

    /// <summary>How many finished worker threads are kept blocked for reuse (not negative); they count towards <see cref="MaxWorkers"/>. Default 1024.</summary>
    public int MaxIdleWorkers { get; init; } = 1024;

    /// <summary>
    /// The most worker threads the scheduler has at once — running, blocked, runnable or idle in the pool — at
    /// least 1; null (the default) for no bound. Past it a body waits in a queue (see <see cref="MaxQueuedBodies"/>)
    /// and starts when a worker thread finishes its body, the highest <see cref="WorkerOptions.Priority"/> first. Live
    /// threads the scheduler owns then stay within this bound plus <see cref="Servers"/> plus its helpers (the blocking
    /// detector's thread when <see cref="Detection"/> is on, the kernel half's exit watcher, and one thread per process
    /// that samples the machine's contention under <see cref="OsTimeSliceMode.WhenContended"/>).
    /// </summary>
    /// <remarks>
    /// Like any bounded pool, bodies that wait for each other (a body joining one queued behind it) can deadlock when
    /// every worker thread waits: size the bound above the depth of such chains, or keep them off bounded schedulers.
    /// Size it for the blocking the bodies do (a database call holds its thread): around the concurrency the
    /// resources behind them take (a database pool's size), not the request count.
    /// </remarks>
    public int? MaxWorkers { get; init; }

    /// <summary>
    /// The most admitted bodies waiting for a worker thread (0 or more) when <see cref="MaxWorkers"/> are in use;
    /// null (the default) for no bound. Past it <see cref="Admission"/> decides. Needs <see cref="MaxWorkers"/>.
    /// Callbacks posted to <see cref="UmcgScheduler.SynchronizationContext"/> and tasks of
    /// <see cref="UmcgScheduler.TaskScheduler"/> continue admitted work: they are queued past this bound, never held back.
    /// </summary>
    public int? MaxQueuedBodies { get; init; }

    /// <summary>
    /// What a spawn does past both bounds: wait for room (<see cref="AdmissionMode.Wait"/>, the default) or be
    /// refused with an <see cref="UmcgAdmissionRejectedException"/> (<see cref="AdmissionMode.Reject"/>).
    /// </summary>
    public AdmissionMode Admission { get; init; } = AdmissionMode.Wait;

    /// <summary>Let idle servers take runnable workers from busy ones. Default true.</summary>
    public bool Balance { get; init; } = true;

    /// <summary>
    /// A worker that blocks, parks, yields or finishes its body hands its CPU straight to the next worker of its
    /// server's run queue (one switch, the server sleeps on) instead of waking its server to pick one (two
    /// switches). Default true; false keeps every switch on the server, as the RFC does, for comparison.
    /// </summary>
    public bool DirectSuccessor { get; init; } = true;

    /// <summary>
    /// A worker that unblocks or is spawned while its server runs another queues without waking the server, unless
    /// the policy would act on its arrival (a higher priority, a slice to arm). Default true for the shipped
    /// policies; a custom policy's server is always woken. False wakes the server for every arrival, as the RFC does.
    /// </summary>
    public bool QuietArrivals { get; init; } = true;

    /// <summary>
    /// A body handed to an idle pooled thread queues that thread on its server while it sleeps — the spawner does the
    /// thread's unblock for it (quiet arrivals included) — instead of waking it to queue itself: the thread is woken
    /// once, to run. One wake-up and two switches fewer per spawn from a thread that is not a worker (a request
    /// thread, a load generator). Default true; false wakes the pooled thread, for comparison.
    /// </summary>
    public bool QueueIdleThreadsAsleep { get; init; } = true;

    /// <summary>
    /// A server with nothing to run sleeps open: the first worker that becomes runnable for it — its blocking call
    /// returned, or a spawner handed a pooled thread a body — claims the server and runs at once on its CPU, instead of
    /// queuing and waking the server to start it (two switches fewer for an unblock, one wake fewer for a spawn). The
    /// server sleeps on and looks at the next arrival. Default true; false wakes the server for every start, as the RFC
    /// does, for comparison.
    /// </summary>
    public bool OpenIdleServers { get; init; } = true;

    /// <summary>
    /// Worker threads run under Linux's <c>SCHED_BATCH</c> (same nice, same share of the CPU): the OS then does not
    /// preempt a running worker the moment another thread of ours wakes on its CPU — the successor it just woke, a
    /// worker leaving a blocking region to queue itself — but lets it run on to its own switch. Servers keep
    /// <c>SCHED_OTHER</c>. It halves the involuntary switches of blocking-heavy work, but every hand-off then waits
    /// for its switcher to park first, so a yield or park round trip costs more (see docs/scheduling.md for both
    /// figures). Default false; needs no privilege, and where the OS refuses, threads stay as they are.
    /// </summary>
    public bool BatchWorkerThreads { get; init; }

    /// <summary>
    /// A worker thread waits for the end of a blocking region under Linux's <c>SCHED_BATCH</c> when its arrival will
    /// not need its server (a quiet arrival), and goes back to <c>SCHED_OTHER</c> before it next yields, parks or idles
    /// in the pool: the thread whose blocking call returns, and the successor woken a moment before its switcher
    /// blocks, then no longer preempt the worker running on that CPU. A worker that gives way to a higher rank waits under
    /// <c>SCHED_BATCH</c> too, so that the wake from the worker that outranked it does not cut that worker's own stop
    /// short. A system call only when the class changes.
    /// Default true; ignored with <see cref="BatchWorkerThreads"/>; where the OS refuses, threads stay as they are.
    /// </summary>
    public bool BatchWhileBlocked { get; init; } = true;

    /// <summary>The default <see cref="OsTimeSlice"/>: 500 µs.</summary>
    public static readonly TimeSpan DefaultOsTimeSlice = TimeSpan.FromMicroseconds(500);

    /// <summary>The shortest <see cref="OsTimeSlice"/> Linux accepts: 100 µs.</summary>
    public static readonly TimeSpan MinOsTimeSlice = TimeSpan.FromMicroseconds(100);

    /// <summary>The longest <see cref="OsTimeSlice"/> Linux accepts: 100 ms.</summary>
    public static readonly TimeSpan MaxOsTimeSlice = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The time slice asked of the OS for the scheduler's server and worker threads (Linux 6.12 and later, under
    /// SCHED_OTHER and SCHED_BATCH; earlier kernels ignore it; no privilege needed). Each hand-off of a CPU from one of
    /// the scheduler's threads to another is a wake-up; beside busy threads of other processes, a woken thread with the
    /// OS's default slice (1.4 ms on 2 CPUs, 2.8 ms on 8 or more) often waits out such a thread's whole turn first, so a process of short hand-offs
    /// gets a fraction of its fair share. A short slice lets the woken thread run at once. The threads' weight, and so
    /// their share of the CPU, is unchanged; but a worker's run beside busy processes is cut into turns of this length,
    /// each followed by such a process's turn while no other worker of its server runs: compute-heavy work beside busy
    /// processes loses about 4 points of utilization at 500 µs, 7–8 at 100–300 µs (docs/scheduling.md, "The OS's
    /// slice", has the figures of 0.1, 0.3, 0.5 and 1 ms). Null: the OS's own slice (for batch-only work). Between <see cref="MinOsTimeSlice"/> and <see cref="MaxOsTimeSlice"/>;
    /// default <see cref="DefaultOsTimeSlice"/>.
    /// </summary>
    public TimeSpan? OsTimeSlice { get; init; } = DefaultOsTimeSlice;

    /// <summary>
    /// When the threads ask for <see cref="OsTimeSlice"/>: <see cref="OsTimeSliceMode.WhenContended"/> (default) while
    /// other processes keep the CPUs busy, the OS's own slice otherwise — on a machine the process has to itself the
    /// short slice only adds involuntary switches (docs/scheduling.md, "The OS's slice"); or
    /// <see cref="OsTimeSliceMode.Always"/>.
    /// </summary>
    public OsTimeSliceMode OsTimeSliceMode { get; init; } = OsTimeSliceMode.WhenContended;

    /// <summary>
    /// Tests: the others' CPUs each sample reads (null: none this time), in place of the machine's: a contention of the
    /// scheduler's own then, not the process's, sampled only when the test says so.
    /// </summary>
    internal Func<long, double?>? OthersCpuForTests { get; init; }

    /// <summary>
    /// Detection of blocking that nobody announced (a plain Thread.Sleep, lock contention, synchronous I/O, a
    /// page fault): which detectors run and how. Default: see <see cref="DetectionOptions"/>.
    /// </summary>
    public DetectionOptions Detection { get; init; } = new();

    /// <summary>
    /// Preemption without safepoints: a running worker asked to give way that reaches no safepoint within a grace
    /// period has its OS thread demoted and runs on in the background while its server runs the next worker. Default:
    /// on (where the OS allows it), see <see cref="DemotionOptions"/>; <see cref="DemotionOptions.Off"/> turns it off.
    /// </summary>
    public DemotionOptions Demotion { get; init; } = new();

    /// <summary>A name prefix for the scheduler's threads.</summary>
    public string Name { get; init; } = "umcg";

    /// <summary>Record the scheduler into this recorder from the start (see <see cref="TraceRecorder"/>). Default null: no tracing.</summary>
    public TraceRecorder? Trace { get; init; }

    /// <summary>
    /// Every rule these settings break (see <see cref="OptionsValidation"/>), each naming the setting and its
    /// value; empty when a scheduler can start with them.
    /// </summary>
    public IReadOnlyList<string> Validate() => OptionsValidation.Validate(this);
}
