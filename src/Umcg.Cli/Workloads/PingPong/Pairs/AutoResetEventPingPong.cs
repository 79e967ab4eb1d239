namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// Two threads taking turns through a pair of <see cref="AutoResetEvent"/>s: the runtime's native event,
/// which blocks at once without spinning.
/// </summary>
internal sealed class AutoResetEventPingPong : SignalPairPingPong<AutoResetEvent>
{
    /// <summary>Creates the pair; see <see cref="PingPongPair"/>.</summary>
    public AutoResetEventPingPong(int? cpu)
        : base(cpu, () => new AutoResetEvent(false), "AutoResetEvent pong")
    {
    }

    /// <inheritdoc />
    protected override void Signal(AutoResetEvent signal) => signal.Set();

    /// <inheritdoc />
    protected override void Await(AutoResetEvent signal) => signal.WaitOne();
}
