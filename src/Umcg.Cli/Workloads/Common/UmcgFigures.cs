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
        result.Extra["umcg_spawns_queued_asleep"] = stats.SpawnsQueuedAsleep;
        result.Extra["umcg_blocks"] = stats.Blocks;
        result.Extra["umcg_direct_switches"] = stats.DirectSwitches;
        result.Extra["umcg_successor_switches"] = stats.SuccessorSwitches;
        result.Extra["umcg_direct_starts"] = stats.DirectStarts;
        result.Extra["umcg_blocks_left_open"] = stats.BlocksLeftServerOpen;
        result.Extra["umcg_arrivals_moved_to_idle"] = stats.ArrivalsMovedToIdleServers;
        result.Extra["umcg_yields"] = stats.Yields;
        var detection = umcg.Scheduler.Detection.Stats;
        result.Extra["umcg_detector_marks"] = detection.Marked;
        result.Extra["umcg_detector_polls"] = detection.Polls;
        result.Extra["umcg_detector_calm_polls"] = detection.CalmPolls;
        result.Extra["umcg_detector_cpu_s"] = detection.DetectorCpu.TotalSeconds;
        result.Extra["umcg_demotions"] = stats.Demotions;
        result.Extra["umcg_demotions_deferred"] = stats.DemotionsDeferred;
        result.Extra["umcg_grace_alarms"] = stats.GraceAlarms;
        result.Extra["umcg_adoptions"] = stats.Adoptions;
        result.Extra["umcg_restorations"] = stats.Restorations;
        result.Extra["umcg_os_slice_changes"] = stats.OsSliceChanges;
        result.Extra["umcg_os_slice_us_at_end"] = stats.OsSliceNow.TotalMicroseconds;

        // Per-server loop counters: internal to the library until Umcg.Diagnostics publishes them.
        var servers = Enumerable.Range(0, umcg.Scheduler.ServerCount).Select(umcg.Scheduler.CountersForTests).ToArray();
        result.Extra["umcg_server_switches"] = servers.Sum(c => c.Switches);
        result.Extra["umcg_preemptions"] = servers.Sum(c => c.Preemptions);
        result.Extra["umcg_timer_wakes"] = servers.Sum(c => c.TimerWakes);
        result.Extra["umcg_remote_wakes"] = servers.Sum(c => c.RemoteWakes);
        result.Extra["umcg_steals"] = servers.Sum(c => c.Steals + c.HandedOver);
        result.Extra["umcg_successor_steals"] = stats.SuccessorSteals;

        // Switches by path, and per blocking call: how many hand-overs of a CPU one block costs.
        long switches = servers.Sum(c => c.Switches) + stats.SuccessorSwitches + stats.DirectSwitches;
        result.Extra["umcg_switches_per_block"] = stats.Blocks == 0 ? 0 : Math.Round((double)switches / stats.Blocks, 3);
    }
}
