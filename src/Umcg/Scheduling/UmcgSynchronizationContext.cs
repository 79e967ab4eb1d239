namespace Umcg.Scheduling;

/// <summary>
/// Posts callbacks to a <see cref="UmcgScheduler"/>'s workers; current inside every worker body, so that
/// <c>await</c> continuations come back to the scheduler.
/// </summary>
/// <remarks>
/// <see cref="Post"/> never throws (it is often called on a thread-pool thread, where an exception ends the
/// process): a callback posted after shutdown runs on the thread pool, and a callback's exception goes to
/// <see cref="UmcgScheduler.UnhandledException"/> (see <see cref="UmcgScheduler.Post"/>).
/// </remarks>
internal sealed class UmcgSynchronizationContext(UmcgScheduler scheduler) : SynchronizationContext
{
    private static readonly WorkerOptions s_postOptions = new() { Name = "posted" };

    public override void Post(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        scheduler.Post(() => d(state), s_postOptions);
    }

    public override void Send(SendOrPostCallback d, object? state)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (Worker.Current is { } w && ReferenceEquals(w.Scheduler, scheduler))
        {
            d(state);
            return;
        }

        scheduler.Spawn(() => d(state), s_postOptions).Join();
    }

    public override SynchronizationContext CreateCopy() => this;
}
