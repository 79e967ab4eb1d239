namespace Umcg.Cli.Workloads.Demotion;

/// <summary>
/// The direct check of preemption without safepoints: on one server with the priority policy, a priority-0 body
/// spins for the whole run without a safepoint, and every 200 ms a priority-20 body is spawned. Its latency runs from
/// its spawn to its first instruction. Without demotion it starts only when the spinner ends; with demotion, one grace
/// period after the server asked the spinner to give way. Umcg with and without demotion, in the same run.
/// </summary>
internal sealed class GiveWayWorkload : IWorkload
{
    private static readonly TimeSpan HighEvery = TimeSpan.FromMilliseconds(200);
    private const double HighWorkUs = 100;

    public string Name => "giveway";

    public string Description => "a body without safepoints on one server, a higher priority spawned every 200 ms: how soon it starts";

    public IReadOnlyList<string> Systems { get; } = [SystemNames.Umcg, SystemNames.UmcgNoDemotion];

    public IReadOnlyList<string> ReportedExtras { get; } = ["high_started", "spinner_cpu_share"];

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        var run = new MeteredRun(Name, system, settings with { Servers = 1 }, throughputUnit: "high-priority starts");
        long highWork = Spin.IterationsFor(HighWorkUs);
        long started = 0;
        long spinnerSpins = 0;
        long spinnerNs = 0;

        run.Measure(
            new SystemSettings(1, Priorities: true, Trace: settings.Trace),
            elapsed => progress.Report(elapsed / settings.Duration.TotalSeconds, $"{Volatile.Read(ref started)} started"),
            (group, startNs) =>
            {
                long endNs = startNs + (long)settings.Duration.TotalNanoseconds;

                // No safepoint: only the OS can take this CPU from it.
                group.Start(TaskKind.Batch, () =>
                {
                    long t0 = LinuxSyscalls.MonotonicNs();
                    long spins = 0;
                    while (LinuxSyscalls.MonotonicNs() < endNs)
                    {
                        Spin.Run(1_000);
                        spins++;
                    }

                    Volatile.Write(ref spinnerSpins, spins);
                    Volatile.Write(ref spinnerNs, LinuxSyscalls.MonotonicNs() - t0);
                });

                for (long due = startNs + (long)HighEvery.TotalNanoseconds; due < endNs - (long)HighEvery.TotalNanoseconds; due += (long)HighEvery.TotalNanoseconds)
                {
                    LinuxSyscalls.SleepUntilNs(due);
                    long spawnedNs = LinuxSyscalls.MonotonicNs();
                    group.Start(TaskKind.Request, () =>
                    {
                        run.Latency.Record(LinuxSyscalls.MonotonicNs() - spawnedNs);
                        Interlocked.Increment(ref started);
                        Spin.Run(highWork);
                    });
                }
            });

        var result = run.Finish(started, "high-priority body: spawn → first instruction");
        result.Extra["high_started"] = started;
        result.Extra["grace_ms"] = Umcg.Scheduling.Demotion.DemotionOptions.DefaultGracePeriod.TotalMilliseconds;
        result.Extra["spinner_cpu_share"] = spinnerNs == 0 ? 0 : Math.Round(spinnerSpins * 1_000 / Spin.IterationsPerUs * 1e3 / spinnerNs, 3);
        return result;
    }
}
