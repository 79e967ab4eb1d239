using Umcg.Scheduling;

namespace Orders;

/// <summary>
/// What <c>GET /umcg/stats</c> answers in <see cref="ServingMode.Umcg"/>: the threads the scheduler owns against its
/// bound, and how many bodies it admitted, queued or refused — so a benchmark can check the bound from outside.
/// </summary>
/// <param name="Servers">Server threads (one per CPU).</param>
/// <param name="WorkerThreads">Worker threads now (running, runnable, blocked or idle in the pool).</param>
/// <param name="PeakWorkerThreads">The most worker threads at once since the start.</param>
/// <param name="MaxWorkers">The bound on worker threads (<c>Umcg:MaxWorkers</c>), or null for none.</param>
/// <param name="QueuedBodies">Admitted bodies waiting for a worker thread now.</param>
/// <param name="Spawned">Bodies admitted so far.</param>
/// <param name="Completed">Bodies finished so far.</param>
/// <param name="AdmissionWaits">Spawns that waited for room.</param>
/// <param name="AdmissionRejections">Spawns refused.</param>
/// <param name="Blocks">Blocking regions entered.</param>
/// <param name="DetectorBlocks">Blocks the detector made on workers' behalf.</param>
public sealed record UmcgThreads(
    int Servers,
    int WorkerThreads,
    int PeakWorkerThreads,
    int? MaxWorkers,
    int QueuedBodies,
    long Spawned,
    long Completed,
    long AdmissionWaits,
    long AdmissionRejections,
    long Blocks,
    long DetectorBlocks)
{
    /// <summary>A snapshot of <paramref name="scheduler"/>'s counters (racy reads, good for a report).</summary>
    public static UmcgThreads Of(UmcgScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        var stats = scheduler.Stats;
        return new UmcgThreads(
            scheduler.ServerCount,
            stats.WorkerThreads,
            stats.PeakWorkerThreads,
            scheduler.Options.MaxWorkers,
            stats.QueuedBodies,
            stats.Spawned,
            stats.Completed,
            stats.AdmissionWaits,
            stats.AdmissionRejections,
            stats.Blocks,
            stats.DetectorBlocks);
    }
}
