namespace Umcg.Scheduling;

/// <summary>
/// A spawn refused by admission control (<see cref="AdmissionMode.Reject"/>): the scheduler already has
/// <see cref="MaxWorkers"/> worker threads and <see cref="MaxQueuedBodies"/> bodies waiting for one. The body was
/// never accepted and never runs; nothing of it is left behind, and every admitted body keeps running. Counted in
/// <see cref="SchedulerStats.AdmissionRejections"/>. A service answers it as "busy, retry later" (an HTTP 503).
/// </summary>
public sealed class UmcgAdmissionRejectedException : InvalidOperationException
{
    /// <summary>Creates the exception for a scheduler bounded to <paramref name="maxWorkers"/> threads and <paramref name="maxQueuedBodies"/> waiting bodies.</summary>
    public UmcgAdmissionRejectedException(int maxWorkers, int? maxQueuedBodies)
        : base(
            $"The scheduler is at its admission bounds ({maxWorkers} worker threads, {(maxQueuedBodies is int q ? q.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unbounded")} bodies waiting to start), so the body was not spawned. " +
            "Retry later, raise UmcgSchedulerOptions.MaxWorkers or MaxQueuedBodies, or use AdmissionMode.Wait for back-pressure.")
    {
        MaxWorkers = maxWorkers;
        MaxQueuedBodies = maxQueuedBodies;
    }

    /// <summary>The bound on worker threads that was reached (<see cref="UmcgSchedulerOptions.MaxWorkers"/>).</summary>
    public int MaxWorkers { get; }

    /// <summary>The bound on bodies waiting to start that was reached (<see cref="UmcgSchedulerOptions.MaxQueuedBodies"/>).</summary>
    public int? MaxQueuedBodies { get; }
}
