using Umcg.Kernel.Detection;

namespace Umcg.Cli.Stress;

/// <summary>
/// Runs one round of the random mix (<see cref="StressMix"/>) on a fresh scheduler while checking, live: at
/// most one RUNNING worker per server, no server sleeps past a worker queued for it, every body finishes
/// exactly once, and something moves (a spawn or a completion) at least once every
/// <see cref="StressSettings.StallLimit"/>. A broken check ends the round
/// with a dump of every task and server.
/// </summary>
internal static class StressRound
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(20);

    public static StressOutcome Run(StressSettings settings)
    {
        var clock = Stopwatch.StartNew();
        var mix = new StressMix(settings.Bodies, settings.Seed, strictPriority: settings.Policy == StressPolicy.Priority);
        var scheduler = new UmcgScheduler(new UmcgSchedulerOptions
        {
            Servers = settings.Servers,
            Policy = settings.CreatePolicy,
            Kernel = settings.Kernel,
            Detection = new DetectionOptions { Mode = settings.Detection },
            Name = "stress",
        });

        var handles = new WorkerHandle[settings.Bodies];
        int spawned = 0;
        Exception? spawnError = null;
        var spawner = new Thread(() =>
        {
            try
            {
                for (int i = 0; i < handles.Length; i++)
                {
                    handles[i] = scheduler.Spawn(mix.Body(i), mix.OptionsOf(i));
                    Volatile.Write(ref spawned, i + 1);
                }
            }
#pragma warning disable CA1031 // reported as the round's failure
            catch (Exception e)
            {
                spawnError = e;
            }
#pragma warning restore CA1031
        })
        { IsBackground = true, Name = "stress spawner" };
        spawner.Start();

        string? failure = Watch(scheduler, mix, () => Volatile.Read(ref spawned), () => spawnError, settings.StallLimit);
        if (failure is null)
        {
            spawner.Join();
            failure = CheckHandles(handles) ?? mix.CheckFinalState() ?? ShutDown(scheduler, settings.StallLimit);
        }

        return new StressOutcome(settings, mix.Completed, clock.Elapsed, failure);
    }

    /// <summary>Checks the invariants until every body finished; the failure with its dump, or null.</summary>
    private static string? Watch(UmcgScheduler scheduler, StressMix mix, Func<int> spawned, Func<Exception?> spawnError, TimeSpan stallLimit)
    {
        var oneRunning = new OneRunningPerServer(scheduler.Kernel);
        var noLostWake = new NoServerSleepsPastWork(scheduler);
        long lastProgress = -1;
        var quiet = Stopwatch.StartNew();
        while (mix.Completed < mix.Bodies)
        {
            Thread.Sleep(CheckInterval); // how often the checks look, not synchronisation
            if (spawnError() is { } e)
            {
                return $"spawn failed after {spawned()} bodies: {e}";
            }

            if (mix.RanTwice >= 0)
            {
                return Report(scheduler, mix, spawned(), $"body {mix.RanTwice} ran twice");
            }

            if ((oneRunning.Check() ?? noLostWake.Check()) is { } broken)
            {
                return Report(scheduler, mix, spawned(), broken);
            }

            long progress = (long)spawned() + mix.Completed;
            if (progress != lastProgress)
            {
                lastProgress = progress;
                quiet.Restart();
            }
            else if (quiet.Elapsed > stallLimit)
            {
                return Report(scheduler, mix, spawned(), $"hung: no body spawned or finished for {stallLimit.TotalSeconds:0} s");
            }
        }

        return mix.RanTwice >= 0 ? Report(scheduler, mix, spawned(), $"body {mix.RanTwice} ran twice") : null;
    }

    private static string? CheckHandles(WorkerHandle[] handles)
    {
        foreach (var h in handles)
        {
            // Every body counted itself done, so every handle completes: a short wait for the last publications.
            if (!h.Completion.Wait(TimeSpan.FromSeconds(60)))
            {
                return $"the handle of '{h.Options.Name}' never completed although its body finished";
            }

            if (!h.Completion.IsCompletedSuccessfully)
            {
                return $"'{h.Options.Name}' failed: {h.Completion.Exception}";
            }
        }

        return null;
    }

    private static string? ShutDown(UmcgScheduler scheduler, TimeSpan limit)
    {
        var shutdown = scheduler.ShutdownAsync();
        if (!shutdown.Wait(limit))
        {
            return $"shutdown did not finish within {limit.TotalSeconds:0} s{Environment.NewLine}{StressDump.Of(scheduler)}";
        }

        return scheduler.Faults.Count == 0
            ? null
            : $"the scheduler reported faults:{Environment.NewLine}{string.Join(Environment.NewLine, scheduler.Faults)}";
    }

    private static string Report(UmcgScheduler scheduler, StressMix mix, int spawned, string why) =>
        $"{why}{Environment.NewLine}{spawned} spawned, {mix.Completed} completed{Environment.NewLine}{StressDump.Of(scheduler)}";
}
