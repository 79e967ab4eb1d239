using Umcg.Abi;

namespace Umcg.Benchmarks.Handoff;

/// <summary>
/// UMCG worker → worker: two workers of one server hand the CPU to each other through next_tid while the
/// server sleeps. One round trip is two switches (W0 → W1 → W0), so that it compares with the other
/// ping-pongs handoff for handoff.
/// </summary>
/// <remarks>
/// A batch costs one server → W0 start and one final yield back to the server on top of its switches: two
/// extra handoffs per <see cref="HandoffBenchmarks.RoundTrips"/> round trips.
/// </remarks>
public sealed unsafe class UmcgWorkerSwitch : UmcgPingPong
{
    private readonly long[] _switches = new long[2];

    // Switches left in the batch. Only the running worker touches it; the handoff's CAS orders it between them.
    private long _remaining;

    /// <summary>Creates a server with two workers; see <see cref="PingPong"/>.</summary>
    public UmcgWorkerSwitch(int? cpu)
        : base(cpu, workers: 2)
    {
    }

    /// <summary>Round trips both workers completed: each switched once per round trip.</summary>
    protected override long Answered => Math.Min(Volatile.Read(ref _switches[0]), Volatile.Read(ref _switches[1]));

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        Volatile.Write(ref _remaining, 2 * roundTrips);
        RunWorker(WorkerTid(0));
        if (Volatile.Read(ref _remaining) != 0 || Volatile.Read(ref _switches[0]) != Volatile.Read(ref _switches[1]))
        {
            throw Failure($"batch ended with {_remaining} switches left, workers switched {_switches[0]} and {_switches[1]} times");
        }
    }

    /// <inheritdoc />
    protected override void OnRun(int index, UmcgTask* self)
    {
        if (_remaining == 0)
        {
            // Batch done (or this is the run that accepts the worker): back to the server.
            GiveUp(self, 0);
            return;
        }

        _remaining--;
        _switches[index]++;
        GiveUp(self, WorkerTid(1 - index));
    }
}
