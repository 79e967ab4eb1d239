using Umcg.Kernel.Detection;

namespace Umcg.Benchmarks.Detection;

/// <summary>
/// The measurements behind the detection defaults (docs/detection.md, "Measured"; docs/benchmarks.md, "Detection"), printed as Markdown:
/// <c>dotnet run -c Release --project bench/Umcg.Benchmarks -- --detection [all|machine|proc|latency|handoff|utilization]</c>.
/// </summary>
internal static class DetectionReport
{
    public static void Run(string[] args)
    {
        string section = args.Length > 0 ? args[0] : "all";
        bool all = section == "all";
        if (all || section == "machine")
        {
            Machine();
        }

        if (all || section == "proc")
        {
            Console.WriteLine();
            Console.WriteLine("## Reading /proc");
            ProcReadCost.Print(20_000);
        }

        if (all || section == "latency")
        {
            Latency();
        }

        if (all || section == "handoff")
        {
            Handoff();
        }

        if (all || section == "utilization")
        {
            Utilization();
        }

        Console.WriteLine();
        Console.WriteLine($"Load average at the end: {ReadTrimmed("/proc/loadavg")}");
    }

    private static void Machine()
    {
        Console.WriteLine("## Machine");
        Console.WriteLine($"- load average at the start: {ReadTrimmed("/proc/loadavg")}");
        Console.WriteLine(Invariant($"- CPUs: {Environment.ProcessorCount}; {Environment.OSVersion}; .NET {Environment.Version}"));
        Console.WriteLine($"- perf_event_paranoid: {ReadTrimmed("/proc/sys/kernel/perf_event_paranoid")}; perf_event_mlock_kb: {ReadTrimmed("/proc/sys/kernel/perf_event_mlock_kb")}");
        int fd = LinuxSyscalls.OpenSwitchEvent(UmcgKernel.CurrentTid, 4096);
        if (fd < 0)
        {
            Console.WriteLine($"- perf_event_open(context_switch, this thread): refused, {LinuxSyscalls.ErrnoName(-fd)}");
        }
        else
        {
            LinuxSyscalls.Close(fd);
            Console.WriteLine("- perf_event_open(context_switch, this thread): works");
        }

        foreach (var kind in new[] { BlockingKind.Sleep, BlockingKind.Pipe, BlockingKind.PageFault })
        {
            using var workload = new BlockingWorkload(kind, ComputeChunk.Calibrate(TimeSpan.FromMicroseconds(100)), 1);
            Console.WriteLine(Invariant($"- one {kind} blocking call of the utilization workload lasts {workload.MedianBlockMicroseconds(50):F0} us (median of 50)"));
            workload.Stop();
        }

        using var detector = new BlockingDetector(new UmcgKernel(Kernel.Parking.FutexParker.Instance), new DetectionOptions { Mode = BlockingDetection.Both });
        Console.WriteLine($"- detector with Both: runs {detector.ActiveMode}; {string.Join(" ", detector.Diagnostics)}");
    }

