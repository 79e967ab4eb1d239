namespace Umcg.Scheduling.Policies;

/// <summary>
/// Wraps a policy the scheduler does not ship, so that its faults stay on its own server: it keeps its own record
/// of which workers are queued, checks every answer against it, and at the first exception or impossible answer
/// (a worker it was never given, none while some are queued) it drops the policy for good and goes on as a
/// <see cref="FifoPolicy"/> holding exactly the workers the record holds. No worker is lost and the server never
/// stops; the fault is kept for the server to report outside its run-queue lock (<see cref="TakeFault"/>).
/// </summary>
/// <remarks>Like every policy, called only under its server's run-queue lock.</remarks>
internal sealed class ContainedPolicy(IRunQueuePolicy inner) : IRunQueuePolicy
{
    // The truth about which workers this server has queued, whatever the wrapped policy says.
    private readonly HashSet<WorkerThread> _queued = [];
    private IRunQueuePolicy? _inner = inner;
    private FifoPolicy? _fallback;
    private Exception? _unreported;

    /// <summary>Whether the wrapped policy failed and the FIFO fallback runs the queue.</summary>
    public bool HasFallenBack => _fallback is not null;

    public int Count => _fallback?.Count ?? _queued.Count;

    public void Enqueue(WorkerThread worker)
    {
        if (_fallback is not null)
        {
            _fallback.Enqueue(worker);
            return;
        }

        // Recorded first: if the policy throws, the fallback still gets the worker.
        _queued.Add(worker);
        Guard(static (p, w) => { p.Enqueue(w); return true; }, worker);
    }

    public WorkerThread? Dequeue()
    {
        if (_fallback is null)
        {
            var w = Guard(static (p, _) => p.Dequeue(), 0);
            if (_fallback is null)
            {
                if (w is null ? _queued.Count == 0 : _queued.Remove(w))
                {
                    return w;
                }

                FallBack(Broken(w is null ? $"Dequeue returned no worker while {_queued.Count} are queued" : $"Dequeue returned {w}, which is not queued here"));
            }
        }

        return _fallback!.Dequeue();
    }

    public bool Remove(WorkerThread worker)
    {
        if (_fallback is null)
        {
            bool removed = Guard(static (p, w) => p.Remove(w), worker);
            if (_fallback is null)
            {
                if (removed == _queued.Contains(worker))
                {
                    _queued.Remove(worker);
                    return removed;
                }

                FallBack(Broken($"Remove answered {removed} for {worker}, which is {(removed ? "not " : "")}queued here"));
            }
        }

        return _fallback!.Remove(worker);
    }

    public WorkerThread? Steal()
    {
        if (_fallback is null)
        {
            var w = Guard(static (p, _) => p.Steal(), 0);
            if (_fallback is null)
            {
                if (w is null || (w.CanMigrate && _queued.Remove(w)))
                {
                    return w;
                }

                FallBack(Broken($"Steal returned {w}, which is {(w.CanMigrate ? "not queued here" : "pinned to its server")}"));
            }
        }

        return _fallback!.Steal();
    }

    public bool ShouldPreempt(WorkerThread running) =>
        _fallback is null ? Guard(static (p, w) => p.ShouldPreempt(w), running) : _fallback.ShouldPreempt(running);

    public TimeSpan? TimeSlice(WorkerThread running)
    {
        if (_fallback is null)
        {
            var slice = Guard(static (p, w) => p.TimeSlice(w), running);
            if (_fallback is null)
            {
                if (slice is not { } s || s > TimeSpan.Zero)
                {
                    return slice;
                }

                FallBack(Broken($"TimeSlice returned {s} for {running}"));
            }
        }

        return _fallback!.TimeSlice(running);
    }

    public void Charge(WorkerThread worker, long ranNs)
    {
        if (_fallback is null)
        {
            Guard(static (p, charge) => { p.Charge(charge.worker, charge.ranNs); return true; }, (worker, ranNs));
        }
    }

    /// <summary>The fault that made this policy fall back, once (null afterwards, and before any fault).</summary>
    public Exception? TakeFault()
    {
        var e = _unreported;
        _unreported = null;
        return e;
    }

    // Static lambdas with their argument passed along: no allocation per call on the run-queue path.
    private TResult? Guard<TArg, TResult>(Func<IRunQueuePolicy, TArg, TResult> call, TArg arg)
    {
        try
        {
            return call(_inner!, arg);
        }
#pragma warning disable CA1031 // Whatever the policy throws, its server must go on: contained and reported.
        catch (Exception e)
        {
            FallBack(e);
            return default;
        }
#pragma warning restore CA1031
    }

    private InvalidOperationException Broken(string what) =>
        new($"The run-queue policy {_inner!.GetType().FullName} broke its contract: {what}.");

    /// <summary>Drops the wrapped policy: the recorded workers go to a FIFO, oldest runnable first.</summary>
    private void FallBack(Exception fault)
    {
        _fallback = new FifoPolicy();
        foreach (var w in _queued.OrderBy(w => w.RunnableSinceNs))
        {
            // The dropped policy may still have the worker linked in one of its WorkerQueues; those links are
            // meaningless now, and would make every later enqueue (here or on another server) refuse it.
            w.QueueLinks = default;
            _fallback.Enqueue(w);
        }

        _queued.Clear();
        _inner = null;
        _unreported = fault;
    }
}
