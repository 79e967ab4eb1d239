namespace Umcg.Cli.Workloads;

/// <summary>Every workload the tool knows, by name.</summary>
internal static class WorkloadCatalog
{
    public const string Default = "mixed";

    public static IReadOnlyList<IWorkload> All { get; } =
    [
        new MixedWorkload(),
        new ColocationWorkload(),
        new PingPongWorkload(),
        new PipelineWorkload(),
        new ScaleWorkload(),
        new GcPause.GcPauseWorkload(),
        new ColocationWorkload(safepoints: false),
        new Demotion.GiveWayWorkload(),
    ];

    public static IEnumerable<string> Names => All.Select(w => w.Name);

    public static IWorkload? Find(string name) => All.FirstOrDefault(w => string.Equals(w.Name, name, StringComparison.OrdinalIgnoreCase));
}
