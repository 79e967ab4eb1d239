using System.Text;

namespace Umcg.Cli.Commands;

/// <summary>The help text of each command.</summary>
internal static class HelpText
{
    public static string For(string command) => command switch
    {
        CommandNames.Run => Run,
        CommandNames.Bench => Bench,
        CommandNames.List => "Usage: umcg list\n\nLists the workloads and the systems each one runs on.\n",
        StressCommand.Name => StressCommand.Help,
        CommandNames.Demo => "Usage: umcg demo\n\nA small demo on the raw kernel-half API: one server, three workers that block and yield.\n",
        _ => Main,
    };

    private static string Main => $"""
        umcg — run workloads on the Umcg M:N scheduler and compare them with .NET's own ways of running tasks.

        Usage: umcg [command] [workload] [options]

        Commands:
          run [workload]     run a workload on Umcg, show progress, print a summary and write a report (default)
          bench [workload]   run a workload on Umcg and on its baselines, alternating, and compare them side by side
          list               list the workloads and their systems
          demo               a small demo on the raw kernel-half API
          stress             the long stress mode: random mixes of bodies under every policy and detector
          help [command]     show help (also: umcg <command> --help)

        Workloads:
        {Workloads()}
        Run 'umcg run --help' or 'umcg bench --help' for their options.

        """;

    private static string Run => $"""
        Usage: umcg run [workload] [options]

        Runs one workload (default: {WorkloadCatalog.Default}) on Umcg, shows live progress, prints a summary, and
        writes into the output folder: summary.json, utilization.png (per CPU, over time), latency-cdf.png and
        trace.json (Chrome/Perfetto trace: on Umcg every worker transition and scheduler decision, a track per
        server and per worker, with the sampled utilization beside them).

        Workloads:
        {Workloads()}
        Options:
          --seconds S      how long the measured part runs (default 3)
          --warmup S       unreported warm-up run first, in seconds (default 0.5; 0: none)
          --servers N      Umcg servers, and N of the baselines (default: one per CPU)
          --workers N      tasks or workers the workload starts (default: its own)
          --system NAME    run on another system of the workload instead of Umcg (see 'umcg list')
          --out DIR        output folder (default ./umcg-out/<workload>-<timestamp>)
          --json           print the summary as one JSON object instead of text
          --no-plots       do not write PNG plots
          --no-trace       do not record the scheduler's transitions (trace.json then holds utilization only)
          -h, --help       show this help

        """;

    private static string Bench => $"""
        Usage: umcg bench [workload] [options]

        Runs one workload (default: {WorkloadCatalog.Default}) on Umcg and on each of its baselines in one process,
        alternating systems for several repetitions, and prints a side-by-side table of medians with ratios to Umcg.

        Workloads:
        {Workloads()}
        Options:
          --reps N         repetitions of every system (default 3)
          --seconds S      measured seconds of each run (default 2)
          --warmup S       unreported warm-up run of each system first, in seconds (default 0.5; 0: none)
          --servers N      Umcg servers, and N of the baselines (default: one per CPU)
          --workers N      tasks or workers the workload starts (default: its own)
          --system NAME    bench only Umcg and this system
          --json           print one JSON object per system (JSON lines) instead of the table
          --out DIR        also write results.jsonl and a latency CDF of every system there
          --no-plots       do not write PNG plots
          -h, --help       show this help

        """;

    private static string Workloads()
    {
        var sb = new StringBuilder();
        foreach (var w in WorkloadCatalog.All)
        {
            sb.Append("  ").Append(w.Name.PadRight(12)).Append(' ').AppendLine(w.Description);
        }

        return sb.ToString();
    }
}
