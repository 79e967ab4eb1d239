using System.Text.Json;

namespace Umcg.Tests.Cli;

[Collection(CliCollection.Name)]
public class CliAppTests
{
    /// <summary>Commands that only print: their arguments, and text their output must hold.</summary>
    public static TheoryData<string[], string[]> PrintingCommands => new()
    {
        { ["--help"], ["umcg [workload]", "bench", "stress", "--seconds"] }, // usage: the commands and the default command's options
        { ["help"], ["umcg [workload]", "bench"] },
        { ["run", "--help"], ["--seconds", "--out", "--no-trace"] }, // run's options
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
    public void Options_take_both_spellings_and_reach_the_run()
    {
        var (code, output, error) = CliHarness.Run("bench", "pingpong", "--system=futex", "--reps=2", "--seconds", "0.1", "--warmup=0", "--servers", "1", "--json");
        Assert.True(code == 0, error);
        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        using var doc = JsonDocument.Parse(lines[1]);
        var root = doc.RootElement;
        Assert.Equal("futex", root.GetProperty("system").GetString());
        Assert.Equal(2, root.GetProperty("reps").GetInt32());
        Assert.Equal(0.1, root.GetProperty("seconds_per_rep").GetDouble());
        Assert.Equal(1, root.GetProperty("servers").GetInt32());
        Assert.Equal(2, root.GetProperty("rep_p99_us").GetArrayLength());
    }
}
