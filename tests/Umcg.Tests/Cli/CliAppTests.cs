namespace Umcg.Tests.Cli;

[Collection(CliCollection.Name)]
public class CliAppTests
{
    /// <summary>Commands that only print: their arguments, and text their output must hold.</summary>
    public static TheoryData<string[], string[]> PrintingCommands => new()
    {
        { ["--help"], ["Usage: umcg [command]", "bench"] }, // usage
        { ["run", "--help"], ["--seconds", "--out"] }, // run's options
        { ["list"], ["umcg-switch", "fixed-pool"] }, // every workload and its systems
    };

    [Theory]
    [MemberData(nameof(PrintingCommands))]
    public void A_printing_command_succeeds_and_prints_what_it_is_for(string[] args, string[] expected)
    {
        var (code, output, _) = CliHarness.Run(args);
        Assert.Equal(0, code);
        Assert.All(expected, text => Assert.Contains(text, output, StringComparison.Ordinal));
    }

    [Fact]
    public void Usage_errors_exit_with_2_and_say_why()
    {
        var (code, output, error) = CliHarness.Run("bench", "nope");
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains("Valid workloads: mixed, colocation, pingpong, pipeline, scale", error, StringComparison.Ordinal);
    }
}
