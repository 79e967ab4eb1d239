using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Umcg.Cli.Commands;

/// <summary>What <c>run</c> and <c>bench</c> both take: the workload, how long, on how many servers, where results go.</summary>
internal class WorkloadCommandSettings : CommandSettings
{
    [CommandArgument(0, "[workload]")]
    [Description("the workload to run (see 'umcg list'); default: mixed")]
    public string Workload { get; set; } = WorkloadCatalog.Default;

    [CommandOption("--seconds <S>")]
    [Description("measured seconds of each run (run: 3, bench: 2)")]
    public double? Seconds { get; set; }

    [CommandOption("--warmup <S>")]
    [Description("an unreported warm-up run of S seconds first (bench: of every system); 0: none")]
    [DefaultValue(0.5)]
    public double WarmUp { get; set; } = 0.5;

    [CommandOption("--servers <N>")]
    [Description("Umcg servers, and N of the baselines (default: one per CPU)")]
    public int? Servers { get; set; }

    [CommandOption("--workers <N>")]
    [Description("tasks or workers the workload starts (default: its own)")]
    public int? Workers { get; set; }

    [CommandOption("--os-slice <US>")]
    [Description("the OS time slice of Umcg's threads in µs, 100 to 100000; 0: the OS's own (default 500)")]
    public double? OsSlice { get; set; }

    [CommandOption("--os-slice-mode <MODE>")]
    [Description("when Umcg's threads ask for that slice: contended (while other processes keep the CPUs busy; the default) or always")]
    public string? OsSliceMode { get; set; }

    [CommandOption("--system <NAME>")]
    [Description("run: this system instead of Umcg; bench: compare Umcg with this system only")]
    public string? System { get; set; }

    [CommandOption("--out <DIR>")]
    [Description("run: the report folder (default ./umcg-out/<workload>-<timestamp>); bench: also write results.jsonl and a latency CDF there")]
    public string? Out { get; set; }

    [CommandOption("--json")]
    [Description("run: print the summary as one JSON object; bench: one JSON object per system (JSON lines)")]
    public bool Json { get; set; }

    [CommandOption("--no-plots")]
    [Description("do not write PNG plots")]
    public bool NoPlots { get; set; }

    /// <summary>The workload named (valid once <see cref="Validate"/> passed).</summary>
    public IWorkload Chosen => WorkloadCatalog.Find(Workload)!;

    public override ValidationResult Validate()
    {
        if (WorkloadCatalog.Find(Workload) is not { } workload)
        {
            return ValidationResult.Error(
                $"Unknown workload '{Workload}'. Valid workloads: {string.Join(", ", WorkloadCatalog.Names)} (commands: {string.Join(", ", CliApp.Commands)}).");
        }

        return Check.Given("--out", Out)
            ?? Check.Given("--system", System)
            ?? Check.Positive("--seconds", Seconds)
            ?? Check.NotNegative("--warmup", WarmUp)
            ?? Check.Positive("--servers", Servers)
            ?? Check.Positive("--workers", Workers)
            ?? Check.OsSlice("--os-slice", OsSlice)
            ?? Check.OsSliceMode("--os-slice-mode", OsSliceMode)
            ?? (System is null || workload.Systems.Contains(System)
                ? ValidationResult.Success()
                : ValidationResult.Error($"Workload '{workload.Name}' does not run on system '{System}'. Valid systems: {string.Join(", ", workload.Systems)}."));
    }
}
