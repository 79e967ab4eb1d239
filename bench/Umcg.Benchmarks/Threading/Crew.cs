namespace Umcg.Benchmarks.Threading;

/// <summary>
/// N participants, created once, that run the same round body again and again: the benchmark thread starts a
/// round and waits until every participant has finished it. Nothing is created in the measured part.
/// </summary>
internal abstract class Crew : IDisposable
{
    private static readonly TimeSpan Stall = TimeSpan.FromSeconds(30);

    private readonly ManualResetEventSlim _done = new();
    private readonly Action<int> _body;
    private int _pending;
    private volatile bool _stopping;

    protected Crew(int size, Action<int> body)
    {
        Size = size;
        _body = body;
    }

    public int Size { get; }

    /// <summary>Runs one round on every participant and returns when all have finished it.</summary>
    /// <exception cref="TimeoutException">A round did not finish within 30 s (a stall, reported instead of hanging the run).</exception>
    public void RunRound()
    {
        _done.Reset();
        Volatile.Write(ref _pending, Size);
        Start(Size);
        if (!_done.Wait(Stall))
        {
            throw new TimeoutException($"{GetType().Name}: {Volatile.Read(ref _pending)} of {Size} participants did not finish the round. {Describe()}");
        }
    }

    public void Dispose()
    {
        _stopping = true;
        Start(Size);
        Join();
        _done.Dispose();
    }

    /// <summary>Lets <paramref name="count"/> waiting participants into their next round.</summary>
    protected abstract void Start(int count);

    /// <summary>Waits in a participant for the next round.</summary>
    protected abstract void AwaitStart();

    protected abstract void Join();

    protected virtual string Describe() => "";

    /// <summary>A participant's life: wait for a round, run it, report it done; until the crew stops.</summary>
    protected void Participate(int index)
    {
        while (true)
        {
            AwaitStart();
            if (_stopping)
            {
                return;
            }

            _body(index);
            if (Interlocked.Decrement(ref _pending) == 0)
            {
                _done.Set();
            }
        }
    }
}

/// <summary>A crew of plain threads, started by a <see cref="SemaphoreSlim"/>.</summary>
internal sealed class ThreadCrew : Crew
{
    private readonly SemaphoreSlim _start = new(0);
    private readonly Thread[] _threads;

    public ThreadCrew(int size, Action<int> body)
        : base(size, body)
    {
        _threads = new Thread[size];
        for (int i = 0; i < size; i++)
        {
            int index = i;
            _threads[i] = new Thread(() => Participate(index)) { IsBackground = true, Name = $"crew {i}" };
            _threads[i].Start();
        }
    }

    protected override void Start(int count) => _start.Release(count);

    protected override void AwaitStart() => _start.Wait();

    protected override void Join()
    {
        foreach (var t in _threads)
        {
            t.Join();
        }

        _start.Dispose();
    }
}

/// <summary>A crew of workers of one scheduler, started by a <see cref="UmcgSemaphore"/> (they wait parked).</summary>
internal sealed class WorkerCrew : Crew
{
    private readonly UmcgScheduler _scheduler;
    private readonly UmcgSemaphore _start = new(0);
    private readonly WorkerHandle[] _workers;

    /// <summary>Spawns <paramref name="size"/> workers on <paramref name="scheduler"/>, participant i on server <paramref name="placement"/>(i) (null: anywhere).</summary>
    public WorkerCrew(UmcgScheduler scheduler, int size, Action<int> body, Func<int, int?>? placement = null)
        : base(size, body)
    {
        _scheduler = scheduler;
        _workers = new WorkerHandle[size];
        for (int i = 0; i < size; i++)
        {
            int index = i;
            _workers[i] = scheduler.Spawn(() => Participate(index), new WorkerOptions { ServerAffinity = placement?.Invoke(i) });
        }
    }

    protected override void Start(int count) => _start.Release(count);

    protected override void AwaitStart() => _start.Wait();

    protected override void Join()
    {
        if (!Task.WhenAll(_workers.Select(w => w.Completion)).Wait(TimeSpan.FromSeconds(30)))
        {
            throw new TimeoutException($"workers did not stop. {Describe()}");
        }
    }

    protected override string Describe() => _scheduler.Kernel.Dump();
}
