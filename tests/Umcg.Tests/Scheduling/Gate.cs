namespace Umcg.Tests.Scheduling;

/// <summary>
/// Holds bodies inside a blocking region until opened, so that they keep their worker threads (and the admission
/// bounds stay reached) for exactly as long as a test needs. Opened on dispose, so a failing test never strands a body.
/// </summary>
internal sealed class Gate : IDisposable
{
    private readonly ManualResetEventSlim _open = new();
    private int _inside;

    /// <summary>Bodies waiting at the gate now.</summary>
    public int Inside => Volatile.Read(ref _inside);

    /// <summary>Called by a body: waits (off its server's CPU) until the gate opens.</summary>
    public void Pass()
    {
        Interlocked.Increment(ref _inside);
        using (Worker.Blocking())
        {
            _open.Wait();
        }

        Interlocked.Decrement(ref _inside);
    }

    public void Open() => _open.Set();

    public void Dispose()
    {
        _open.Set();
        _open.Dispose();
    }
}
