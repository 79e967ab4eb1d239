using System.Text;

namespace Umcg.Cli.Stress;

/// <summary>What a stalled or broken round reports: every server as the scheduler sees it, then every task as the kernel half sees it.</summary>
internal static class StressDump
{
    public static string Of(Umcg.Scheduling.UmcgScheduler scheduler)
    {
        var tasks = scheduler.Kernel.Snapshot();
        var text = new StringBuilder();
        var states = tasks.Where(t => t.IsWorker).GroupBy(t => t.State).Select(g => $"{g.Count()} {g.Key}");
        text.AppendLine(CultureInfo.InvariantCulture, $"workers by state: {string.Join(", ", states)}; worker threads {scheduler.WorkerThreadCount}; faults {scheduler.Faults.Count}");
        text.AppendLine("Servers:");
        foreach (var s in scheduler.Servers)
        {
            var k = tasks.FirstOrDefault(t => t.Tid == s.Tid);
            var c = s.Counters;
            text.AppendLine(CultureInfo.InvariantCulture, $"  server {s.Index} tid={s.Tid} state={k.State} flags={k.Flags} slot={Slot(k.NextTid)} idle={s.IsIdle} queued={s.QueueLength} switches={c.Switches} preemptions={c.Preemptions} timer-wakes={c.TimerWakes} remote-wakes={c.RemoteWakes} handed-over={c.HandedOver} steals={c.Steals}");
        }

        foreach (var f in scheduler.Faults.Take(5))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"fault: {f.Message}");
        }

        text.AppendLine("Tasks:");
        text.Append(scheduler.Kernel.Dump());
        return text.ToString();
    }

    private static string Slot(uint next) =>
        next == 0 ? "-" : string.Create(CultureInfo.InvariantCulture, $"{next & UmcgConstants.TidMask}{((next & UmcgConstants.TidRunning) != 0 ? "|RUNNING" : "")}");
}
