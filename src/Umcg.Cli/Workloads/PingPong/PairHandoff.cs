using Umcg.Cli.Workloads.PingPong.Pairs;

namespace Umcg.Cli.Workloads.PingPong;

/// <summary>
/// A handoff made by one of the ping-pong kit's pairs (<see cref="PingPongPair"/>, shared with the benchmarks):
/// started on the CPU asked for, warmed up, then driven in batches with every round trip timed.
/// </summary>
internal sealed class PairHandoff(string name, string describe, Func<int?, PingPongPair> create) : Handoff
{
    /// <summary>Round trips per batch; the wake that starts a batch falls outside every lap.</summary>
    private const int Batch = 1_000;

    public override string Name => name;

    public override string Describe => describe;

    public override long Run(int cpu, int servers, TimeSpan duration, LatencyHistogram latency)
    {
        ArgumentNullException.ThrowIfNull(latency);
        using var pair = create(cpu).Start();
        pair.Run(WarmUp);
        Action<long> record = latency.Record;
        long count = 0;
        long deadlineNs = LinuxSyscalls.MonotonicNs() + (long)duration.TotalNanoseconds;
        while (LinuxSyscalls.MonotonicNs() < deadlineNs)
        {
            pair.Run(Batch, record);
            count += Batch;
        }

        return count;
    }
}
