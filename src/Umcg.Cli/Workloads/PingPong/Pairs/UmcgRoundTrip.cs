using Umcg.Kernel.Raw;

namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// UMCG server → worker → server: each round trip is one pass of the canonical server loop (drain, name the
/// worker in next_tid, Wait) and the worker yielding straight back (PrepareWait, Wait with no next_tid).
/// </summary>
internal sealed class UmcgRoundTrip : UmcgPingPong
{
    private long _runs;

    /// <summary>Creates a server with one worker; see <see cref="PingPongPair"/>.</summary>
    public UmcgRoundTrip(int? cpu)
        : base(cpu, workers: 1)
    {
    }

    /// <inheritdoc />
    protected override long Answered => Volatile.Read(ref _runs);

    /// <inheritdoc />
    protected override void RunBatch(long roundTrips)
    {
        int worker = WorkerTid(0);
        StartLaps();
        for (long i = 0; i < roundTrips; i++)
        {
            RunWorker(worker);
            Lap();

            // The worker queued itself when it yielded the previous time; nothing else may be there.
            if (Drained.Count != 1 || Drained[0] != worker)
            {
                throw Failure($"runnable list held [{string.Join(',', Drained)}], expected [{worker}]");
            }
        }
    }

    /// <inheritdoc />
    protected override void OnRun(int index, RawTask self)
    {
        _runs++;
        GiveUp(self, 0);
    }
}
