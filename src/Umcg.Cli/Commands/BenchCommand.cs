using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Umcg.Cli.Commands;

/// <summary>
/// <c>umcg bench [workload]</c>: the workload on Umcg and on each baseline, in one process, alternating systems
/// (the order rotates every repetition so that no system always goes first), then medians side by side. A part whose
/// figures depend on what ran before it in the process runs in a child process (<see cref="WorkloadSettings.FreshProcesses"/>).
/// </summary>
internal sealed class BenchCommand : Command<BenchCommand.Settings>
{
    public const double DefaultSeconds = 2;

    public override int Execute(CommandContext context, Settings options, CancellationToken cancellationToken)
    {
        var ui = ConsoleUi.Of(context);
        var workload = options.Chosen;
        var settings = RunCommand.SettingsOf(options, DefaultSeconds) with { FreshProcesses = true };
        var systems = options.System is null || options.System == workload.Systems[0]
            ? workload.Systems
            : [workload.Systems[0], options.System];

        var reps = systems.ToDictionary(s => s, _ => new List<WorkloadResult>());
        foreach (string system in systems)
        {
            RunCommand.WarmUp(workload, system, settings, options, ui);
        }

        for (int rep = 0; rep < options.Reps; rep++)
        {
            for (int k = 0; k < systems.Count; k++)
            {
                string system = systems[(k + rep) % systems.Count];
                var result = ui.WithProgress(
                    $"{workload.Name} on {system} (rep {rep + 1}/{options.Reps})",
                    sink => workload.Run(system, settings, sink));

                reps[system].Add(result);
            }
        }

        var summaries = systems.Select(s => new BenchSummary(s, reps[s])).ToList();
        var reference = summaries[0].Median;
        var machine = MachineInfo.Describe(settings.Servers);
        var lines = summaries.Select(s => ResultJson.Line(new BenchRecord(ResultRecord.Of(s.Median, settings.Servers, machine))
        {
            Reps = options.Reps,
            SecondsPerRep = settings.Duration.TotalSeconds,
            Reference = reference.System,
            ThroughputRatioVsReference = Ratio(s.Median.ThroughputPerSecond, reference.ThroughputPerSecond),
            P99RatioVsReference = Ratio(s.Median.Latency?.P99Us, reference.Latency?.P99Us),
            RepUtilization = Each(s.Reps, r => r.Utilization),
            RepThroughputPerS = Each(s.Reps, r => r.ThroughputPerSecond),
            RepP50Us = Each(s.Reps, r => r.Latency?.P50Us),
            RepP99Us = Each(s.Reps, r => r.Latency?.P99Us),
            RepP999Us = Each(s.Reps, r => r.Latency?.P999Us),
        })).ToList();

        if (options.Out is { } folder)
        {
            Directory.CreateDirectory(folder);
            File.WriteAllLines(Path.Combine(folder, "results.jsonl"), lines);
            if (!options.NoPlots && summaries.Any(s => s.Median.LatencyDistribution?.Count > 0))
            {
                Plots.LatencyCdf(summaries.Select(s => s.Median), Path.Combine(folder, RunReport.LatencyPng));
            }
        }

        if (options.Json)
        {
            foreach (string line in lines)
            {
                ui.Out.WriteLine(line);
            }

            return 0;
        }

        ui.Out.WriteLine($"{workload.Name}: {settings.Servers} servers, {options.Reps} reps × {settings.Duration.TotalSeconds:0.##} s per system, medians; ratios are system / {reference.System}");
        ui.Out.WriteLine($"latency: {reference.LatencyMeasure}");
        ui.Write(BenchSummary.Table(workload, summaries));
        foreach (var s in summaries)
        {
            foreach (string note in s.Median.Notes)
            {
                ui.Out.WriteLine($"note ({s.System}): {note}");
            }
        }

        if (options.Out is { } written)
        {
            ui.Out.WriteLine($"written: {written}{Path.DirectorySeparatorChar} (results.jsonl{(options.NoPlots ? "" : ", latency-cdf.png")})");
        }

        return 0;
    }

    private static double? Ratio(double? value, double? reference) =>
        reference is double r && r != 0 ? ResultRecord.Round(value / r, 4) : null;

    /// <summary>One figure of every repetition, rounded to 4 decimals.</summary>
    private static List<double?> Each(IEnumerable<WorkloadResult> reps, Func<WorkloadResult, double?> figure) =>
        [.. reps.Select(r => ResultRecord.Round(figure(r), 4))];

    /// <summary>The options of <c>umcg bench</c>.</summary>
    internal sealed class Settings : WorkloadCommandSettings
    {
        [CommandOption("--reps <N>")]
        [Description("repetitions of every system; the order of systems rotates every repetition")]
        [DefaultValue(3)]
        public int Reps { get; set; } = 3;

        public override ValidationResult Validate() =>
            base.Validate() is { Successful: false } refused ? refused : Check.Positive("--reps", Reps) ?? ValidationResult.Success();
    }
}
