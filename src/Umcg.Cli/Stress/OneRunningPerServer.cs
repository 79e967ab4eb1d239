namespace Umcg.Cli.Stress;

/// <summary>
/// The live check "at most one RUNNING worker per server in the foreground", from the kernel half's snapshot (a
/// worker its server demoted runs on in the background, TF_BACKGROUND, named by no record, by design). A snapshot
/// reads one task after another, so a switch between two reads can show the worker that stopped and the one that
/// started both RUNNING: a pair is only reported when the same pair shows up in several snapshots in a row.
/// </summary>
internal sealed class OneRunningPerServer(UmcgKernel kernel)
{
    private const int Confirmations = 5;

    /// <summary>A description of a server with two RUNNING workers, or null.</summary>
    public string? Check()
    {
        var pair = FindPair();
        for (int i = 1; pair is not null && i < Confirmations; i++)
        {
            Thread.Sleep(1); // spacing between looks, not synchronisation
            var again = FindPair();
            pair = again == pair ? again : null;
        }

        return pair is { } p
            ? $"server {p.Server} has two RUNNING workers, {p.First} and {p.Second}, in {Confirmations} snapshots in a row"
            : null;
    }

    private (uint Server, int First, int Second)? FindPair()
    {
        var running = new Dictionary<uint, int>();
        foreach (var t in kernel.Snapshot())
        {
            if (!t.IsWorker || t.State != TaskState.Running || (t.Flags & TaskFlags.Background) != 0)
            {
                continue;
            }

            uint server = t.ServerTid & UmcgConstants.TidMask;
            if (running.TryGetValue(server, out int other))
            {
                return (server, Math.Min(other, t.Tid), Math.Max(other, t.Tid));
            }

            running[server] = t.Tid;
        }

        return null;
    }
}
