using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;
using Umcg.Cli.Stress;
using Umcg.Kernel.Detection;

namespace Umcg.Cli.Commands;

/// <summary>
/// <c>umcg stress</c>: the long stress mode. Runs rounds of the random mix, rotating every chosen policy ×
/// detector, until the time is up; prints each round; stops at the first failure with its dump (exit 1).
/// </summary>
internal sealed class StressCommand : Command<StressCommand.Settings>
{
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        Run(settings, ConsoleUi.Of(context));

    private static int Run(Settings plan, ConsoleUi ui)
    {
        var clock = Stopwatch.StartNew();
        var configurations = (from p in PoliciesOf(plan.Policy)! from d in DetectionsOf(plan.Detection)! select (p, d)).ToArray();
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
        while (clock.Elapsed < TimeSpan.FromMinutes(plan.Minutes));

        ui.Out.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{round} rounds passed in {clock.Elapsed.TotalMinutes:0.0} min"));
        return CliApp.Ok;
    }

    /// <summary>The policies <c>--policy</c> names; null when it names none.</summary>
    private static StressPolicy[]? PoliciesOf(string value) => value.ToLowerInvariant() switch
    {
        "fifo" => [StressPolicy.Fifo],
        "priority" => [StressPolicy.Priority],
        "fairshare" => [StressPolicy.FairShare],
        "all" => [StressPolicy.Fifo, StressPolicy.Priority, StressPolicy.FairShare],
        _ => null,
    };

    /// <summary>The detectors <c>--detection</c> names; null when it names none.</summary>
    private static BlockingDetection[]? DetectionsOf(string value) => value.ToLowerInvariant() switch
    {
        "none" => [BlockingDetection.None],
        "monitor" => [BlockingDetection.Monitor],
        "switch" => [BlockingDetection.SwitchEvents],
        "both" => [BlockingDetection.Both],
        "all" => [BlockingDetection.None, BlockingDetection.Monitor, BlockingDetection.SwitchEvents, BlockingDetection.Both],
        _ => null,
    };

    /// <summary>The options of <c>umcg stress</c>.</summary>
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--minutes <M>")]
        [Description("how long to keep starting rounds (the round under way finishes)")]
        [DefaultValue(30.0)]
        public double Minutes { get; set; } = 30;

        [CommandOption("--bodies <N>")]
        [Description("bodies per round")]
        [DefaultValue(10_000)]
        public int Bodies { get; set; } = 10_000;

        [CommandOption("--servers <N>")]
        [Description("servers per round")]
        [DefaultValue(3)]
        public int Servers { get; set; } = 3;

        [CommandOption("--policy <P>")]
        [Description("fifo, priority, fairshare or all; each with a 1.9 ms time slice")]
        [DefaultValue("all")]
        public string Policy { get; set; } = "all";

        [CommandOption("--detection <D>")]
        [Description("none, monitor, switch, both or all")]
        [DefaultValue("all")]
        public string Detection { get; set; } = "all";

        [CommandOption("--seed <S>")]
        [Description("seed of the first round; each round adds one")]
        [DefaultValue(1)]
        public int Seed { get; set; } = 1;

        public override ValidationResult Validate() =>
            Check.Given("--policy", Policy)
            ?? Check.Given("--detection", Detection)
            ?? Check.Positive("--minutes", Minutes)
            ?? Check.Positive("--bodies", Bodies)
            ?? Check.Positive("--servers", Servers)
            ?? (PoliciesOf(Policy) is null ? ValidationResult.Error($"Option '--policy' takes fifo, priority, fairshare or all, got '{Policy}'.") : null)
            ?? (DetectionsOf(Detection) is null ? ValidationResult.Error($"Option '--detection' takes none, monitor, switch, both or all, got '{Detection}'.") : null)
            ?? ValidationResult.Success();
    }
}
