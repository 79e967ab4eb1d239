using Spectre.Console.Cli;

namespace Umcg.Cli.Commands;

/// <summary><c>umcg demo</c>: the small demo on the raw kernel-half API (<see cref="Demo"/>).</summary>
internal sealed class DemoCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken) => Demo.Run(ConsoleUi.Of(context).Out);
}
