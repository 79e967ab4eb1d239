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
        int perStage = settings.Workers ?? n;
        var run = new MeteredRun(Name, system, settings, throughputUnit: "items");
        var meter = run.Meter;
        long work = Spin.IterationsFor(StageUs);
        var queues = Enumerable.Range(0, Stages - 1).Select(_ => new BlockingCollection<long>(QueueCapacity)).ToArray();
        long delivered = 0;
        long waits = 0;
        bool stop = false;

        run.Measure(
            new SystemSettings(n, Trace: settings.Trace),
            elapsed =>
            {
                if (elapsed >= settings.Duration.TotalSeconds)
                {
                    Volatile.Write(ref stop, true);
                }

                progress.Report(elapsed / settings.Duration.TotalSeconds, $"{Volatile.Read(ref delivered) / elapsed:0} items/s");
            },
            (group, _) =>
            {
                // Sources first, sinks last, the same order on every system.
                for (int stage = 0; stage < Stages; stage++)
                {
                    for (int k = 0; k < perStage; k++)
                    {
                        int s = stage;
                        group.Start(TaskKind.Normal, () => StageBody(s));
                    }
                }
            });

        foreach (var q in queues)
        {
            q.Dispose();
        }

        var result = run.Finish(delivered, "item: made at the source → consumed at the sink");
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
                    run.Latency.Record(LinuxSyscalls.MonotonicNs() - born);
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
