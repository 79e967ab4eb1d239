namespace Umcg.Cli.Workloads.PingPong;

/// <summary>Two SemaphoreSlims, one per direction (they spin briefly before they block).</summary>
internal sealed class SemaphoreSlimHandoff : ThreadPairHandoff
{
    private readonly SemaphoreSlim _ping = new(0);
    private readonly SemaphoreSlim _pong = new(0);

    public override string Name => "semaphoreslim";

    public override string Describe => "SemaphoreSlim.Release / Wait, one semaphore per direction";

    protected override void RoundTrip()
    {
        _pong.Release();
        _ping.Wait();
    }

    protected override void WaitForPing() => _pong.Wait();

    protected override void AnswerPing() => _ping.Release();

    protected override void ReleasePong() => _pong.Release();
}
