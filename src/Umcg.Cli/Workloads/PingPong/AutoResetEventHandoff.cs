namespace Umcg.Cli.Workloads.PingPong;

/// <summary>Two AutoResetEvents, one per direction.</summary>
internal sealed class AutoResetEventHandoff : ThreadPairHandoff
{
    private readonly AutoResetEvent _ping = new(false);
    private readonly AutoResetEvent _pong = new(false);

    public override string Name => "autoresetevent";

    public override string Describe => "AutoResetEvent.Set / WaitOne, one event per direction";

    protected override void RoundTrip()
    {
        _pong.Set();
        _ping.WaitOne();
    }

    protected override void WaitForPing() => _pong.WaitOne();

    protected override void AnswerPing() => _ping.Set();

    protected override void ReleasePong() => _pong.Set();
}
