namespace Umcg.Cli.Measurement;

/// <summary>
/// A thread that reads a <see cref="ComputeMeter"/> every few milliseconds and keeps, per CPU, the share of
/// each interval spent in compute sections: the utilization-over-time series of the run report. Each tick
/// also drives the run's progress display.
/// </summary>
internal sealed class UtilizationSampler : IDisposable
{
    private readonly ComputeMeter _meter;
    private readonly long _intervalNs;
    private readonly Action<double>? _tick;
    private readonly List<UtilizationSample> _samples = [];
    private readonly Thread _thread;
    private long _startNs;
    private volatile bool _stop;

    public UtilizationSampler(ComputeMeter meter, TimeSpan interval, Action<double>? tick = null)
    {
        _meter = meter;
        _intervalNs = (long)interval.TotalNanoseconds;
        _tick = tick;
        _thread = new Thread(Loop) { IsBackground = true, Name = "umcg-cli sampler" };
    }

    /// <summary>The samples so far; read after <see cref="Dispose"/>.</summary>
    public IReadOnlyList<UtilizationSample> Samples => _samples;

    /// <summary>The monotonic time (ns) the samples' <see cref="UtilizationSample.Seconds"/> count from.</summary>
    public long OriginNs => _startNs;

    public void Start(long startNs)
    {
        _startNs = startNs;
        _thread.Start();
    }

    public void Dispose()
    {
        _stop = true;
        if (_thread.IsAlive)
        {
            _thread.Join();
        }
    }

    private void Loop()
    {
        var last = new long[_meter.Lanes];
        long lastNs = _startNs;
        long next = _startNs + _intervalNs;
        while (!_stop)
        {
            LinuxSyscalls.SleepUntilNs(next);
            long now = LinuxSyscalls.MonotonicNs();
            var shares = new double[_meter.Lanes];
            for (int i = 0; i < shares.Length; i++)
            {
                long v = _meter.LaneNs(i);
                shares[i] = Math.Max(0, (double)(v - last[i]) / Math.Max(1, now - lastNs));
                last[i] = v;
            }

            _samples.Add(new UtilizationSample((now - _startNs) / 1e9, shares));
            lastNs = now;
            next += _intervalNs;
            _tick?.Invoke((now - _startNs) / 1e9);
        }
    }
}

/// <summary>Per-CPU share of one sampling interval spent in compute sections, at <paramref name="Seconds"/> into the run.</summary>
internal sealed record UtilizationSample(double Seconds, double[] PerCpu);
