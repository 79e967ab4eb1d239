namespace Umcg.Scheduling;

/// <summary>
/// Runs <see cref="Task"/>s on a <see cref="UmcgScheduler"/>'s workers: <c>Task.Factory.StartNew(..., scheduler.TaskScheduler)</c>
/// and continuations scheduled on it each run as a worker body.
/// </summary>
internal sealed class UmcgTaskScheduler(UmcgScheduler scheduler) : TaskScheduler
{
    private static readonly WorkerOptions s_taskOptions = new() { Name = "task" };

    public override int MaximumConcurrencyLevel => scheduler.ServerCount;

    // Like a posted callback, a task queued once the scheduler takes no work runs on the thread pool: throwing
    // here would lose an await continuation silently (the runtime swallows it) or end the process.
    protected override void QueueTask(Task task) => scheduler.Post(() => TryExecuteTask(task), s_taskOptions);

    // Inline only on our own workers: anywhere else the task must not run outside the scheduler.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) =>
        !taskWasPreviouslyQueued && Worker.Current is { } w && ReferenceEquals(w.Scheduler, scheduler) && TryExecuteTask(task);

    // Every queued task is handed to a worker at once, so nothing waits in a queue of ours.
    protected override IEnumerable<Task> GetScheduledTasks() => [];
}
