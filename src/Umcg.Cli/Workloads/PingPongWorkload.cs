using Umcg.Cli.Workloads.PingPong;
using Umcg.Cli.Workloads.PingPong.Pairs;

namespace Umcg.Cli.Workloads;

/// <summary>
/// Handoff latency between two tasks on one CPU, every round trip timed: Umcg's worker → worker switch, its
/// server → worker → server round trip and the scheduler's Yield, against a raw futex, SemaphoreSlim, Monitor and AutoResetEvent ping-pong of two pinned
/// threads.
/// </summary>
internal sealed class PingPongWorkload : IWorkload
{
    public const string UmcgSwitch = "umcg-switch";
    public const string UmcgYield = "umcg-yield";
    public const string UmcgServer = "umcg-server";

    public string Name => "pingpong";

    public string Description => "handoff round trips between two tasks on one CPU: Umcg vs futex, SemaphoreSlim, Monitor, AutoResetEvent";

    public IReadOnlyList<string> Systems { get; } = [UmcgSwitch, UmcgServer, UmcgYield, "futex", "semaphoreslim", "monitor", "autoresetevent"];

    public static Handoff Create(string system) => system switch
    {
        UmcgSwitch => new PairHandoff(UmcgSwitch, "two workers of one server switching through next_tid (kernel-half Wait), server asleep", cpu => new UmcgWorkerSwitch(cpu)),
        UmcgServer => new PairHandoff(
            UmcgServer,
            "server → worker → server: the server names its worker in next_tid and Waits, the worker Waits straight back (kernel-half API)",
            cpu => new UmcgRoundTrip(cpu)),
        UmcgYield => new UmcgYieldHandoff(),
        "futex" => new PairHandoff("futex", "raw futex word: write + FUTEX_WAKE, FUTEX_WAIT until it is our turn", cpu => new FutexPingPong(cpu)),
        "semaphoreslim" => new PairHandoff("semaphoreslim", "SemaphoreSlim.Release / Wait, one semaphore per direction", cpu => new SemaphoreSlimPingPong(cpu)),
        "monitor" => new PairHandoff("monitor", "lock + turn flag, Monitor.Pulse / Monitor.Wait", cpu => new MonitorPingPong(cpu)),
        "autoresetevent" => new PairHandoff("autoresetevent", "AutoResetEvent.Set / WaitOne, one event per direction", cpu => new AutoResetEventPingPong(cpu)),
        _ => throw new ArgumentException($"Unknown pingpong system '{system}'.", nameof(system)),
    };

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        var handoff = Create(system);
        if (handoff is UmcgYieldHandoff yield)
        {
            yield.OsTimeSlice = settings.OsTimeSlice; // the one system of scheduler threads; the others' threads are the harness's
            yield.OsTimeSliceMode = settings.OsTimeSliceMode;
        }

        int cpu = LinuxSyscalls.GetAffinity(0) is [int first, ..] ? first : 0;
        var result = new WorkloadResult { Workload = Name, System = system, ThroughputUnit = "round trips" };
        var latency = new LatencyHistogram();
        var scope = RunScope.Start();
        using (new Timer(_ => progress.Report(scope.ElapsedSeconds / settings.Duration.TotalSeconds, $"{latency.Count} round trips"), null, 250, 250))
        {
            handoff.Run(cpu, settings.Servers, settings.Duration, latency);
        }

        scope.Finish(result);
        result.SetLatency(latency, system == UmcgYield ? "round trip (two yields, each through the server)" : "round trip (two handoffs)");
        result.ThroughputPerSecond = result.Latency is { } l ? 1e6 / l.MeanUs : 0;
        result.Extra["cpu"] = cpu;
        result.Notes.Add(handoff.Describe);
        return result;
    }
}
