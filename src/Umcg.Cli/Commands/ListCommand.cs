namespace Umcg.Cli.Commands;

/// <summary><c>umcg list</c>: the workloads and their systems.</summary>
internal static class ListCommand
{
    public static int Execute(ConsoleUi ui)
    {
        var table = new TextTable("workload", "systems (first: Umcg, the reference)", "what");
        foreach (var w in WorkloadCatalog.All)
        {
            table.Add(w.Name, string.Join(", ", w.Systems), w.Description);
        }

        ui.Write(table);
        return 0;
    }
}
