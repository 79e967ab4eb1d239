namespace Umcg.Cli.Workloads.Common;

/// <summary>
/// A pretend device with a fixed latency: a task asks it for a byte on the task's own pipe and then blocks in
/// a real read(2) until the device writes it, <see cref="LatencyNs"/> later. One thread, outside every system
/// under test, serves all requests in order (equal latencies keep them in deadline order).
/// </summary>
internal sealed class PipeDevice : IDisposable
{
    private readonly BlockingCollection<(int Fd, long DueNs)> _requests = [];
    private readonly Thread _thread;

    public PipeDevice(TimeSpan latency)
    {
        LatencyNs = (long)latency.TotalNanoseconds;
        _thread = new Thread(Serve) { IsBackground = true, Name = "umcg-cli pipe device" };
        _thread.Start();
    }

    public long LatencyNs { get; }

    /// <summary>Asks for one byte on <paramref name="writeFd"/>, <see cref="LatencyNs"/> from now.</summary>
    public void Request(int writeFd) => _requests.Add((writeFd, LinuxSyscalls.MonotonicNs() + LatencyNs));

    public void Dispose()
    {
        _requests.CompleteAdding();
        _thread.Join();
        _requests.Dispose();
    }

    private void Serve()
    {
        foreach (var (fd, due) in _requests.GetConsumingEnumerable())
        {
            if (due > LinuxSyscalls.MonotonicNs())
            {
                LinuxSyscalls.SleepUntilNs(due);
            }

            LinuxSyscalls.WriteByte(fd);
        }
    }
}
