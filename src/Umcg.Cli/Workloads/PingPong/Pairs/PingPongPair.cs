namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// Threads that hand the CPU back and forth, driven in batches from a driving thread: the one ping-pong kit of
/// the benchmarks (<c>bench/.../HandoffBenchmarks</c>, which compiles this folder in) and of <c>umcg bench
/// pingpong</c>. The "ping" thread is created once, runs <see cref="RunBatch"/> when <see cref="Run"/> asks, and
/// reports back; its partner threads answer each ping. A batch may time each of its round trips
/// (<see cref="StartLaps"/>, <see cref="Lap"/>).
/// </summary>
/// <remarks>
/// <para>Why a separate ping thread instead of pinging from the benchmark thread: threads are created and
/// registered outside the measured part, only the ping side and its partners are pinned, and the driving
/// thread doubles as the watchdog — a batch that stalls surfaces as an exception with a description of
/// every participant, instead of a hang. The cost is one extra wake per batch, outside every lap.</para>
/// <para>Each implementation proves it did the work: the partner side counts its answers, and every batch
/// (and <see cref="Dispose()"/>) checks that count against the round trips asked for.</para>
/// </remarks>
internal abstract class PingPongPair : IDisposable
{
    /// <summary>How long a batch or a teardown may take before it is reported as stalled: a liveness bound, not a speed limit.</summary>
    public static readonly TimeSpan StallLimit = TimeSpan.FromSeconds(30);

    private readonly SemaphoreSlim _go = new(0);
    private readonly SemaphoreSlim _done = new(0);
    private readonly ConcurrentQueue<Exception> _partnerErrors = new();
    private Thread? _ping;
    private long _batch;
    private long _requested;
    private long _answeredAtStart;
    private volatile bool _stopping;
    private Exception? _error;

    // Set by the driving thread before it releases the batch (the semaphore orders it), read by whichever
    // participant times the round trips.
    private Action<long>? _lap;
    private long _lapStart;

    /// <summary>Creates a ping-pong whose threads run on <paramref name="cpu"/> (null: wherever the OS puts them).</summary>
    protected PingPongPair(int? cpu) => Cpu = cpu;

    /// <summary>The one CPU every participant runs on, or null for no pinning.</summary>
    public int? Cpu { get; }

    /// <summary>Round trips the partner side has answered so far (including any answered during setup).</summary>
    protected abstract long Answered { get; }

    /// <summary>Starts the ping thread and waits until it and its partners are set up.</summary>
    public PingPongPair Start()
    {
        _ping = new Thread(PingLoop) { IsBackground = true, Name = $"{GetType().Name} ping" };
        _ping.Start();
        WaitForBatch("setup");
        _answeredAtStart = Answered;
        return this;
    }

    /// <summary>
    /// Runs <paramref name="roundTrips"/> round trips on the ping thread and returns when they are done; each
    /// round trip's duration in ns goes to <paramref name="roundTripNs"/> when given.
    /// </summary>
    /// <exception cref="InvalidOperationException">The round trips failed, stalled, or were not all answered.</exception>
    public void Run(long roundTrips, Action<long>? roundTripNs = null)
    {
        _requested += roundTrips;
        _lap = roundTripNs;
        Volatile.Write(ref _batch, roundTrips);
        _go.Release();
        WaitForBatch("batch");
        Verify();
    }

