using System.ComponentModel;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Umcg.Cli.Commands;

/// <summary><c>umcg help [command]</c>: the same as <c>umcg [command] --help</c>.</summary>
internal sealed class HelpCommand : Command<HelpCommand.Settings>
{
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken) =>
        CliApp.Run(settings.Command is { } command ? [command, "--help"] : ["--help"], ConsoleUi.Of(context));

    /// <summary>The options of <c>umcg help</c>.</summary>
    internal sealed class Settings : CommandSettings
    {
        [CommandArgument(0, "[command]")]
        [Description("the command to explain")]
        public string? Command { get; set; }

        public override ValidationResult Validate() =>
            Command is null || CliApp.Commands.Contains(Command)
                ? ValidationResult.Success()
                : ValidationResult.Error($"Unknown command '{Command}'. Commands: {string.Join(", ", CliApp.Commands)}.");
    }
}
