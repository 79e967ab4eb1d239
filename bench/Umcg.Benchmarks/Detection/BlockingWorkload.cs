using System.IO.Pipes;

namespace Umcg.Benchmarks.Detection;

/// <summary>
/// The utilization workload: workers alternating a compute chunk with one blocking call that nobody
/// announces, then a safepoint (where a worker a detector marked blocked rejoins its server). Total demand
/// is above capacity, so every CPU could be busy all the time if blocked workers gave their CPU away.
/// </summary>
internal sealed class BlockingWorkload : IDisposable
{
    private const long FileBytes = 64L << 20;
    private const int FaultBytes = 64 << 10;

    private readonly BlockingKind _kind;
    private readonly ComputeChunk _chunk;
    private readonly object[] _locks = [new(), new()];
    private readonly AnonymousPipeServerStream[] _readers = [];
    private readonly AnonymousPipeClientStream[] _writers = [];
    private readonly long[] _replyDue = [];
    private readonly Thread? _feeder;
    private readonly FileStream? _file;
    private volatile bool _stop;
    private long _chunks;
    private long _lockedChunks;

    public BlockingWorkload(BlockingKind kind, ComputeChunk chunk, int workers)
    {
        _kind = kind;
        _chunk = chunk;
        if (kind == BlockingKind.Pipe)
        {
            _readers = new AnonymousPipeServerStream[workers];
            _writers = new AnonymousPipeClientStream[workers];
            _replyDue = new long[workers];
            for (int i = 0; i < workers; i++)
            {
                _readers[i] = new AnonymousPipeServerStream(PipeDirection.In, HandleInheritability.None);
                _writers[i] = new AnonymousPipeClientStream(PipeDirection.Out, _readers[i].ClientSafePipeHandle);
            }

            _feeder = new Thread(Feed) { IsBackground = true, Name = "pipe feeder" };
            _feeder.Start();
        }
        else if (kind == BlockingKind.PageFault)
        {
            string path = Path.Combine("/var/tmp", $"umcg-detection-{Environment.ProcessId}.bin");
            _file = new FileStream(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            var block = new byte[1 << 20];
            Random.Shared.NextBytes(block);
            for (long written = 0; written < FileBytes; written += block.Length)
            {
                _file.Write(block);
            }

            _file.Flush(flushToDisk: true);
        }
    }

    /// <summary>Compute chunks completed before the stop, inside and outside locks.</summary>
    public double UsefulNanoseconds => (Volatile.Read(ref _chunks) + Volatile.Read(ref _lockedChunks)) * _chunk.Nanoseconds;

    public void Body(int id)
    {
        var rng = new Random(id);
        while (!_stop)
        {
            GC.KeepAlive(ComputeChunk.Run(_chunk.Iterations));
            if (!_stop)
            {
                Interlocked.Increment(ref _chunks);
            }

            Block(id, rng);
            Worker.Safepoint();
        }
    }

    /// <summary>How long one blocking call takes on this (non-worker) thread, median of <paramref name="samples"/>.</summary>
    public double MedianBlockMicroseconds(int samples)
    {
        var rng = new Random(7);
        var times = new double[samples];
        for (int i = 0; i < samples; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Block(0, rng);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }

        return Percentiles.Median(times);
    }

    public void Stop()
    {
        _stop = true;
        _feeder?.Join();
        foreach (var writer in _writers)
        {
            // Whoever still waits for a reply gets one.
            writer.WriteByte(0);
            writer.Flush();
        }
    }

    private void Block(int id, Random rng)
    {
        switch (_kind)
        {
            case BlockingKind.None:
                break;
            case BlockingKind.Sleep:
                Thread.Sleep(2);
                break;
            case BlockingKind.Lock:
                // Workers are placed on servers alternately: pair them so that each lock is shared across servers.
                // Held for two chunks against one outside: two workers wanting the same lock cannot both be
                // served, so one of them waits (asleep, once .NET's lock stops spinning).
                lock (_locks[(id >> 1) % _locks.Length])
                {
                    for (int i = 0; i < 2; i++)
                    {
                        GC.KeepAlive(ComputeChunk.Run(_chunk.Iterations));
                        if (!_stop)
                        {
                            Interlocked.Increment(ref _lockedChunks);
                        }
                    }
                }

                break;
            case BlockingKind.Pipe:
                Volatile.Write(ref _replyDue[id], Stopwatch.GetTimestamp() + (Stopwatch.Frequency / 500));
                _readers[id].ReadByte();
                break;
            case BlockingKind.PageFault:
                long offset = rng.NextInt64(FileBytes / FaultBytes) * FaultBytes;
                FaultIn((int)_file!.SafeFileHandle.DangerousGetHandle(), offset, FaultBytes);
                break;
        }
    }

    /// <summary>Drops the range from the page cache, maps it fresh and touches it: a major fault, read from disk.</summary>
    private static unsafe byte FaultIn(int fd, long offset, int length)
    {
        LinuxSyscalls.DropFromPageCache(fd, offset, length);
        nint map = LinuxSyscalls.MapReadOnly(fd, (nuint)length, out int error, offset);
        if (map == 0)
        {
            throw new IOException($"mmap failed: errno {error}");
        }

        try
        {
            return *(byte*)map;
        }
        finally
        {
            LinuxSyscalls.Unmap(map, (nuint)length);
        }
    }

    /// <summary>Answers each pipe request two to three milliseconds after it was made.</summary>
    private void Feed()
    {
        while (!_stop)
        {
            long now = Stopwatch.GetTimestamp();
            for (int i = 0; i < _replyDue.Length; i++)
            {
                long due = Volatile.Read(ref _replyDue[i]);
                if (due != 0 && now >= due)
                {
                    Volatile.Write(ref _replyDue[i], 0);
                    _writers[i].WriteByte(1);
                    _writers[i].Flush();
                }
            }

            Thread.Sleep(1);
        }
    }

    public void Dispose()
    {
        foreach (var w in _writers)
        {
            w.Dispose();
        }

        foreach (var r in _readers)
        {
            r.Dispose();
        }

        _file?.Dispose();
    }
}
