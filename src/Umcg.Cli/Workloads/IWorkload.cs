namespace Umcg.Cli.Workloads;

/// <summary>A workload: the same task code, run on each of the systems it compares.</summary>
internal interface IWorkload
{
    /// <summary>The name on the command line.</summary>
    string Name { get; }

    /// <summary>One line for the help text.</summary>
    string Description { get; }

    /// <summary>The systems it runs on; the first is Umcg, the reference of every ratio.</summary>
    IReadOnlyList<string> Systems { get; }

    /// <summary>Keys of <see cref="WorkloadResult.Extra"/> that the bench table shows as columns.</summary>
    IReadOnlyList<string> ReportedExtras => [];

    /// <summary>Whether <c>umcg run</c> records a trace of the measured run (on Umcg, unless <c>--no-trace</c>).</summary>
    bool Traced => true;

    /// <summary>A short run of the same code, unreported, so that the measured run starts with jitted code and warm pools.</summary>
    WorkloadSettings WarmUp(WorkloadSettings settings, TimeSpan duration) => settings with { Duration = duration };

    /// <summary>Runs once on <paramref name="system"/> and measures it.</summary>
    WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress);
}

/// <summary>Receives a running workload's progress (from any thread).</summary>
internal interface IProgressSink
{
    /// <param name="fraction">0 to 1 of the planned run.</param>
    /// <param name="status">A short live figure, e.g. "util 0.97".</param>
    void Report(double fraction, string status);
}

/// <summary>A sink that drops progress.</summary>
internal sealed class NoProgress : IProgressSink
{
    public static NoProgress Instance { get; } = new();

    public void Report(double fraction, string status)
    {
    }
}
