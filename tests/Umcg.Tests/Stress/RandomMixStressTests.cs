using Umcg.Cli.Stress;
using Umcg.Tests.Cli;
using Umcg.Tests.Threading;

namespace Umcg.Tests.Stress;

/// <summary>
/// A short, bounded run of the long stress mode's random mix (the code 'umcg stress' runs, see
/// <see cref="StressRound"/>): every body must finish exactly once, no server may run two workers at once,
/// and a round that stops moving for the watchdog's limit fails with a dump of every server and task.
/// </summary>
[Collection(ThreadingStress.Name)]
public class RandomMixStressTests
{
    [Theory]
    [Trait("Category", "Stress")]
    [InlineData(nameof(StressPolicy.Priority), BlockingDetection.None, 17)]
    [InlineData(nameof(StressPolicy.FairShare), BlockingDetection.Monitor, 18)]
    public void Every_body_of_the_random_mix_finishes_once(string policy, BlockingDetection detection, int seed)
    {
        var outcome = StressRound.Run(new StressSettings
        {
            Bodies = 3_000,
            Servers = 3,
            Policy = Enum.Parse<StressPolicy>(policy),
            Detection = detection,
            Seed = seed,
            StallLimit = Watchdog.Limit,
        });

        Assert.True(outcome.Passed, outcome.Failure);
        Assert.Equal(3_000, outcome.Completed);
    }

    [Fact]
    public void The_stress_command_refuses_an_unknown_policy_and_lists_the_valid_ones()
    {
        var (code, _, error) = CliHarness.Run("stress", "--policy", "lottery");
        Assert.Equal(2, code);
        Assert.Contains("fifo, priority, fairshare or all", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_stress_command_runs_rounds_and_reports_each()
    {
        var (code, output, error) = CliHarness.Run("stress", "--minutes", "0.001", "--bodies", "200", "--policy", "fifo", "--detection", "none", "--seed", "3");
        Assert.True(code == 0, error);
        Assert.Contains("round 1: 200 bodies, 3 servers, fifo, detection none, seed 3: ok", output, StringComparison.Ordinal);
    }
}
