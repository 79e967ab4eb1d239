namespace Umcg.Cli.Workloads;

/// <summary>
/// Many tasks alternating measured compute with real blocking syscalls — nanosleep, a read on a pipe that a
/// device answers 1 ms later, a pread of a file — with more compute demand than there are CPUs. Blocking sits
/// in <c>Worker.Blocking()</c> regions (no-ops off Umcg).
/// </summary>
/// <remarks>
/// Utilization is the thread CPU time spent inside compute sections over wall × N; max_running is the most
/// compute sections in progress at once. Latency is "resume to done": from the blocking call's return to
/// the end of the compute section after it — waiting for a CPU plus the compute itself.
/// </remarks>
internal sealed class MixedWorkload : IWorkload
{
    /// <summary>Compute per section: task i computes 100 × (1 + i mod 6) µs, so tasks differ.</summary>
    private const double ComputeStepUs = 100;

    public string Name => "mixed";

    public string Description => "tasks alternating compute and blocking syscalls (sleep, pipe read, file read), demand above capacity";

    // The Umcg scheduler twice: with its hot path, and with every switch through the server (the RFC's path).
    public IReadOnlyList<string> Systems { get; } = [SystemNames.Umcg, SystemNames.UmcgViaServer, .. SystemNames.All.Skip(1)];

    public WorkloadResult Run(string system, WorkloadSettings settings, IProgressSink progress)
    {
        int n = settings.Servers;
        int tasks = settings.Workers ?? 8 * n;
        var run = new MeteredRun(Name, system, settings, throughputUnit: "iterations");
        var meter = run.Meter;
        long iterations = 0;
        long blockingOps = 0;
        var blockedNs = new long[3 * 8];
        var blockedCount = new long[3 * 8];
        bool stop = false;

        using var device = new PipeDevice(TimeSpan.FromMilliseconds(1));
        using var file = new ScratchFile(1 << 20);
        var pipes = Enumerable.Range(0, tasks).Select(_ => LinuxSyscalls.Pipe()).ToArray();
        try
        {
            run.Measure(
                new SystemSettings(n, Trace: settings.Trace),
                elapsed =>
                {
                    if (elapsed >= settings.Duration.TotalSeconds)
                    {
                        Volatile.Write(ref stop, true);
                    }

                    double util = meter.TotalNs() / (elapsed * 1e9 * n);
                    progress.Report(elapsed / settings.Duration.TotalSeconds, $"util {util:0.00}, {Volatile.Read(ref iterations) / elapsed:0} it/s");
                },
                (group, _) =>
                {
                    for (int i = 0; i < tasks; i++)
                    {
                        int index = i;
                        group.Start(TaskKind.Normal, () => TaskBody(index));
                    }
                });
        }
        finally
        {
            foreach (var (r, w) in pipes)
            {
                LinuxSyscalls.Close(r);
                LinuxSyscalls.Close(w);
            }
        }

        var result = run.Finish(iterations, "resume to done: blocking call returned → next compute section finished");
        result.Extra["tasks"] = tasks;
        result.Extra["compute_cpu_s"] = meter.TotalNs() / 1e9;
        result.Extra["compute_sections"] = meter.Sections;
        result.Extra["blocking_ops"] = blockingOps;
        result.Extra["cpu_per_iteration_us"] = meter.TotalNs() / 1e3 / Math.Max(1, iterations);
        string[] kinds = ["sleep", "pipe", "file"];
        for (int k = 0; k < kinds.Length; k++)
        {
            result.Extra[$"blocked_us_{kinds[k]}"] = blockedNs[k * 8] / 1e3 / Math.Max(1, blockedCount[k * 8]);
        }

        return result;

        void TaskBody(int index)
        {
            var rng = new Random(index);
            long work = Spin.IterationsFor(ComputeStepUs * (1 + (index % 6)));
            var buffer = new byte[16 * 1024];
            var (readFd, writeFd) = pipes[index];

            // At least one iteration per task, however late the task starts.
            int op = index;
            do
            {
                long ready;
                long blockStart = LinuxSyscalls.MonotonicNs();
                int kind = op % 3;
                switch (kind)
                {
                    case 0:
                        long sleepNs = rng.Next(500, 2000) * 1000L;
                        using (Worker.Blocking())
                        {
                            LinuxSyscalls.SleepNs(sleepNs);
                            ready = LinuxSyscalls.MonotonicNs();
                        }

                        break;
                    case 1:
                        device.Request(writeFd);
                        using (Worker.Blocking())
                        {
                            LinuxSyscalls.ReadByte(readFd);
                            ready = LinuxSyscalls.MonotonicNs();
                        }

                        break;
                    default:
                        long offset = rng.Next(0, (file.Length - buffer.Length) / 4096) * 4096L;
                        using (Worker.Blocking())
                        {
                            RandomAccess.Read(file.Handle, buffer, offset);
                            ready = LinuxSyscalls.MonotonicNs();
                        }

                        break;
                }

                Interlocked.Increment(ref blockingOps);
                Interlocked.Add(ref blockedNs[kind * 8], ready - blockStart);
                Interlocked.Increment(ref blockedCount[kind * 8]);
                var section = meter.Enter();
                Spin.Run(work);
                meter.Exit(section);
                run.Latency.Record(LinuxSyscalls.MonotonicNs() - ready);
                Interlocked.Increment(ref iterations);
                Worker.Safepoint();
                op++;
            }
            while (!Volatile.Read(ref stop));
        }
    }
}
