using Umcg.Cli.Commands;

namespace Umcg.Tests.Cli;

/// <summary>
/// The command line as a user meets it: every mistake is one line on stderr naming what was wrong, nothing on
/// stdout, exit code 2; help and the version print and exit 0. Runs nothing heavier than a parse.
/// </summary>
[Collection(CliCollection.Name)]
public class CommandLineTests
{
    /// <summary>Bad command lines, and text their one line of error must hold.</summary>
    public static TheoryData<string[], string> Mistakes => new()
    {
        { ["frobnicate"], "Valid workloads: mixed, colocation, pingpong, pipeline, scale" }, // neither command nor workload
        { ["bench", "nope"], "Unknown workload 'nope'" },
        { ["run", "--frob"], "Unknown option 'frob'" },
        { ["pingpong", "--frob"], "Unknown option 'frob'" }, // through the default command too
        { ["run", "--reps", "3"], "Unknown option 'reps'" }, // bench's option
        { ["bench", "--seconds", "0"], "Option '--seconds' needs a positive number, got '0'" },
        { ["bench", "--seconds", "abc"], "abc is not a valid value for Double" },
        { ["bench", "--servers", "-1"], "Option '--servers' needs a positive whole number, got '-1'" },
        { ["bench", "--reps", "1.5"], "1.5 is not a valid value for Int32" },
        { ["bench", "--reps", "0"], "Option '--reps' needs a positive whole number, got '0'" },
        { ["bench", "--warmup", "-1"], "Option '--warmup' needs a number ≥ 0, got '-1'" },
        { ["bench", "--os-slice", "50"], "Option '--os-slice' needs 0 or a number of µs from 100 to 100000, got '50'" },
        { ["run", "--os-slice", "200000"], "Option '--os-slice' needs 0 or a number of µs from 100 to 100000, got '200000'" },
        { ["run", "--os-slice-mode", "sometimes"], "Option '--os-slice-mode' needs 'contended' or 'always', got 'sometimes'." },
        { ["run", "--seconds"], "The last option has no value" }, // a missing value
        { ["--seconds"], "The last option has no value" },
        { ["stress", "--seed"], "The last option has no value" },
        { ["run", "--out"], "Option '--out' needs a value" }, // not a run into a folder named after Spectre's marker
        { ["bench", "--system"], "Option '--system' needs a value" },
        { ["stress", "--policy"], "Option '--policy' needs a value" },
        { ["run", "mixed", "pipeline"], "'pipeline'" }, // an extra argument
        { ["run", "scale", "--system", "fixed-pool"], "Valid systems: umcg, threads, threadpool" },
        { ["stress", "--policy", "lifo"], "Option '--policy' takes fifo, priority, fairshare or all, got 'lifo'" },
        { ["stress", "--detection", "x"], "Option '--detection' takes none, monitor, switch, both or all, got 'x'" },
        { ["stress", "--bodies", "0"], "Option '--bodies' needs a positive whole number" },
        { ["help", "nope"], "Unknown command 'nope'" },
    };

    [Theory]
    [MemberData(nameof(Mistakes))]
    public void A_mistake_is_one_line_on_stderr_and_exit_code_2(string[] args, string expected)
    {
        var (code, output, error) = CliHarness.Run(args);
        Assert.Equal(Umcg.Cli.CliApp.Usage, code);
        Assert.Empty(output);
        string line = Assert.Single(error.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("umcg: ", line, StringComparison.Ordinal);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_prints_the_tools_version()
    {
        var (code, output, _) = CliHarness.Run("--version");
        Assert.Equal(0, code);
        Assert.Equal(Umcg.Cli.CliApp.Version, output.Trim());
        Assert.Matches(@"^\d+\.\d+\.\d+", output.Trim());
    }

    [Theory]
    [InlineData("help", "bench")]
    [InlineData("bench", "--help")]
    [InlineData("bench", "-h")]
    public void Help_of_a_command_lists_its_options(string first, string second)
    {
        var (code, output, _) = CliHarness.Run(first, second);
        Assert.Equal(0, code);
        Assert.All(["umcg bench", "--reps", "--seconds", "--json"], text => Assert.Contains(text, output, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("stress")]
    [InlineData("list")]
    [InlineData("demo")]
    public void Help_knows_every_command(string command)
    {
        var (code, output, _) = CliHarness.Run("help", command);
        Assert.Equal(0, code);
        Assert.Contains($"umcg {command}", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Stress_help_lists_its_options()
    {
        var (code, output, _) = CliHarness.Run("stress", "--help");
        Assert.Equal(0, code);
        Assert.All(["--minutes", "--bodies", "--servers", "--policy", "--detection", "--seed"], text => Assert.Contains(text, output, StringComparison.Ordinal));
    }

    [Fact]
    public void Settings_default_to_the_documented_values()
    {
        var bench = new BenchCommand.Settings();
        Assert.Equal("mixed", bench.Workload);
        Assert.Equal(3, bench.Reps);
        Assert.Equal(0.5, bench.WarmUp);
        Assert.Null(bench.Seconds);
        Assert.True(bench.Validate().Successful);
        Assert.Equal(3, RunCommand.DefaultSeconds);
        Assert.Equal(2, BenchCommand.DefaultSeconds);
    }

    [Theory]
    [InlineData(null, 500.0)]
    [InlineData(0.0, null)]
    [InlineData(250.0, 250.0)]
    public void The_OS_slice_option_defaults_to_the_library_and_0_means_the_OS_own(double? option, double? expectedUs)
    {
        var bench = new BenchCommand.Settings { OsSlice = option };
        Assert.True(bench.Validate().Successful);
        Assert.Equal(expectedUs, RunCommand.SettingsOf(bench, BenchCommand.DefaultSeconds).OsTimeSlice?.TotalMicroseconds);
    }
}
