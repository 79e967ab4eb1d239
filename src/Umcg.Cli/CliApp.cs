using System.Reflection;
using Spectre.Console.Cli;
using Umcg.Cli.Commands;

namespace Umcg.Cli;

/// <summary>
/// The umcg tool: its commands on Spectre.Console.Cli, which parses, validates and writes the help. Exit codes:
/// 0 done, 1 failed, 2 bad usage (one line on stderr saying what was wrong).
/// </summary>
internal static class CliApp
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    /// <summary>The command names, as usage errors list them.</summary>
    public static IReadOnlyList<string> Commands { get; } = ["run", "bench", "list", "demo", "stress", "help"];

    /// <summary>
    /// What Spectre gives an option left without its value at the end of the command line: the name of its own
    /// default command. Options check for it (<see cref="Check.Given"/>) so that "umcg run --out" is refused, not
    /// a run into a folder of that name.
    /// </summary>
    public const string MissingValue = "__default_command";

    /// <summary>The tool's version (the assembly's informational version, without a source revision).</summary>
    public static string Version { get; } =
        typeof(CliApp).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    public static int Run(IReadOnlyList<string> args, ConsoleUi ui)
    {
        // A first word that is no command runs it as a workload: "umcg pingpong" is "umcg run pingpong".
        var app = new CommandApp();
        app.SetDefaultCommand<RunCommand>().WithData(ui);
        app.Configure(config =>
        {
            config.SetApplicationName("umcg");
            config.SetApplicationVersion(Version);
            config.ConfigureConsole(ui.OutConsole);
            config.UseStrictParsing();
            config.SetExceptionHandler((e, _) => Report(e, ui));
            config.AddCommand<RunCommand>("run").WithData(ui)
                .WithDescription("Run a workload on Umcg (default: mixed), show progress, print a summary and write a report folder: summary.json, utilization.png, latency-cdf.png, trace.json (the default command)")
                .WithExample("run", "pingpong", "--system", "futex");
            config.AddCommand<BenchCommand>("bench").WithData(ui)
                .WithDescription("Run a workload on Umcg and on each of its baselines, alternating, and print medians side by side with ratios to Umcg")
                .WithExample("bench", "colocation", "--reps", "5");
            config.AddCommand<ListCommand>("list").WithData(ui)
                .WithDescription("List the workloads and the systems each one runs on");
            config.AddCommand<DemoCommand>("demo").WithData(ui)
                .WithDescription("A small demo on the raw kernel-half API: one server, three workers that block and yield");
            config.AddCommand<StressCommand>("stress").WithData(ui)
                .WithDescription("The long stress mode: rounds of random mixes of bodies under every policy × detector, with live invariant checks; stops at the first failure with a dump of every server and task (exit 1)")
                .WithExample("stress", "--minutes", "30");
            config.AddCommand<HelpCommand>("help").WithData(ui)
                .WithDescription("Show help (also: umcg <command> --help)");
        });
        return app.Run(args);
    }

    /// <summary>
    /// A command line the tool cannot act on (Spectre's parse and validation errors) is one line and exit 2; any
    /// other failure is the message, the stack for the record, and exit 1.
    /// </summary>
    private static int Report(Exception e, ConsoleUi ui)
    {
        if (e is CommandAppException)
        {
            string line = string.Join(' ', Why(e).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            ui.Error.WriteLine($"umcg: {line} See 'umcg --help'.");
            return Usage;
        }

        ui.Error.WriteLine($"umcg: error: {e.Message}");
        ui.Error.WriteLine(e.ToString());
        return Failed;
    }

    /// <summary>
    /// What was wrong. A value that did not convert says so in its converter's words ("abc is not a valid value for
    /// Double.") rather than Spectre's ("Failed to convert 'abc' to Nullable`1.").
    /// </summary>
    private static string Why(Exception e) => e.InnerException switch
    {
        _ when e.Message.Contains(MissingValue, StringComparison.Ordinal) => Check.NoValue,
        ArgumentException { ParamName: { } name } bad => bad.Message.Replace($" (Parameter '{name}')", "", StringComparison.Ordinal),
        _ => e.Message,
    };
}
