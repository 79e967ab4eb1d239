using Umcg.Cli.Commands;

namespace Umcg.Cli;

/// <summary>The umcg tool: parses the command line and runs the command. Exit codes: 0 done, 1 failed, 2 bad usage.</summary>
internal static class CliApp
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    public static int Run(IReadOnlyList<string> args, ConsoleUi ui)
    {
        // The stress mode parses its own options ("umcg help stress" is "umcg stress --help").
        if (args.Count > 0 && args[0] == StressCommand.Name)
        {
            return StressCommand.Execute(args.Skip(1).ToList(), ui);
        }

        if (args.Count == 2 && args[0] == CommandNames.Help && args[1] == StressCommand.Name)
        {
            return StressCommand.Execute(["--help"], ui);
        }

        CliOptions options;
        try
        {
            options = CommandLine.Parse(args);
        }
        catch (CliUsageException e)
        {
            ui.Error.WriteLine($"umcg: {e.Message}");
            ui.Error.WriteLine("Run 'umcg --help' for usage.");
            return Usage;
        }

        if (options.Help)
        {
            ui.Out.Write(HelpText.For(options.CommandGiven ? options.Command : ""));
            return Ok;
        }

        try
        {
            return options.Command switch
            {
                CommandNames.Bench => BenchCommand.Execute(options, ui),
                CommandNames.List => ListCommand.Execute(ui),
                CommandNames.Demo => Demo.Run(ui.Out),
                _ => RunCommand.Execute(options, ui),
            };
        }
#pragma warning disable CA1031 // the tool reports any failure as a message and an exit code
        catch (Exception e)
        {
            ui.Error.WriteLine($"umcg: error: {e.Message}");
            ui.Error.WriteLine(e.ToString());
            return Failed;
        }
#pragma warning restore CA1031
    }
}
