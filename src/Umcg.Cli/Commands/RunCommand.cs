using System.Text.Json.Nodes;
using Umcg.Diagnostics;

namespace Umcg.Cli.Commands;

/// <summary><c>umcg run [workload]</c>: one workload on one system (Umcg by default), summary and report folder.</summary>
internal static class RunCommand
{
    public const double DefaultSeconds = 3;

    public static int Execute(CliOptions options, ConsoleUi ui)
    {
        var workload = WorkloadCatalog.Find(options.Workload)!;
        string system = options.System ?? workload.Systems[0];
        var settings = Settings(options, DefaultSeconds);

        WarmUp(workload, system, settings, options, ui);

        // The measured run only: the recorder costs little (one slot per transition, see docs/diagnostics.md)
        // and stops keeping events once full, so a long run is traced from its start.
        var recorder = options.NoTrace || system != Systems.SystemNames.Umcg ? null : new TraceRecorder();
        var measured = settings with { Trace = recorder };
        var result = ui.WithProgress($"{workload.Name} on {system}", sink => workload.Run(system, measured, sink));

        string folder = options.Out ?? RunReport.DefaultFolder(workload.Name);
        var context = new Dictionary<string, JsonNode?>
        {
            ["servers"] = settings.Servers,
            ["seconds_asked"] = settings.Duration.TotalSeconds,
            ["machine"] = MachineInfo.Describe(settings.Servers),
        };
        var files = RunReport.Write(result, folder, !options.NoPlots, context, recorder);

        if (options.Json)
        {
            ui.Out.WriteLine(ResultJson.Line(result, context));
            return 0;
        }

        ui.Out.WriteLine($"{workload.Name} on {system}: {settings.Servers} servers, {result.WallSeconds:0.00} s");
        ui.Write(Summary(result));
        foreach (string note in result.Notes)
        {
            ui.Out.WriteLine($"note: {note}");
        }

        ui.Out.WriteLine($"report: {folder}{Path.DirectorySeparatorChar} ({string.Join(", ", files.Select(Path.GetFileName))})");
        return 0;
    }

    /// <summary>The unreported warm-up run, if asked for.</summary>
    public static void WarmUp(IWorkload workload, string system, WorkloadSettings settings, CliOptions options, ConsoleUi ui)
    {
        if (options.WarmUp > 0)
        {
            var warm = workload.WarmUp(settings, TimeSpan.FromSeconds(options.WarmUp));
            ui.WithProgress($"{workload.Name} on {system} (warm-up)", sink => workload.Run(system, warm, sink));
        }
    }

    public static WorkloadSettings Settings(CliOptions options, double defaultSeconds) => new()
    {
        Duration = TimeSpan.FromSeconds(options.Seconds ?? defaultSeconds),
        Servers = options.Servers ?? WorkloadSettings.DefaultServers,
        Workers = options.Workers,
    };

    private static TextTable Summary(WorkloadResult r)
    {
        var t = new TextTable("figure", "value");
        if (r.Utilization is { } u)
        {
            t.Add("utilization (compute CPU / wall × N)", Format.Num(u, "0.000"));
        }

        if (r.MaxRunning is { } m)
        {
            t.Add("max compute sections running at once", m.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        t.Add($"throughput ({r.ThroughputUnit}/s)", Format.Rate(r.ThroughputPerSecond));
        if (r.Latency is { } l)
        {
            t.Add($"latency: {r.LatencyMeasure}", "");
            t.Add("  p50 / p99 / p99.9 / max (µs)", $"{Format.Us(l.P50Us)} / {Format.Us(l.P99Us)} / {Format.Us(l.P999Us)} / {Format.Us(l.MaxUs)}");
            t.Add("  samples", Format.Rate(l.Count));
        }

        t.Add("involuntary context switches (/s)", $"{r.InvoluntaryContextSwitches} ({Format.Rate(r.InvoluntaryContextSwitches / r.WallSeconds)})");
        t.Add("voluntary context switches (/s)", $"{r.VoluntaryContextSwitches} ({Format.Rate(r.VoluntaryContextSwitches / r.WallSeconds)})");
        foreach (var (key, value) in r.Extra)
        {
            t.Add(key, Format.Num(value, Math.Abs(value) >= 100 || value == Math.Floor(value) ? "0" : "0.000"));
        }

        return t;
    }
}
