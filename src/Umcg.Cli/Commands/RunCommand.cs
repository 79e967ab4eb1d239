using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Umcg.Diagnostics;

namespace Umcg.Cli.Commands;

/// <summary><c>umcg run [workload]</c>: one workload on one system (Umcg by default), summary and report folder.</summary>
internal sealed class RunCommand : Command<RunCommand.Settings>
{
    public const double DefaultSeconds = 3;

    public override int Execute(CommandContext command, Settings options, CancellationToken cancellationToken)
    {
        var ui = ConsoleUi.Of(command);
        var workload = options.Chosen;
        string system = options.System ?? workload.Systems[0];
        var settings = SettingsOf(options, DefaultSeconds);

        WarmUp(workload, system, settings, options, ui);

        // The measured run only: the recorder costs little (one slot per transition, see docs/diagnostics.md)
        // and stops keeping events once full, so a long run is traced from its start.
        var recorder = options.NoTrace || !workload.Traced || system != Systems.SystemNames.Umcg ? null : new TraceRecorder();
        var measured = settings with { Trace = recorder };
        var result = ui.WithProgress($"{workload.Name} on {system}", sink => workload.Run(system, measured, sink));

        string folder = options.Out ?? RunReport.DefaultFolder(workload.Name);
        var machine = MachineInfo.Describe(settings.Servers);
        RunRecord Record() => new(ResultRecord.Of(result, settings.Servers, machine)) { SecondsAsked = settings.Duration.TotalSeconds };
        var files = RunReport.Write(result, folder, !options.NoPlots, Record, recorder);

        if (options.Json)
        {
            ui.Out.WriteLine(ResultJson.Line(Record()));
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
    public static void WarmUp(IWorkload workload, string system, WorkloadSettings settings, WorkloadCommandSettings options, ConsoleUi ui)
    {
        if (options.WarmUp > 0)
        {
            var warm = workload.WarmUp(settings, TimeSpan.FromSeconds(options.WarmUp));
            ui.WithProgress($"{workload.Name} on {system} (warm-up)", sink => workload.Run(system, warm, sink));
        }
    }

    public static WorkloadSettings SettingsOf(WorkloadCommandSettings options, double defaultSeconds) => new()
    {
        Duration = TimeSpan.FromSeconds(options.Seconds ?? defaultSeconds),
        Servers = options.Servers ?? WorkloadSettings.DefaultServers,
        Workers = options.Workers,
        OsTimeSlice = options.OsSlice switch
        {
            null => UmcgSchedulerOptions.DefaultOsTimeSlice,
            0 => null,
            double us => TimeSpan.FromMicroseconds(us),
        },
        OsTimeSliceMode = (options.OsSliceMode is { } mode ? Check.ParseOsSliceMode(mode) : null) ?? OsTimeSliceMode.WhenContended,
    };

    private static Table Summary(WorkloadResult r)
    {
        var t = ConsoleUi.Table("figure", "value");
        t.Columns[1].RightAligned();
        if (r.Utilization is { } u)
        {
            t.AddCells("utilization (compute CPU / wall × N)", Format.Num(u, "0.000"));
        }

        if (r.MaxRunning is { } m)
        {
            t.AddCells("max compute sections running at once", m.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        t.AddCells($"throughput ({r.ThroughputUnit}/s)", Format.Rate(r.ThroughputPerSecond));
        if (r.Latency is { } l)
        {
            t.AddCells($"latency: {r.LatencyMeasure}", "");
            t.AddCells("  p50 / p99 / p99.9 / max (µs)", $"{Format.Us(l.P50Us)} / {Format.Us(l.P99Us)} / {Format.Us(l.P999Us)} / {Format.Us(l.MaxUs)}");
            t.AddCells("  samples", Format.Rate(l.Count));
        }

        t.AddCells("involuntary context switches (/s)", $"{r.InvoluntaryContextSwitches} ({Format.Rate(r.InvoluntaryContextSwitches / r.WallSeconds)})");
        t.AddCells("voluntary context switches (/s)", $"{r.VoluntaryContextSwitches} ({Format.Rate(r.VoluntaryContextSwitches / r.WallSeconds)})");
        foreach (var (key, value) in r.Extra)
        {
            t.AddCells(key, Format.Num(value, Math.Abs(value) >= 100 || value == Math.Floor(value) ? "0" : "0.000"));
        }

        return t;
    }

    /// <summary>The options of <c>umcg run</c>.</summary>
    internal sealed class Settings : WorkloadCommandSettings
    {
        [CommandOption("--no-trace")]
        [Description("do not record the scheduler's transitions (trace.json then holds utilization only)")]
        public bool NoTrace { get; set; }
    }
}
