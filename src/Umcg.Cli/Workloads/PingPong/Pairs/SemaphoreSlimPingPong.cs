namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// Two threads taking turns through a pair of <see cref="SemaphoreSlim"/>s: the handoff most .NET code
/// would write. SemaphoreSlim spins before it blocks, so it may hand off without sleeping at all.
/// </summary>
internal sealed class SemaphoreSlimPingPong : SignalPairPingPong<SemaphoreSlim>
{
    /// <summary>Creates the pair; see <see cref="PingPongPair"/>.</summary>
    public SemaphoreSlimPingPong(int? cpu)
        : base(cpu, () => new SemaphoreSlim(0), "SemaphoreSlim pong")
    {
    }

    /// <inheritdoc />
    protected override void Signal(SemaphoreSlim signal) => signal.Release();

    /// <inheritdoc />
    protected override void Await(SemaphoreSlim signal) => signal.Wait();
}
