using Spectre.Console.Cli;

namespace Umcg.Cli.Commands;

/// <summary><c>umcg list</c>: the workloads and their systems.</summary>
internal sealed class ListCommand : Command
{
    public override int Execute(CommandContext context, CancellationToken cancellationToken)
    {
        var table = ConsoleUi.Table("workload", "systems (first: Umcg, the reference)", "what");
        foreach (var w in WorkloadCatalog.All)
        {
            table.AddCells(w.Name, string.Join(", ", w.Systems), w.Description);
        }

        ConsoleUi.Of(context).Write(table);
        return CliApp.Ok;
    }
}
