namespace Umcg.Scheduling;

/// <summary>How one spawned body runs.</summary>
public sealed record WorkerOptions
{
    /// <summary>The default options.</summary>
    public static WorkerOptions Default { get; } = new();

    /// <summary>A name for diagnostics and traces.</summary>
    public string? Name { get; init; }

    /// <summary>
    /// Priority for policies that use it (<see cref="Policies.PriorityPolicy"/>): 0 (lowest) to
    /// <see cref="Policies.PriorityPolicy.Levels"/> − 1 (highest). Default 0; values outside are clamped. Under any
    /// policy it also orders the bodies waiting for a worker thread once <see cref="UmcgSchedulerOptions.MaxWorkers"/>
    /// is reached: highest first, oldest first within a priority.
    /// </summary>
    public int Priority { get; init; }

    /// <summary>Share weight for <see cref="Policies.FairSharePolicy"/>: twice the weight, twice the CPU. Positive; default 1024.</summary>
    public int Weight { get; init; } = 1024;

    /// <summary>Run on this server (0-based index) and never migrate; null lets the scheduler place and balance it.</summary>
    public int? ServerAffinity { get; init; }

    /// <summary>Start on this server (0-based index) but let the scheduler move it later; ignored when <see cref="ServerAffinity"/> is set.</summary>
    public int? PreferredServer { get; init; }

    /// <summary>
    /// Stack size of the worker thread in bytes: 0 for the runtime default, else from
    /// <see cref="OptionsValidation.MinStackSize"/> to <see cref="OptionsValidation.MaxStackSize"/>. Threads are
    /// reused only for equal stack sizes.
    /// </summary>
    public int StackSize { get; init; }
}
