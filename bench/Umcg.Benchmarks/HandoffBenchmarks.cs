using BenchmarkDotNet.Attributes;
using Umcg.Benchmarks.Handoff;

namespace Umcg.Benchmarks;

/// <summary>
/// The cost of handing the CPU from one thread to another, per round trip (two handoffs: there and back),
/// for the UMCG kernel half and for the ways .NET code hands off today, side by side in one run.
/// </summary>
/// <remarks>
/// <para>Every participant of a case runs on the same CPU (<see cref="Cpu"/>): the UMCG server pins itself
/// and the kernel half moves its workers there; the baselines pin both threads. So a handoff is a real
/// switch on one CPU, never two threads spinning side by side on two.</para>
/// <para>Threads are created and torn down outside the measured part (see <see cref="PingPong"/>); one
/// invocation is <see cref="RoundTrips"/> round trips, and the partner's count of answers is checked after
/// each one. The job is short on purpose: the machine this was written for has two cores and is noisy, so the
/// figures are meant to be read as ratios to the raw futex floor measured in the same run.</para>
/// </remarks>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 12)]
[IterationTime(250)]
public class HandoffBenchmarks
{
    /// <summary>Round trips per invocation.</summary>
    public const int RoundTrips = 10_000;

    private PingPong? _pair;

    /// <summary>The CPU every participant is pinned to: the last one, which the benchmark host and the runtime's own threads use less.</summary>
    public static int Cpu => Environment.ProcessorCount - 1;

    [GlobalSetup(Target = nameof(RawFutex))]
    public void SetUpFutex() => _pair = new FutexPingPong(Cpu).Start();

    [GlobalSetup(Target = nameof(UmcgServerWorker))]
    public void SetUpUmcgRoundTrip() => _pair = new UmcgRoundTrip(Cpu).Start();

    [GlobalSetup(Target = nameof(UmcgWorkerWorker))]
    public void SetUpUmcgSwitch() => _pair = new UmcgWorkerSwitch(Cpu).Start();

    [GlobalSetup(Target = nameof(SemaphoreSlim))]
    public void SetUpSemaphoreSlim() => _pair = new SemaphoreSlimPingPong(Cpu).Start();

    [GlobalSetup(Target = nameof(MonitorWaitPulse))]
    public void SetUpMonitor() => _pair = new MonitorPingPong(Cpu).Start();

    [GlobalSetup(Target = nameof(AutoResetEvent))]
    public void SetUpAutoResetEvent() => _pair = new AutoResetEventPingPong(Cpu).Start();

    /// <summary>Two threads, one futex word: the floor for an OS-thread handoff on a stock kernel.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips)]
    public void RawFutex() => _pair!.Run(RoundTrips);

    /// <summary>Server → worker → server through the kernel half's Wait.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void UmcgServerWorker() => _pair!.Run(RoundTrips);

    /// <summary>Worker → worker → worker through next_tid: two switches per round trip.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void UmcgWorkerWorker() => _pair!.Run(RoundTrips);

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void SemaphoreSlim() => _pair!.Run(RoundTrips);

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void MonitorWaitPulse() => _pair!.Run(RoundTrips);

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void AutoResetEvent() => _pair!.Run(RoundTrips);

    [GlobalCleanup]
    public void CleanUp()
    {
        _pair?.Dispose();
        _pair = null;
    }
}
