namespace Umcg.Cli.Stress;

/// <summary>
/// The live check "no server sleeps past a worker queued for it": a server that runs nobody (empty slot) and
/// made no switch, while workers wait in its run queue or on its runnable list, for as long as
/// <see cref="Limit"/>. An awake server picks such a worker within one turn of its loop, so only a lost
/// wake-up keeps the picture still that long (a loaded machine delays a turn by milliseconds, not seconds).
/// </summary>
internal sealed unsafe class NoServerSleepsPastWork(UmcgScheduler scheduler)
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    private readonly Dictionary<int, (long Switches, Stopwatch Since)> _stuck = [];

    /// <summary>A description of a server that slept past queued work for <see cref="Limit"/>, or null.</summary>
    public string? Check()
    {
        foreach (var server in scheduler.Servers)
        {
            var block = scheduler.Kernel.BlockOf(server.Tid);
            if (block == null)
            {
                continue;
            }

            long switches = Volatile.Read(ref server.Counters.Switches);
            bool runsNobody = Volatile.Read(ref block->NextTid) == 0;
            bool workWaits = server.QueueLength > 0 || Volatile.Read(ref block->RunnableWorkersPtr) != 0;
            if (!runsNobody || !workWaits)
            {
                _stuck.Remove(server.Index);
                continue;
            }

            if (!_stuck.TryGetValue(server.Index, out var since) || since.Switches != switches)
            {
                _stuck[server.Index] = (switches, Stopwatch.StartNew());
            }
            else if (since.Since.Elapsed > Limit)
            {
                return $"server {server.Index} ran nobody and made no switch for {Limit.TotalSeconds:0} s while {server.QueueLength} workers waited in its run queue (runnable list {(block->RunnableWorkersPtr == 0 ? "empty" : "not empty")}, state {StateWord.StateOf(block)})";
            }
        }

        return null;
    }
}
