using Umcg.Cli.Reporting;
using Umcg.Cli.Systems;

namespace Umcg.Cli.Workloads.Common;

/// <summary>Copies the Umcg scheduler's own counters into a result (nothing for other systems).</summary>
internal static class UmcgFigures
{
    public static void AddTo(WorkloadResult result, ITaskSystem system)
    {
        if (system is not UmcgSystem umcg)
        {
            return;
        }

        var stats = umcg.Scheduler.Stats;
        result.Extra["umcg_spawned"] = stats.Spawned;
        result.Extra["umcg_reused_threads"] = stats.ReusedThreads;
        result.Extra["umcg_blocks"] = stats.Blocks;
        result.Extra["umcg_direct_switches"] = stats.DirectSwitches;
        result.Extra["umcg_yields"] = stats.Yields;
    }
}
