namespace Umcg.Scheduling;

// Spawning, like Task.Run: the body runs on a worker in the caller's ExecutionContext, a token cancels it until it
// starts (and is handed to it, for cooperative cancellation, by the overloads whose body takes one), and admission
// control may queue it, make the caller wait, or refuse it (see UmcgScheduler.Admission.cs).
public sealed partial class UmcgScheduler
{
    /// <summary>Runs <paramref name="body"/> on a worker, in the caller's execution context (see <see cref="Spawn(Action, CancellationToken, WorkerOptions?)"/>).</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread (the message names the limits); nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/> (a server index that names no server, a stack size out of range, ...).</exception>
    public WorkerHandle Spawn(Action body, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SpawnBlocking(new ActionWorkItem(body, Validate(options), default, ExecutionContext.Capture()));
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a worker, like <see cref="Task.Run(Action, CancellationToken)"/>: it runs in
    /// the caller's <see cref="ExecutionContext"/> (<see cref="AsyncLocal{T}"/> values, <c>Activity.Current</c>,
    /// logging scopes flow into it; see <see cref="UnsafeSpawn(Action, WorkerOptions?)"/> for a body that needs
    /// none), and while it has not started, canceling <paramref name="cancellationToken"/> completes its handle as
    /// canceled and the body never runs.
    /// </summary>
    /// <remarks>
    /// Past the admission bounds (<see cref="UmcgSchedulerOptions.MaxWorkers"/>,
    /// <see cref="UmcgSchedulerOptions.MaxQueuedBodies"/>) this call blocks its caller until there is room in
    /// <see cref="AdmissionMode.Wait"/> mode (a canceled token ends the wait with a canceled handle); async callers
    /// use <see cref="SpawnAsync(Action{CancellationToken}, CancellationToken, WorkerOptions?)"/> instead.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread (the message names the limits); nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle Spawn(Action body, CancellationToken cancellationToken, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SpawnBlocking(new ActionWorkItem(body, Validate(options), cancellationToken, ExecutionContext.Capture()));
    }

