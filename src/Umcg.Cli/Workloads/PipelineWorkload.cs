namespace Umcg.Cli.Workloads;

/// <summary>
/// Three stages connected by bounded queues (BlockingCollection, 64 items): sources make items, a middle stage
/// transforms them, sinks consume them; every stage computes 20 µs per item. A queue operation that would wait
/// waits inside <c>Worker.Blocking()</c> (until the worker-aware channels exist); one that can go at once never
/// enters a region. Throughput is items reaching the sinks per second; latency is an item's age at the sink.
/// </summary>
internal sealed class PipelineWorkload : IWorkload
{
    private const int Stages = 3;
    private const int QueueCapacity = 64;
    private const double StageUs = 20;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(5);

    public string Name => "pipeline";

    public string Description => "3 stages joined by bounded queues, 20 µs of compute per item per stage (items/s)";

    public IReadOnlyList<string> Systems => SystemNames.All;

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        int n = settings.Servers;
        _ = Spin.IterationsPerUs; // calibrated before the measured part
        int perStage = settings.Workers ?? n;
        var result = new WorkloadResult { Workload = Name, System = system, ThroughputUnit = "items" };
        var meter = new ComputeMeter(Environment.ProcessorCount);
        var latency = new LatencyRecorder();
        long work = Spin.IterationsFor(StageUs);
        var queues = Enumerable.Range(0, Stages - 1).Select(_ => new BlockingCollection<long>(QueueCapacity)).ToArray();
        long delivered = 0;
        long waits = 0;
        bool stop = false;

        using (var sys = SystemNames.Create(system, new SystemSettings(n, Trace: settings.Trace)))
        {
            var group = new TaskGroup(sys);
            meter.Servers = sys as IServerView;
            var scope = RunScope.Start();
            using var sampler = new UtilizationSampler(meter, TimeSpan.FromMilliseconds(20), elapsed =>
            {
                if (elapsed >= settings.Duration.TotalSeconds)
                {
                    Volatile.Write(ref stop, true);
                }

                progress.Report(elapsed / settings.Duration.TotalSeconds, $"{Volatile.Read(ref delivered) / elapsed:0} items/s");
            });
            sampler.Start(scope.StartNs);

            // Sources first, sinks last, the same order on every system.
            for (int stage = 0; stage < Stages; stage++)
            {
                for (int k = 0; k < perStage; k++)
                {
                    int s = stage;
                    group.Start(TaskKind.Normal, () => StageBody(s));
                }
            }

            if (!group.Wait(settings.StallLimit))
            {
                throw new TimeoutException($"pipeline on {system}: tasks did not finish within {settings.StallLimit.TotalSeconds:0} s");
            }

            scope.Finish(result);
            sampler.Dispose();
            result.UtilizationSeries = sampler.Samples;
            result.UtilizationOriginNs = sampler.OriginNs;
            UmcgFigures.AddTo(result, sys);
        }

        foreach (var q in queues)
        {
            q.Dispose();
        }

        result.Utilization = meter.TotalNs() / (result.WallSeconds * 1e9 * n);
        result.ThroughputPerSecond = delivered / result.WallSeconds;
        result.MaxRunning = meter.MaxRunning;
        result.SetLatency(latency, "item: made at the source → consumed at the sink");
        result.Extra["servers"] = n;
        result.Extra["stages"] = Stages;
        result.Extra["tasks_per_stage"] = perStage;
        result.Extra["queue_waits"] = waits;
        if (delivered == 0)
        {
            result.Notes.Add($"no item reached the sinks: with {perStage * Stages} stage tasks that block on queues, the first ones held every thread");
        }

        return result;

        void StageBody(int stage)
        {
            var input = stage > 0 ? queues[stage - 1] : null;
            var output = stage < Stages - 1 ? queues[stage] : null;
            while (!Volatile.Read(ref stop))
            {
                long born;
                if (input is null)
                {
                    born = LinuxSyscalls.MonotonicNs();
                }
                else if (!Take(input, out born))
                {
                    return;
                }

                var section = meter.Enter();
                Spin.Run(work);
                meter.Exit(section);
                if (output is null)
                {
                    latency.Record(LinuxSyscalls.MonotonicNs() - born);
                    Interlocked.Increment(ref delivered);
                }
                else if (!Put(output, born))
                {
                    return;
                }

                Worker.Safepoint();
            }
        }

        bool Take(BlockingCollection<long> q, out long item)
        {
            if (q.TryTake(out item))
            {
                return true;
            }

            Interlocked.Increment(ref waits);
            using (Worker.Blocking())
            {
                while (!q.TryTake(out item, PollInterval))
                {
                    if (Volatile.Read(ref stop))
                    {
                        return false;
                    }
                }
            }

            return true;
        }

        bool Put(BlockingCollection<long> q, long item)
        {
            if (q.TryAdd(item))
            {
                return true;
            }

            Interlocked.Increment(ref waits);
            using (Worker.Blocking())
            {
                while (!q.TryAdd(item, PollInterval))
                {
                    if (Volatile.Read(ref stop))
                    {
                        return false;
                    }
                }
            }

            return true;
        }
    }
}
