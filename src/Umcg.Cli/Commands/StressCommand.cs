using Umcg.Cli.Stress;
using Umcg.Kernel.Detection;

namespace Umcg.Cli.Commands;

/// <summary>
/// <c>umcg stress</c>: the long stress mode. Runs rounds of the random mix, rotating every chosen policy ×
/// detector, until the time is up; prints each round; stops at the first failure with its dump (exit 1).
/// </summary>
internal static class StressCommand
{
    public const string Name = "stress";

    public static IReadOnlyList<string> Options { get; } =
        ["--minutes", "--bodies", "--servers", "--policy", "--detection", "--seed", "--help"];

    public static string Help => """
        Usage: umcg stress [options]

        The long stress mode: rounds of a random mix of bodies (mutexes, a condition, a semaphore, a bounded
        channel, sleeps, yields, spins with safepoints, blocking regions) on a fresh scheduler each, rotating
        every chosen policy × detector until the time is up. Live checks: at most one RUNNING worker per server,
        every body finishes exactly once, and no round goes 60 s without a spawn or a completion. Stops at the
        first failure and prints a dump of every server and task (exit 1). Run it beside a CPU hog, e.g.
        'stress-ng --cpu 4'.

        Options:
          --minutes M      how long to keep starting rounds (default 30)
          --bodies N       bodies per round (default 10000)
          --servers N      servers per round (default 3)
          --policy P       fifo, priority, fairshare or all (default all); each with a 1.9 ms time slice
          --detection D    none, monitor, switch, both or all (default all)
          --seed S         seed of the first round; each round adds one (default 1)
          -h, --help       show this help

        """;

    /// <summary>Parses <paramref name="args"/> (the words after <c>stress</c>) and runs the rounds.</summary>
    public static int Execute(IReadOnlyList<string> args, ConsoleUi ui)
    {
        StressPlan plan;
        try
        {
            plan = Parse(args);
        }
        catch (CliUsageException e)
        {
            ui.Error.WriteLine($"umcg: {e.Message}");
            ui.Error.WriteLine("Run 'umcg stress --help' for usage.");
            return CliApp.Usage;
        }

        if (plan.Help)
        {
            ui.Out.Write(Help);
            return CliApp.Ok;
        }

        return Run(plan, ui);
    }

    private static int Run(StressPlan plan, ConsoleUi ui)
    {
        var clock = Stopwatch.StartNew();
        var configurations = (from p in plan.Policies from d in plan.Detections select (p, d)).ToArray();
        int round = 0;
        do
        {
            var (policy, detection) = configurations[round % configurations.Length];
            var settings = new StressSettings
            {
                Bodies = plan.Bodies,
                Servers = plan.Servers,
                Policy = policy,
                Detection = detection,
                Seed = plan.Seed + round,
            };
            round++;
            var outcome = StressRound.Run(settings);
            ui.Out.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"round {round}: {settings}: {(outcome.Passed ? "ok" : "FAILED")}, {outcome.Completed} completed in {outcome.Elapsed.TotalSeconds:0.0} s"));
            if (!outcome.Passed)
            {
                ui.Error.WriteLine($"umcg stress: round {round} failed: {outcome.Failure}");
                return CliApp.Failed;
            }
        }
        while (clock.Elapsed < plan.Duration);

        ui.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round} rounds passed in {clock.Elapsed.TotalMinutes:0.0} min"));
        return CliApp.Ok;
    }

    private static StressPlan Parse(IReadOnlyList<string> args)
    {
        var plan = new StressPlan();
        for (int i = 0; i < args.Count; i++)
        {
            string name = args[i] is "-h" or "-?" ? "--help" : args[i];
            if (name == "--help")
            {
                plan = plan with { Help = true };
                continue;
            }

            if (!Options.Contains(name))
            {
                throw new CliUsageException($"Unknown option or argument '{args[i]}'. Valid options of 'umcg stress': {string.Join(", ", Options)}.");
            }

            if (i + 1 >= args.Count)
            {
                throw new CliUsageException($"Option '{name}' needs a value.");
            }

            string value = args[++i];
            plan = name switch
            {
                "--minutes" => plan with { Duration = TimeSpan.FromMinutes(Positive(name, value)) },
                "--bodies" => plan with { Bodies = (int)Positive(name, value, whole: true) },
                "--servers" => plan with { Servers = (int)Positive(name, value, whole: true) },
                "--seed" => plan with { Seed = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed) ? seed : throw new CliUsageException($"Option '--seed' needs a whole number, got '{value}'.") },
                "--policy" => plan with { Policies = PoliciesOf(value) },
                _ => plan with { Detections = DetectionsOf(value) },
            };
        }

        return plan;
    }

    private static double Positive(string name, string value, bool whole = false) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d > 0 && double.IsFinite(d)
            && (!whole || (d == Math.Floor(d) && d <= int.MaxValue))
            ? d
            : throw new CliUsageException($"Option '{name}' needs a positive {(whole ? "whole " : "")}number, got '{value}'.");

    private static StressPolicy[] PoliciesOf(string value) => value.ToLowerInvariant() switch
    {
        "fifo" => [StressPolicy.Fifo],
        "priority" => [StressPolicy.Priority],
        "fairshare" => [StressPolicy.FairShare],
        "all" => [StressPolicy.Fifo, StressPolicy.Priority, StressPolicy.FairShare],
        _ => throw new CliUsageException($"Option '--policy' takes fifo, priority, fairshare or all, got '{value}'."),
    };

    private static BlockingDetection[] DetectionsOf(string value) => value.ToLowerInvariant() switch
    {
        "none" => [BlockingDetection.None],
        "monitor" => [BlockingDetection.Monitor],
        "switch" => [BlockingDetection.SwitchEvents],
        "both" => [BlockingDetection.Both],
        "all" => [BlockingDetection.None, BlockingDetection.Monitor, BlockingDetection.SwitchEvents, BlockingDetection.Both],
        _ => throw new CliUsageException($"Option '--detection' takes none, monitor, switch, both or all, got '{value}'."),
    };

    private sealed record StressPlan
    {
        public bool Help { get; init; }

        public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(30);

        public int Bodies { get; init; } = 10_000;

        public int Servers { get; init; } = 3;

        public int Seed { get; init; } = 1;

        public StressPolicy[] Policies { get; init; } = [StressPolicy.Fifo, StressPolicy.Priority, StressPolicy.FairShare];

        public BlockingDetection[] Detections { get; init; } =
            [BlockingDetection.None, BlockingDetection.Monitor, BlockingDetection.SwitchEvents, BlockingDetection.Both];
    }
}
