using System.Diagnostics.Metrics;
using Umcg.Benchmarks.Handoff;
using Umcg.Diagnostics;
using Umcg.Kernel.Parking;
using Umcg.Cli.Workloads.PingPong.Pairs;

namespace Umcg.Benchmarks.Diagnostics;

/// <summary>
/// What observing costs, interleaved in one process like <see cref="InterleavedHandoff"/>: the same round trips
/// with nobody observing, with a trace recorder attached, and (for the scheduler) with a meter listener that
/// enables every instrument, so that the histograms record.
/// </summary>
/// <remarks>
/// Two workloads. The kernel half's server → worker → server round trip (<see cref="UmcgRoundTrip"/> on the
/// default kernel half), where a recorder sees the worker's two transitions per round trip. And a scheduler
/// with one server whose only worker yields: each yield is a round trip through the server loop, where a
/// recorder also sees the server's pick. Every batch of an observed case is compared with the unobserved
/// batch of the same workload in the same round.
/// </remarks>
public static class TraceOverhead
{
    /// <summary>Round trips per batch.</summary>
    public const int RoundTrips = 10_000;

    private sealed record Case(string Name, int Baseline, Action<int> Run);

    /// <summary>Runs <paramref name="rounds"/> rounds and prints a Markdown table.</summary>
    public static void Run(int rounds)
    {
        using var kernelPair = new UmcgRoundTrip(HandoffBenchmarks.CpuFor(Placement.SameCpu)).Start();
        var scheduler = new UmcgScheduler(new UmcgSchedulerOptions
        {
            Servers = 1,
            Kernel = new UmcgKernel(FutexParker.Instance),
            Name = "trace-overhead",
        });
        try
        {
            Case[] cases =
            [
                new("kernel round trip, no observer", 0, n => kernelPair.Run(n)),
                new("kernel round trip, trace recorder attached", 0, n => WithRecorder(UmcgKernel.Default, 2 * n, () => kernelPair.Run(n))),
                new("scheduler yield, nothing listening", 2, n => Yield(scheduler, n)),
                new("scheduler yield, trace recorder attached", 2, n => WithTrace(scheduler, 3 * n, () => Yield(scheduler, n))),
                new("scheduler yield, meter listener on", 2, n => WithMeterListener(() => Yield(scheduler, n))),
            ];
            Measure(cases, rounds);
        }
        finally
        {
            scheduler.Dispose();
        }
    }

    private static void Measure(Case[] cases, int rounds)
    {
        // Warm-up: tiered compilation settles before anything is timed.
        for (int r = 0; r < 3; r++)
        {
            foreach (var c in cases)
            {
                c.Run(RoundTrips);
            }
        }

        var perRoundTrip = InterleavedRounds.Measure([.. cases.Select(c => c.Run)], rounds, RoundTrips);
        Console.WriteLine($"Trace overhead, {rounds} rounds of {RoundTrips} round trips per case (same CPU)");
        Console.WriteLine();
        InterleavedRounds.Print("Case", "Ratio to unobserved (median)", [.. cases.Select(c => c.Name)], [.. cases.Select(c => c.Baseline)], perRoundTrip, ratioDecimals: 3);
    }

    /// <summary>One body that yields <paramref name="yields"/> times on the scheduler's only server.</summary>
    private static void Yield(UmcgScheduler scheduler, int yields)
    {
        var handle = scheduler.Spawn(() =>
        {
            for (int i = 0; i < yields; i++)
            {
                Worker.Yield();
            }
        });
        if (!handle.Completion.Wait(PingPongPair.StallLimit))
        {
            throw new InvalidOperationException($"the yielding body stalled{Environment.NewLine}{scheduler.Kernel.Dump()}");
        }
    }

    /// <summary>Runs <paramref name="body"/> with a fresh recorder (large enough never to drop) attached to <paramref name="kernel"/>.</summary>
    private static void WithRecorder(UmcgKernel kernel, int events, Action body)
    {
        var recorder = new TraceRecorder(events + 1024);
        using (recorder.Record(kernel))
        {
            body();
        }

        Check(recorder);
    }

    private static void WithTrace(UmcgScheduler scheduler, int events, Action body)
    {
        var recorder = new TraceRecorder(events + 1024);
        scheduler.StartTrace(recorder);
        try
        {
            body();
        }
        finally
        {
            scheduler.StopTrace();
        }

        Check(recorder);
    }

    private static void WithMeterListener(Action body)
    {
        long measurements = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == UmcgMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => measurements++);
        listener.Start();
        body();
        if (measurements == 0)
        {
            throw new InvalidOperationException("the meter listener saw no measurement: the histograms did not record");
        }
    }

    private static void Check(TraceRecorder recorder)
    {
        if (recorder.Count == 0 || recorder.Dropped != 0)
        {
            throw new InvalidOperationException($"the recorder kept {recorder.Count} events and dropped {recorder.Dropped}");
        }
    }
}
