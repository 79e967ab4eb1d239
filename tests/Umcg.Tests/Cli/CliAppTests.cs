namespace Umcg.Tests.Cli;

[Collection(CliCollection.Name)]
public class CliAppTests
{
    [Fact]
    public void Help_prints_usage_and_succeeds()
    {
        var (code, output, _) = CliHarness.Run("--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage: umcg [command]", output, StringComparison.Ordinal);
        Assert.Contains("bench", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_help_lists_its_options()
    {
        var (code, output, _) = CliHarness.Run("run", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--seconds", output, StringComparison.Ordinal);
        Assert.Contains("--out", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Usage_errors_exit_with_2_and_say_why()
    {
        var (code, output, error) = CliHarness.Run("bench", "nope");
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains("Valid workloads: mixed, colocation, pingpong, pipeline, scale", error, StringComparison.Ordinal);
    }

    [Fact]
    public void List_shows_every_workload()
    {
        var (code, output, _) = CliHarness.Run("list");
        Assert.Equal(0, code);
        Assert.Contains("umcg-switch", output, StringComparison.Ordinal);
        Assert.Contains("fixed-pool", output, StringComparison.Ordinal);
    }
}
