namespace Umcg.Cli.Workloads.PingPong;

/// <summary>
/// The scheduler's public API: two workers pinned to server 0 call <c>Worker.Yield()</c> in turn. Each yield goes
/// through the server (worker → server → other worker), so a round trip is four handoffs, not two.
/// </summary>
internal sealed class UmcgYieldHandoff : Handoff
{
    public override string Name => "umcg-yield";

    /// <summary>The OS time slice of the scheduler's threads (<c>--os-slice</c>); null for the OS's own.</summary>
    public TimeSpan? OsTimeSlice { get; set; } = UmcgSchedulerOptions.DefaultOsTimeSlice;

    /// <summary>When the scheduler's threads ask for <see cref="OsTimeSlice"/> (<c>--os-slice-mode</c>).</summary>
    public OsTimeSliceMode OsTimeSliceMode { get; set; }

    public override string Describe => "two workers of server 0 alternating with Worker.Yield (each yield hands the CPU straight to the other: the direct successor)";

    public override long Run(int cpu, int servers, TimeSpan duration, LatencyHistogram latency)
    {
        using var scheduler = new UmcgScheduler(new UmcgSchedulerOptions { Servers = servers, Name = "umcg-cli pingpong", OsTimeSlice = OsTimeSlice, OsTimeSliceMode = OsTimeSliceMode });
        var onServer0 = new WorkerOptions { ServerAffinity = 0, Name = "pingpong" };
        bool partnerUp = false;
        bool stop = false;
        long partnerRuns = 0;
        long count = 0;
        var pong = scheduler.Spawn(() =>
        {
            Volatile.Write(ref partnerUp, true);
            while (!Volatile.Read(ref stop))
            {
                partnerRuns++;
                Worker.Yield();
            }
        }, onServer0);
        var ping = scheduler.Spawn(() =>
        {
            try
            {
                while (!Volatile.Read(ref partnerUp))
                {
                    Worker.Yield();
                }

                long before = Volatile.Read(ref partnerRuns);
                count = TimeRoundTrips(Worker.Yield, duration, latency);
                if (Volatile.Read(ref partnerRuns) - before < count)
                {
                    throw new InvalidOperationException($"{Name}: {count} yields, but the partner ran only {partnerRuns - before} times");
                }
            }
            finally
            {
                Volatile.Write(ref stop, true);
            }
        }, onServer0);
        var limit = duration + StallLimit;
        if (!ping.Completion.Wait(limit) || !pong.Completion.Wait(StallLimit))
        {
            throw new TimeoutException($"{Name}: the workers did not finish within {limit.TotalSeconds:0} s");
        }

        ping.Completion.GetAwaiter().GetResult();
        return count;
    }
}
