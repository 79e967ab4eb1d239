using Umcg.Kernel.Raw;

namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// UMCG worker → worker: two workers of one server hand the CPU to each other through next_tid while the
/// server sleeps. One round trip is two switches (W0 → W1 → W0), so that it compares with the other
/// ping-pongs handoff for handoff.
/// </summary>
/// <remarks>
/// The server runs W0 once per batch; W0 makes the batch's round trips and then yields back. That is two
/// extra handoffs per batch on top of its switches, outside every lap.
/// </remarks>
internal sealed class UmcgWorkerSwitch : UmcgPingPong
{
    // Round trips left in the batch: only W0 touches it.
    private long _remaining;

    // Whether W1 answers W0 (a batch runs) or yields to the server (accepted, or stopping). Written by W0 before
    // it switches to W1; the switch's CAS on the state words orders it.
    private volatile bool _inBatch;

    // Round trips W1 answered: W1 writes, the driving thread reads after the batch.
    private long _answered;

    /// <summary>Creates a server with two workers; see <see cref="PingPongPair"/>.</summary>
    public UmcgWorkerSwitch(int? cpu)
        : base(cpu, workers: 2)
    {
    }

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _answered);

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        _remaining = roundTrips;
        RunWorker(WorkerTid(0));
        if (_remaining != 0)
        {
            throw Failure($"batch ended with {_remaining} round trips left");
        }
    }

    /// <inheritdoc />
    protected override void OnRun(int index, RawTask self)
    {
        if (index == 1)
        {
            if (_inBatch)
            {
                _answered++;
                GiveUp(self, WorkerTid(0));
            }
            else
            {
                GiveUp(self, 0);
            }

            return;
        }

        if (_remaining > 0)
        {
            _inBatch = true;
            int partner = WorkerTid(1);
            StartLaps();
            while (_remaining > 0)
            {
                _remaining--;
                GiveUp(self, partner);
                Lap();
            }

            _inBatch = false;
        }

        // Batch done (or this is the run that accepts the worker): back to the server.
        GiveUp(self, 0);
    }
}
