using Umcg.Benchmarks.Handoff;
using Umcg.Cli.Workloads.PingPong.Pairs;

namespace Umcg.Benchmarks;

/// <summary>
/// The cost of handing the CPU from one thread to another, per round trip (two handoffs: there and back),
/// for the UMCG kernel half and for the ways .NET code hands off today, side by side in one run.
/// </summary>
/// <remarks>
/// <para><see cref="Placement.SameCpu"/> is the case the project's target is about: every participant on
/// one CPU, so a handoff is a real switch on that CPU. <see cref="Placement.Unpinned"/> shows what the
/// same code costs when the scheduler spreads the two sides over both CPUs.</para>
/// <para>Threads are created and torn down outside the measured part (see <see cref="PingPongPair"/>); one
/// invocation is <see cref="RoundTrips"/> round trips, and the partner's count of answers is checked after
/// each one. The job is short on purpose: the machine this was written for has two cores and is noisy, so the
/// figures are meant to be read as ratios to the raw futex floor measured in the same run.</para>
/// </remarks>
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15, id: "Short")]
[IterationTime(500)]
[MedianColumn]
[MemoryDiagnoser]
public class HandoffBenchmarks
{
    /// <summary>Round trips per invocation.</summary>
    public const int RoundTrips = 10_000;

    private PingPongPair? _pair;

    /// <summary>Where the threads run.</summary>
    [Params(Placement.SameCpu, Placement.Unpinned)]
    public Placement Placement { get; set; }

    private int? Cpu => CpuFor(Placement);

    /// <summary>
    /// The CPU every participant is pinned to for <paramref name="placement"/>, or null. The last CPU: the
    /// benchmark host and the runtime's own threads tend to start on the first.
    /// </summary>
    public static int? CpuFor(Placement placement) => placement == Placement.SameCpu ? Environment.ProcessorCount - 1 : null;

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
