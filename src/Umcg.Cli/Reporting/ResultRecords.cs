using System.Diagnostics.CodeAnalysis;
using System.Text.Json.Serialization;

namespace Umcg.Cli.Reporting;

/// <summary>
/// One result as <c>--json</c> writes it: the figures every workload reports, the workload's own figures, the
/// machine and the notes. Names are the properties' in snake_case (<see cref="ResultJsonContext"/>); a figure
/// that does not apply, or is not finite, is null. Numbers are rounded to 6 decimals. Field order: these
/// common figures, a derived record's own fields (order 1), the notes (2), then the workload's own figures.
/// </summary>
internal record ResultRecord
{
    public string Workload { get; init; } = "";

    public string System { get; init; } = "";

    public double? WallS { get; init; }

    public double? Utilization { get; init; }

    public double? ThroughputPerS { get; init; }

    public string ThroughputUnit { get; init; } = "";

    /// <summary>What the latency figures measure.</summary>
    public string Latency { get; init; } = "";

    public double? P50Us { get; init; }

    public double? P99Us { get; init; }

    public double? P999Us { get; init; }

    public double? MaxUs { get; init; }

    public double? MeanUs { get; init; }

    public long? LatencySamples { get; init; }

    public long? LatencySamplesDropped { get; init; }

    public int? MaxRunning { get; init; }

    public long InvoluntaryCtxSwitches { get; init; }

    public long VoluntaryCtxSwitches { get; init; }

    public double? InvoluntaryCtxSwitchesPerS { get; init; }

    public int Servers { get; init; }

    public MachineRecord Machine { get; init; } = MachineRecord.Unknown;

    [JsonPropertyOrder(2)] // last but for the workload's own figures
    public IReadOnlyList<string> Notes { get; init; } = [];

    /// <summary>
    /// The workload's own figures (<see cref="WorkloadResult.Extra"/>), each a top-level field of its name, in
    /// name order: a number, or null where not finite. They differ from workload to workload, so they are a map
    /// rather than properties; their names and types are pinned per workload by the tests.
    /// </summary>
    /// <remarks>Get-only: the JSON source generator binds init-only properties as constructor parameters, which an extension-data property cannot be.</remarks>
    [JsonExtensionData]
    public Dictionary<string, object?> Figures { get; } = new(StringComparer.Ordinal);

    /// <summary>The common figures of <paramref name="r"/>, run on <paramref name="servers"/> servers of <paramref name="machine"/>.</summary>
    public static ResultRecord Of(WorkloadResult r, int servers, MachineRecord machine)
    {
        var record = new ResultRecord
        {
            Workload = r.Workload,
            System = r.System,
            WallS = Round(r.WallSeconds),
            Utilization = Round(r.Utilization),
            ThroughputPerS = Round(r.ThroughputPerSecond),
            ThroughputUnit = r.ThroughputUnit,
            Latency = r.LatencyMeasure,
            P50Us = Round(r.Latency?.P50Us),
            P99Us = Round(r.Latency?.P99Us),
            P999Us = Round(r.Latency?.P999Us),
            MaxUs = Round(r.Latency?.MaxUs),
            MeanUs = Round(r.Latency?.MeanUs),
            LatencySamples = r.Latency?.Count,
            LatencySamplesDropped = r.Latency?.Dropped,
            MaxRunning = r.MaxRunning,
            InvoluntaryCtxSwitches = r.InvoluntaryContextSwitches,
            VoluntaryCtxSwitches = r.VoluntaryContextSwitches,
            InvoluntaryCtxSwitchesPerS = r.WallSeconds > 0 ? Round(r.InvoluntaryContextSwitches / r.WallSeconds) : null,
            Servers = servers,
            Machine = machine,
            Notes = [.. r.Notes],
        };
        foreach (var (name, value) in r.Extra)
        {
            record.Figures[name] = Round(value);
        }

        return record;
    }

    /// <summary>A figure as JSON has it: null when absent or not finite, else rounded to <paramref name="decimals"/>.</summary>
    public static double? Round(double? value, int decimals = 6) =>
        value is double d && double.IsFinite(d) ? Math.Round(d, decimals) : null;
}

/// <summary><c>umcg run --json</c> and summary.json: one run, with what was asked of it.</summary>
internal sealed record RunRecord : ResultRecord
{
    /// <summary>The JSON contract's constructor (STJ takes a parameterless one; results are only ever written).</summary>
    public RunRecord()
    {
    }

    [SetsRequiredMembers]
    internal RunRecord(ResultRecord common)
        : base(common)
    {
    }

    [JsonPropertyOrder(1)]
    public double SecondsAsked { get; init; }
}

/// <summary>
/// One line of <c>umcg bench --json</c>: one system's medians over the repetitions (max_running and max_us:
/// maxima), its ratios to the reference system, and each repetition's headline figures.
/// </summary>
internal sealed record BenchRecord : ResultRecord
{
    /// <summary>The JSON contract's constructor (STJ takes a parameterless one; results are only ever written).</summary>
    public BenchRecord()
    {
    }

    [SetsRequiredMembers]
    internal BenchRecord(ResultRecord common)
        : base(common)
    {
    }

    [JsonPropertyOrder(1)]
    public int Reps { get; init; }

    [JsonPropertyOrder(1)]
    public double SecondsPerRep { get; init; }

    /// <summary>The system the ratios are taken against (Umcg's).</summary>
    [JsonPropertyOrder(1)]
    public string Reference { get; init; } = "";

    [JsonPropertyOrder(1)]
    public double? ThroughputRatioVsReference { get; init; }

    [JsonPropertyOrder(1)]
    public double? P99RatioVsReference { get; init; }

    [JsonPropertyOrder(1)]
    public IReadOnlyList<double?> RepUtilization { get; init; } = [];

    [JsonPropertyOrder(1)]
    public IReadOnlyList<double?> RepThroughputPerS { get; init; } = [];

    [JsonPropertyOrder(1)]
    public IReadOnlyList<double?> RepP50Us { get; init; } = [];

    [JsonPropertyOrder(1)]
    public IReadOnlyList<double?> RepP99Us { get; init; } = [];

    [JsonPropertyOrder(1)]
    public IReadOnlyList<double?> RepP999Us { get; init; } = [];
}

/// <summary>The machine a result was measured on.</summary>
internal sealed record MachineRecord(int Cpus, int Servers, string CpuModel, string Kernel, string Runtime, string DateUtc)
{
    public static MachineRecord Unknown { get; } = new(0, 0, "unknown", "unknown", "unknown", "");
}