    /// <summary>Stops and joins every thread, then checks that every round trip asked for was answered.</summary>
    /// <exception cref="InvalidOperationException">The teardown failed or stalled, or a round trip went unanswered.</exception>
    public void Dispose()
    {
        if (_ping is null || _stopping)
        {
            return;
        }

        _stopping = true;
        _go.Release();
        if (!_ping.Join(StallLimit))
        {
            throw Stalled("teardown");
        }

        if (_error is not null)
        {
            throw new InvalidOperationException($"{GetType().Name} failed in teardown.{Report()}", _error);
        }

        Verify();
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees what the partners shared, once every thread has stopped and the counts were checked.</summary>
    /// <param name="disposing">True when called from <see cref="Dispose()"/>.</param>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>On the ping thread, after pinning: start and accept the partner threads.</summary>
    protected abstract void SetUp();

    /// <summary>On the ping thread: make <paramref name="roundTrips"/> round trips, each one answered before the next.</summary>
    protected abstract void RunBatch(long roundTrips);

    /// <summary>On the ping thread: stop and join the partner threads.</summary>
    protected abstract void TearDown();

    /// <summary>What a stall report shows besides the counters (e.g. the kernel half's task dump).</summary>
    protected virtual string Describe() => "";

    /// <summary>Starts the clock of the batch's first round trip (nothing when the batch is not timed).</summary>
    protected void StartLaps()
    {
        if (_lap is not null)
        {
            _lapStart = LinuxSyscalls.MonotonicNs();
        }
    }

    /// <summary>Ends one timed round trip and starts the next (nothing when the batch is not timed).</summary>
    protected void Lap()
    {
        if (_lap is { } lap)
        {
            long now = LinuxSyscalls.MonotonicNs();
            lap(now - _lapStart);
            _lapStart = now;
        }
    }

    /// <summary>Pins the calling thread to <see cref="Cpu"/>, if set.</summary>
    protected void PinCurrentThread()
    {
        if (Cpu is int cpu && LinuxSyscalls.PinToCpu(0, cpu) is int err and not 0)
        {
            throw new InvalidOperationException($"sched_setaffinity to CPU {cpu} failed: errno {err}");
        }
    }

    /// <summary>
    /// Starts a partner thread running <paramref name="body"/>, pinned to <see cref="Cpu"/> when
    /// <paramref name="pin"/> is set. An exception it throws is kept for the stall report rather than
    /// crashing the process without one.
    /// </summary>
    protected Thread StartPartner(string name, Action body, bool pin = true)
    {
        ArgumentNullException.ThrowIfNull(body);
        var thread = new Thread(() =>
        {
            try
            {
                if (pin)
                {
                    PinCurrentThread();
                }

                body();
            }
            catch (Exception e)
            {
                _partnerErrors.Enqueue(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }

    /// <summary>Joins a partner thread, or reports the stall.</summary>
    protected void Join(Thread thread)
    {
        ArgumentNullException.ThrowIfNull(thread);
        if (!thread.Join(StallLimit))
        {
            throw Stalled($"joining '{thread.Name}'");
        }
    }

    private void PingLoop()
    {
        try
        {
            PinCurrentThread();
            SetUp();
            _done.Release();
            while (true)
            {
                _go.Wait();
                if (_stopping)
                {
                    break;
                }

                RunBatch(Volatile.Read(ref _batch));
                _done.Release();
            }

            TearDown();
        }
        catch (Exception e)
        {
            // Reported by the benchmark thread (Run or Dispose); the partners may be stuck, but they are
            // background threads and cannot keep the process alive.
            _error = e;
            _done.Release();
        }
    }

    private void WaitForBatch(string what)
    {
        if (!_done.Wait(StallLimit))
        {
            throw Stalled(what);
        }

        if (_error is not null)
        {
            throw new InvalidOperationException($"{GetType().Name} failed in {what}.{Report()}", _error);
        }
    }

    private void Verify()
    {
        long answered = AnsweredSinceStart;
        if (answered != _requested || !_partnerErrors.IsEmpty)
        {
            throw new InvalidOperationException(
                $"{GetType().Name}: {_requested} round trips asked for, {answered} answered.{Report()}");
        }
    }

    private long AnsweredSinceStart => Answered - _answeredAtStart;

    private InvalidOperationException Stalled(string what) => new(
        $"{GetType().Name} stalled in {what} (not done within {StallLimit.TotalSeconds:0} s): {_requested} round trips asked for, "
        + $"{AnsweredSinceStart} answered.{Report()}");

    private string Report()
    {
        string nl = Environment.NewLine;
        string errors = string.Concat(_partnerErrors.Select(e => $"{nl}partner failed: {e}"));
        return $"{errors}{nl}{Describe()}";
    }
}
