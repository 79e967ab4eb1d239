namespace Umcg.Diagnostics;

/// <summary>What one server has done so far: a racy snapshot of its counters, for reports.</summary>
/// <param name="Index">The server's index in its scheduler.</param>
/// <param name="Tid">The server thread's TID.</param>
/// <param name="Cpu">The CPU it is pinned to, or -1.</param>
/// <param name="QueueLength">Runnable workers queued on it now.</param>
/// <param name="Switches">Workers it picked and started.</param>
/// <param name="Preemptions">Running workers it asked to give way.</param>
/// <param name="Steals">Queued workers it took from busy servers.</param>
/// <param name="HandOvers">Queued workers it handed to idle servers.</param>
/// <param name="BusyTime">Time a worker ran for it (its running slot named a worker).</param>
public readonly record struct ServerSample(
    int Index, int Tid, int Cpu, int QueueLength, long Switches, long Preemptions, long Steals, long HandOvers, TimeSpan BusyTime);
