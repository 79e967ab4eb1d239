namespace Umcg.Cli.Systems;

/// <summary>What a workload asks of the system that runs its tasks; see <see cref="TaskGroup"/>.</summary>
internal enum TaskKind
{
    /// <summary>An ordinary task.</summary>
    Normal,

    /// <summary>A short, latency-sensitive request (high priority where the system has priorities).</summary>
    Request,

    /// <summary>Long CPU-bound background work (low priority where the system has priorities).</summary>
    Batch,
}

/// <summary>
/// One way of running tasks: Umcg workers, the .NET thread pool, a thread per task, or a fixed pool. The
/// workloads' code is the same on every system: blocking calls sit in <c>Worker.Blocking()</c> regions and
/// loops call <c>Worker.Safepoint()</c>, which do nothing on threads that are not Umcg workers.
/// </summary>
internal interface ITaskSystem : IDisposable
{
    /// <summary>The system's name on the command line and in reports.</summary>
    string Name { get; }

    /// <summary>Starts <paramref name="body"/>; it must not throw (see <see cref="TaskGroup"/>).</summary>
    void Start(Action body, TaskKind kind);
}
