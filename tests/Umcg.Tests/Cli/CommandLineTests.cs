using Umcg.Cli.Commands;

namespace Umcg.Tests.Cli;

public class CommandLineTests
{
    [Fact]
    public void No_arguments_run_the_default_workload()
    {
        var o = CommandLine.Parse([]);
        Assert.Equal(CommandNames.Run, o.Command);
        Assert.Equal("mixed", o.Workload);
        Assert.False(o.Help);
        Assert.False(o.Json);
    }

    [Fact]
    public void A_workload_as_first_word_means_run_it()
    {
        var o = CommandLine.Parse(["pingpong", "--seconds", "1.5"]);
        Assert.Equal(CommandNames.Run, o.Command);
        Assert.Equal("pingpong", o.Workload);
        Assert.Equal(1.5, o.Seconds);
    }

    [Fact]
    public void Bench_options_are_parsed_in_both_spellings()
    {
        var o = CommandLine.Parse(["bench", "colocation", "--reps=5", "--seconds", "0.25", "--json", "--servers", "1", "--workers=7", "--out", "x", "--warmup", "0"]);
        Assert.Equal(CommandNames.Bench, o.Command);
        Assert.Equal("colocation", o.Workload);
        Assert.Equal(5, o.Reps);
        Assert.Equal(0.25, o.Seconds);
        Assert.True(o.Json);
        Assert.Equal(1, o.Servers);
        Assert.Equal(7, o.Workers);
        Assert.Equal("x", o.Out);
        Assert.Equal(0, o.WarmUp);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("-h")]
    [InlineData("help")]
    public void Help_is_asked_for(string arg) => Assert.True(CommandLine.Parse([arg]).Help);

    [Fact]
    public void Help_with_a_command_is_that_commands_help()
    {
        var o = CommandLine.Parse(["help", "bench"]);
        Assert.True(o.Help);
        Assert.Equal(CommandNames.Bench, o.Command);
    }

    [Fact]
    public void Unknown_workload_names_the_valid_ones()
    {
        var e = Assert.Throws<CliUsageException>(() => CommandLine.Parse(["bench", "nope"]));
        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
        foreach (string w in new[] { "mixed", "colocation", "pingpong", "pipeline", "scale" })
        {
            Assert.Contains(w, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Unknown_first_word_names_commands_and_workloads()
    {
        var e = Assert.Throws<CliUsageException>(() => CommandLine.Parse(["frobnicate"]));
        Assert.Contains("bench", e.Message, StringComparison.Ordinal);
        Assert.Contains("mixed", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_option_names_the_valid_ones()
    {
        var e = Assert.Throws<CliUsageException>(() => CommandLine.Parse(["run", "--frob"]));
        Assert.Contains("--frob", e.Message, StringComparison.Ordinal);
        Assert.Contains("--seconds", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Option_of_another_command_is_refused()
    {
        var e = Assert.Throws<CliUsageException>(() => CommandLine.Parse(["run", "--reps", "3"]));
        Assert.Contains("does not apply", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--seconds", "0")]
    [InlineData("--seconds", "abc")]
    [InlineData("--servers", "-1")]
    [InlineData("--reps", "1.5")]
    [InlineData("--warmup", "-1")]
    public void Bad_numbers_are_refused(string option, string value)
    {
        var e = Assert.Throws<CliUsageException>(() => CommandLine.Parse(["bench", option, value]));
        Assert.Contains(option, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_value_is_refused() =>
        Assert.Throws<CliUsageException>(() => CommandLine.Parse(["run", "--seconds"]));

    [Fact]
    public void System_must_be_one_of_the_workloads()
    {
        Assert.Equal("futex", CommandLine.Parse(["run", "pingpong", "--system", "futex"]).System);
        var e = Assert.Throws<CliUsageException>(() => CommandLine.Parse(["run", "scale", "--system", "fixed-pool"]));
        Assert.Contains("umcg, threads, threadpool", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Extra_arguments_are_refused() =>
        Assert.Throws<CliUsageException>(() => CommandLine.Parse(["run", "mixed", "pipeline"]));
}