    /// <summary>
    /// As <see cref="Spawn(Action, CancellationToken, WorkerOptions?)"/>, and the running body is handed
    /// <paramref name="cancellationToken"/>. Cancellation is cooperative: the body sees it when it looks (or passes
    /// it on); nothing interrupts it, and a synchronous call already waiting in the kernel (a driver's read) returns
    /// only when it would have. A body that ends by throwing the token's <see cref="OperationCanceledException"/>
    /// completes its handle as canceled.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle Spawn(Action<CancellationToken> body, CancellationToken cancellationToken, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SpawnBlocking(new ActionWorkItem(body, Validate(options), cancellationToken, ExecutionContext.Capture()));
    }

    /// <summary>Runs <paramref name="body"/> on a worker and keeps its result (see <see cref="Spawn(Action, CancellationToken, WorkerOptions?)"/>).</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread (the message names the limits); nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/> (a server index that names no server, a stack size out of range, ...).</exception>
    public WorkerHandle<T> Spawn<T>(Func<T> body, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (WorkerHandle<T>)SpawnBlocking(new FuncWorkItem<T>(body, Validate(options), default, ExecutionContext.Capture()));
    }

    /// <summary>Runs <paramref name="body"/> on a worker and keeps its result; <paramref name="cancellationToken"/> cancels it until it starts (see <see cref="Spawn(Action, CancellationToken, WorkerOptions?)"/>).</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle<T> Spawn<T>(Func<T> body, CancellationToken cancellationToken, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (WorkerHandle<T>)SpawnBlocking(new FuncWorkItem<T>(body, Validate(options), cancellationToken, ExecutionContext.Capture()));
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a worker, handing it <paramref name="cancellationToken"/>, and keeps its result
    /// (see <see cref="Spawn(Action{CancellationToken}, CancellationToken, WorkerOptions?)"/>: cancellation is cooperative).
    /// </summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle<T> Spawn<T>(Func<CancellationToken, T> body, CancellationToken cancellationToken, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (WorkerHandle<T>)SpawnBlocking(new FuncWorkItem<T>(body, Validate(options), cancellationToken, ExecutionContext.Capture()));
    }

    /// <summary>
    /// Runs <paramref name="body"/> on a worker without the caller's <see cref="ExecutionContext"/>, like
    /// <see cref="ThreadPool.UnsafeQueueUserWorkItem(WaitCallback, object?)"/>: the body starts in the worker
    /// thread's empty context (no <see cref="AsyncLocal{T}"/> value, no <c>Activity.Current</c>), which saves the
    /// capture and the switch on hot paths. Otherwise as <see cref="Spawn(Action, WorkerOptions?)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle UnsafeSpawn(Action body, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SpawnBlocking(new ActionWorkItem(body, Validate(options), default, context: null));
    }

    /// <summary>As <see cref="UnsafeSpawn(Action, WorkerOptions?)"/> (no execution context flows), with a token as in <see cref="Spawn(Action{CancellationToken}, CancellationToken, WorkerOptions?)"/>.</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle UnsafeSpawn(Action<CancellationToken> body, CancellationToken cancellationToken, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SpawnBlocking(new ActionWorkItem(body, Validate(options), cancellationToken, context: null));
    }

    /// <summary>As <see cref="UnsafeSpawn(Action, WorkerOptions?)"/> (no execution context flows), keeping the body's result.</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle<T> UnsafeSpawn<T>(Func<T> body, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (WorkerHandle<T>)SpawnBlocking(new FuncWorkItem<T>(body, Validate(options), default, context: null));
    }

    /// <summary>As <see cref="UnsafeSpawn(Action, WorkerOptions?)"/> (no execution context flows), handing the body the token and keeping its result.</summary>
    /// <exception cref="InvalidOperationException">The scheduler is shutting down.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public WorkerHandle<T> UnsafeSpawn<T>(Func<CancellationToken, T> body, CancellationToken cancellationToken, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (WorkerHandle<T>)SpawnBlocking(new FuncWorkItem<T>(body, Validate(options), cancellationToken, context: null));
    }

    /// <summary>
    /// Spawns <paramref name="body"/> (in the caller's execution context, see <see cref="Spawn(Action, CancellationToken, WorkerOptions?)"/>)
    /// with back-pressure: past the admission bounds, in <see cref="AdmissionMode.Wait"/> mode, the returned task
    /// completes when the body is admitted, without blocking the caller. A token canceled before the body starts —
    /// while the caller waits for room, or while the body waits for a thread — gives a handle completed as canceled.
    /// </summary>
    /// <returns>The body's handle, once the body is admitted (queued or started).</returns>
    /// <exception cref="InvalidOperationException">(In the task.) The scheduler is shutting down, or shut down while the caller waited.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">(In the task.) Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">(In the task.) The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public ValueTask<WorkerHandle> SpawnAsync(Action body, CancellationToken cancellationToken = default, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SpawnWithBackPressure(new ActionWorkItem(body, Validate(options), cancellationToken, ExecutionContext.Capture()));
    }

    /// <summary>As <see cref="SpawnAsync(Action, CancellationToken, WorkerOptions?)"/>, and the running body is handed the token (cancellation is cooperative).</summary>
    /// <returns>The body's handle, once the body is admitted (queued or started).</returns>
    /// <exception cref="InvalidOperationException">(In the task.) The scheduler is shutting down, or shut down while the caller waited.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">(In the task.) Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">(In the task.) The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public ValueTask<WorkerHandle> SpawnAsync(Action<CancellationToken> body, CancellationToken cancellationToken = default, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return SpawnWithBackPressure(new ActionWorkItem(body, Validate(options), cancellationToken, ExecutionContext.Capture()));
    }

    /// <summary>As <see cref="SpawnAsync(Action, CancellationToken, WorkerOptions?)"/>, keeping the body's result.</summary>
    /// <returns>The body's handle, once the body is admitted (queued or started).</returns>
    /// <exception cref="InvalidOperationException">(In the task.) The scheduler is shutting down, or shut down while the caller waited.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">(In the task.) Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">(In the task.) The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public async ValueTask<WorkerHandle<T>> SpawnAsync<T>(Func<T> body, CancellationToken cancellationToken = default, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (WorkerHandle<T>)await SpawnWithBackPressure(new FuncWorkItem<T>(body, Validate(options), cancellationToken, ExecutionContext.Capture())).ConfigureAwait(false);
    }

    /// <summary>As <see cref="SpawnAsync(Action{CancellationToken}, CancellationToken, WorkerOptions?)"/>, keeping the body's result.</summary>
    /// <returns>The body's handle, once the body is admitted (queued or started).</returns>
    /// <exception cref="InvalidOperationException">(In the task.) The scheduler is shutting down, or shut down while the caller waited.</exception>
    /// <exception cref="UmcgAdmissionRejectedException">(In the task.) Both admission bounds are reached and <see cref="UmcgSchedulerOptions.Admission"/> is <see cref="AdmissionMode.Reject"/>.</exception>
    /// <exception cref="UmcgThreadLimitException">(In the task.) The OS refused a new worker thread; nothing of the body is left behind.</exception>
    /// <exception cref="ArgumentException"><paramref name="options"/> break a rule of <see cref="OptionsValidation"/>.</exception>
    public async ValueTask<WorkerHandle<T>> SpawnAsync<T>(Func<CancellationToken, T> body, CancellationToken cancellationToken = default, WorkerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(body);
        return (WorkerHandle<T>)await SpawnWithBackPressure(new FuncWorkItem<T>(body, Validate(options), cancellationToken, ExecutionContext.Capture())).ConfigureAwait(false);
    }

    /// <summary>
    /// Runs a callback posted through <see cref="SynchronizationContext"/> or <see cref="TaskScheduler"/>, which
    /// must never throw to its caller (often a thread-pool thread, where an exception ends the process): on a
    /// worker while the scheduler takes work, otherwise — after shutdown, or when the OS refuses a thread — on
    /// the .NET thread pool, counted in <see cref="SchedulerStats.LatePosts"/>. An exception of the callback goes
    /// to <see cref="UnhandledException"/>.
    /// </summary>
    /// <remarks>
    /// No execution context is captured here: an <c>await</c> continuation restores its own (the async machinery
    /// captured it when the method suspended) and a task runs in the one it was created in, so capturing again
    /// would only be paid twice. Admission never refuses or delays a posted callback — it continues work already
    /// admitted — so it is queued past <see cref="UmcgSchedulerOptions.MaxQueuedBodies"/> when the bounds are reached.
    /// </remarks>
    internal void Post(Action callback, WorkerOptions options)
    {
        void Guarded()
        {
            try
            {
                callback();
            }
#pragma warning disable CA1031 // Nobody holds a handle to a posted callback: its exception goes to the fault channel.
            catch (Exception e)
            {
                ReportUnhandled(e);
            }
#pragma warning restore CA1031
        }

        bool accepted;
        try
        {
            accepted = TryAdmit(new ActionWorkItem(Guarded, options), posted: true) is not null;
        }
        catch (UmcgThreadLimitException)
        {
            accepted = false;
        }

        if (!accepted)
        {
            Stats.CountLatePost();
            ThreadPool.UnsafeQueueUserWorkItem(static run => run(), (Action)Guarded, preferLocal: false);
        }
    }

    private WorkerOptions Validate(WorkerOptions? options)
    {
        options ??= WorkerOptions.Default;
        OptionsValidation.ThrowIfInvalid(options, Servers.Length);
        return options;
    }

    /// <summary>Admits <paramref name="item"/>; past both bounds in Wait mode, blocks the caller (as a blocking region on a worker) until it is.</summary>
    private WorkerHandle SpawnBlocking(WorkItem item)
    {
        var admission = TryAdmit(item, posted: false) ?? throw ShuttingDown();
        if (admission.IsCompleted)
        {
            return admission.Result;
        }

        using (Worker.Blocking())
        {
            return admission.AsTask().GetAwaiter().GetResult();
        }
    }

    /// <summary>Admits <paramref name="item"/>, or returns a task that completes when it is; refusals go into the task.</summary>
    private ValueTask<WorkerHandle> SpawnWithBackPressure(WorkItem item)
    {
        try
        {
            return TryAdmit(item, posted: false) ?? ValueTask.FromException<WorkerHandle>(ShuttingDown());
        }
        catch (Exception e) when (e is UmcgAdmissionRejectedException or UmcgThreadLimitException)
        {
            return ValueTask.FromException<WorkerHandle>(e);
        }
    }

    private static InvalidOperationException ShuttingDown() => new("The scheduler is shutting down and accepts no new work.");
}
