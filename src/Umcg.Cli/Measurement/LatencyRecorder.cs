namespace Umcg.Cli.Measurement;

/// <summary>
/// Latency samples (ns) appended from any thread without locks, kept whole so that percentiles are exact.
/// Storage grows in chunks up to <see cref="Capacity"/>; samples past it are counted as dropped.
/// </summary>
internal sealed class LatencyRecorder
{
    private const int ChunkBits = 16;
    private const int ChunkSize = 1 << ChunkBits;
    private readonly long[]?[] _chunks;
    private long _next;

    public LatencyRecorder(int capacity = 1 << 22)
    {
        Capacity = capacity;
        _chunks = new long[]?[(capacity + ChunkSize - 1) / ChunkSize];
    }

    public int Capacity { get; }

    /// <summary>Samples recorded (at most <see cref="Capacity"/>).</summary>
    public int Count => (int)Math.Min(Volatile.Read(ref _next), Capacity);

    /// <summary>Samples offered past the capacity.</summary>
    public long Dropped => Math.Max(0, Volatile.Read(ref _next) - Capacity);

    public void Record(long ns)
    {
        long i = Interlocked.Increment(ref _next) - 1;
        if (i >= Capacity)
        {
            return;
        }

        int c = (int)(i >> ChunkBits);
        var chunk = Volatile.Read(ref _chunks[c]);
        if (chunk is null)
        {
            Interlocked.CompareExchange(ref _chunks[c], new long[ChunkSize], null);
            chunk = _chunks[c]!;
        }

        chunk[i & (ChunkSize - 1)] = ns;
    }

    /// <summary>Every sample, sorted ascending. Call once recording has stopped.</summary>
    public long[] Sorted()
    {
        int count = Count;
        var all = new long[count];
        for (int i = 0; i < count; i += ChunkSize)
        {
            var chunk = _chunks[i >> ChunkBits];
            int n = Math.Min(ChunkSize, count - i);
            if (chunk is not null)
            {
                Array.Copy(chunk, 0, all, i, n);
            }
        }

        Array.Sort(all);
        return all;
    }
}