    private static void Latency()
    {
        const int Rounds = 5;
        const int SamplesPerRound = 40;
        const int SleepMs = 10;
        var configs = DetectionConfig.Main.Concat(DetectionConfig.Sweep).ToArray();
        var latencies = configs.ToDictionary(c => c, _ => new List<double>());
        var marks = configs.ToDictionary(c => c, _ => 0L);
        var rejected = configs.ToDictionary(c => c, _ => 0L);
        var delay = configs.ToDictionary(c => c, _ => 0.0);

        // Interleaved: every round runs every configuration once, so machine noise spreads over all of them.
        for (int round = 0; round < Rounds; round++)
        {
            foreach (var config in configs)
            {
                var r = DetectionLatency.Measure(config, SamplesPerRound, SleepMs, seed: round);
                latencies[config].AddRange(r.LatenciesUs);
                marks[config] += r.Marks;
                rejected[config] += r.Rejected;
                delay[config] += r.MarkDelayUs;
            }
        }

        Console.WriteLine();
        Console.WriteLine(Invariant($"## Detection latency: block (Thread.Sleep({SleepMs})) → server runs another worker, 1 server, {Rounds} interleaved rounds of {SamplesPerRound}"));
        Console.WriteLine("| configuration | p10 (us) | p50 (us) | p90 (us) | p99 (us) | marks | rejected | mean sleep → mark (us) |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var config in configs)
        {
            var l = latencies[config];
            double meanDelay = marks[config] == 0 ? double.NaN : delay[config] / marks[config];
            Console.WriteLine(Invariant($"| {config.Name} | {Percentiles.Of(l, 10):F0} | {Percentiles.Of(l, 50):F0} | {Percentiles.Of(l, 90):F0} | {Percentiles.Of(l, 99):F0} | {marks[config]} | {rejected[config]} | {meanDelay:F0} |"));
        }
    }

    private static void Handoff()
    {
        const int Rounds = 15;
        const int RoundTrips = 20_000;
        int cpus = Environment.ProcessorCount;
        var configs = DetectionConfig.Main.Concat(DetectionConfig.Sweep).ToArray();
        var alone = configs.ToDictionary(c => c, _ => new List<double>());
        var busy = configs.ToDictionary(c => c, _ => new List<double>());

        // Interleaved: every round runs every configuration once, so machine noise spreads over all of them.
        for (int round = 0; round < Rounds; round++)
        {
            foreach (var config in configs)
            {
                alone[config].Add(HandoffCost.Measure(config, RoundTrips, servers: 1));
                busy[config].Add(HandoffCost.Measure(config, RoundTrips, servers: cpus));
            }
        }

        double alone0 = Percentiles.Median(alone[configs[0]]);
        double busy0 = Percentiles.Median(busy[configs[0]]);
        Console.WriteLine();
        Console.WriteLine(Invariant($"## Handoff: worker → server → worker round trip (Worker.Yield), median of {Rounds} interleaved rounds of {RoundTrips}"));
        Console.WriteLine(Invariant($"| configuration | 1 server: ns | vs none | {cpus} servers, every CPU busy: ns | vs none |"));
        Console.WriteLine("|---|---:|---:|---:|---:|");
        foreach (var config in configs)
        {
            double a = Percentiles.Median(alone[config]);
            double b = Percentiles.Median(busy[config]);
            Console.WriteLine(Invariant($"| {config.Name} | {a:F0} | {a / alone0:F3} | {b:F0} | {b / busy0:F3} |"));
        }
    }

    private static void Utilization()
    {
        const int Rounds = 7;
        var duration = TimeSpan.FromMilliseconds(1000);
        var chunk = ComputeChunk.Calibrate(TimeSpan.FromMicroseconds(500));
        DetectionConfig?[] configs = [.. DetectionConfig.Main, .. DetectionConfig.UtilizationExtra, null];
        var kinds = Enum.GetValues<BlockingKind>();
        var results = new Dictionary<(BlockingKind, string), List<(double U, long Marks, double UnmanagedMs, double DetectorCpu)>>();
        string Name(DetectionConfig? c) => c?.Name ?? "plain threads";

        // Warm-up: JIT and thread pools, not measured.
        UnannotatedUtilization.Measure(DetectionConfig.Main[1], BlockingKind.Sleep, chunk, TimeSpan.FromMilliseconds(300));

        // Interleaved: every round runs every cell once, so machine noise spreads over all of them. The order
        // rotates from round to round: a run can leave work behind for the next one (page-cache writeback
        // after the page-fault runs, threads still unwinding), and no cell should always come right after
        // the same neighbour.
        for (int round = 0; round < Rounds; round++)
        {
            foreach (var kind in Rotate(kinds, round))
            {
                foreach (var config in Rotate(configs, round))
                {
                    var r = UnannotatedUtilization.Measure(config, kind, chunk, duration);
                    if (!results.TryGetValue((kind, Name(config)), out var list))
                    {
                        results[(kind, Name(config))] = list = [];
                    }

                    list.Add(r);
                }
            }
        }

        double U(BlockingKind kind, DetectionConfig? c) => Percentiles.Median(results[(kind, Name(c))].Select(r => r.U).ToArray());
        string header = "| blocking | " + string.Join(" | ", configs.Select(Name)) + " |";
        string rule = "|---|" + string.Concat(configs.Select(_ => "---:|"));

        Console.WriteLine();
        Console.WriteLine(Invariant($"## Utilization, unannounced blocking: {UnannotatedUtilization.Workers} workers on {Environment.ProcessorCount} servers (plain threads: {UnannotatedUtilization.Workers} OS threads), each a {chunk.Nanoseconds / 1000:F0} us compute chunk then one blocking call; median of {Rounds} interleaved runs of {duration.TotalSeconds:F1} s"));
        Console.WriteLine();
        Console.WriteLine("Useful compute / (wall × CPUs). The None row (no blocking at all) is the ceiling this shared machine allowed:");
        Console.WriteLine(header);
        Console.WriteLine(rule);
        foreach (var kind in kinds)
        {
            Console.WriteLine($"| {kind} | {string.Join(" | ", configs.Select(c => Invariant($"{U(kind, c):P0}")))} |");
        }

        Console.WriteLine();
        Console.WriteLine("Relative to the None row of the same column:");
        Console.WriteLine(header);
        Console.WriteLine(rule);
        foreach (var kind in kinds.Where(k => k != BlockingKind.None))
        {
            Console.WriteLine($"| {kind} | {string.Join(" | ", configs.Select(c => Invariant($"{U(kind, c) / U(BlockingKind.None, c):P0}")))} |");
        }

        Console.WriteLine();
        Console.WriteLine("Marks per run, CPU time marked workers ran unmanaged (before their next safepoint), and the detector thread's own CPU time as a share of one CPU, medians:");
        var detecting = configs.OfType<DetectionConfig>().Where(c => c.Options.Mode != BlockingDetection.None).ToArray();
        Console.WriteLine("| blocking | " + string.Join(" | ", detecting.Select(c => c.Name)) + " |");
        Console.WriteLine("|---|" + string.Concat(detecting.Select(_ => "---:|")));
        foreach (var kind in kinds)
        {
            var cells = detecting.Select(c =>
            {
                var runs = results[(kind, c.Name)];
                double marks = Percentiles.Median(runs.Select(r => (double)r.Marks).ToArray());
                double unmanaged = Percentiles.Median(runs.Select(r => r.UnmanagedMs).ToArray());
                double detector = Percentiles.Median(runs.Select(r => r.DetectorCpu).ToArray());
                return Invariant($"{marks:F0} marks, {unmanaged:F0} ms, detector {detector:P1}");
            });
            Console.WriteLine($"| {kind} | {string.Join(" | ", cells)} |");
        }
    }

    private static IEnumerable<T> Rotate<T>(T[] items, int by) => items.Skip(by % items.Length).Concat(items.Take(by % items.Length));

    private static string ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException e)
        {
            return e.Message;
        }
        catch (UnauthorizedAccessException e)
        {
            return e.Message;
        }
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
