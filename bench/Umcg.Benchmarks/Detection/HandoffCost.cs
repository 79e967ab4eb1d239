namespace Umcg.Benchmarks.Detection;

/// <summary>
/// What a detector adds to the handoff hot path: one server, one worker yielding in a loop, so that every
/// yield is a full worker → server → worker round trip (two context switches of the worker, each one a
/// switch record when switch events are on; the detector polling the running worker meanwhile).
/// </summary>
internal static class HandoffCost
{
    /// <summary>
    /// Nanoseconds per round trip, for one scheduler run: one yielding worker per server. With one server the
    /// detector thread finds an idle CPU; with a server per CPU it takes its CPU time from the workers.
    /// </summary>
    public static double Measure(DetectionConfig config, int roundTrips, int servers)
    {
        using var scheduler = config.CreateScheduler(servers);
        var runs = Enumerable.Range(0, servers).Select(i => scheduler.Spawn(() =>
        {
            for (int i = 0; i < roundTrips / 10; i++)
            {
                Worker.Yield();
            }

            var sw = Stopwatch.StartNew();
            for (int i = 0; i < roundTrips; i++)
            {
                Worker.Yield();
            }

            return sw.Elapsed.TotalNanoseconds / roundTrips;
        }, new WorkerOptions { ServerAffinity = i })).ToArray();
        DetectionLatency.Wait(scheduler, runs);
        return runs.Average(r => r.Join());
    }
}
