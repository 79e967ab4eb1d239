using System.Numerics;

namespace Umcg.Scheduling.Policies;

/// <summary>
/// Strict priority: the highest <see cref="WorkerThread.Priority"/> runs first, FIFO within a level. A worker
/// of higher priority that becomes runnable preempts a lower one at its next safepoint; equal priorities
/// share the CPU round robin with the time slice, or, with no slice, each runs until it blocks, yields or finishes.
/// </summary>
/// <param name="timeSlice">
/// Round-robin slice among equal priorities (default 4 ms); must be positive, or
/// <see cref="Timeout.InfiniteTimeSpan"/> for no round robin. Without a slice a server wakes only for arrivals and
/// preemptions, never on a timer, which serves short high-priority requests beside long low-priority batch work
/// best (see docs/benchmarks-workloads.md, colocation).
/// </param>
/// <exception cref="ArgumentOutOfRangeException">A time slice that is neither positive nor infinite.</exception>
public sealed class PriorityPolicy(TimeSpan? timeSlice = null) : IRunQueuePolicy, IQuietArrivals
{
    /// <summary>Number of priority levels: priorities 0 (lowest) to 31 (highest).</summary>
    public const int Levels = 32;

    private readonly WorkerQueue[] _levels = CreateLevels();
    // Null: no round robin among equals.
    private readonly TimeSpan? _timeSlice = timeSlice == Timeout.InfiniteTimeSpan ? null : OptionsValidation.CheckedTimeSlice(timeSlice) ?? TimeSpan.FromMilliseconds(4);

    // Bit p set ⇔ level p is not empty: the highest set bit is the level to run.
    private uint _nonEmpty;

    /// <inheritdoc />
    public int Count { get; private set; }

    private static WorkerQueue[] CreateLevels()
    {
        var levels = new WorkerQueue[Levels];
        for (int i = 0; i < Levels; i++)
        {
            levels[i] = new WorkerQueue();
        }

        return levels;
    }

    private static int LevelOf(WorkerThread worker) => Math.Clamp(worker.Priority, 0, Levels - 1);

    private int HighestQueued => _nonEmpty == 0 ? -1 : 31 - BitOperations.LeadingZeroCount(_nonEmpty);

    /// <inheritdoc />
    public void Enqueue(WorkerThread worker)
    {
        int level = LevelOf(worker);
        _levels[level].Enqueue(worker);
        _nonEmpty |= 1u << level;
        Count++;
    }

    /// <inheritdoc />
    public WorkerThread? Dequeue()
    {
        int level = HighestQueued;
        if (level < 0)
        {
            return null;
        }

        var w = _levels[level].Dequeue()!;
        Removed(level);
        return w;
    }

    /// <inheritdoc />
    public bool Remove(WorkerThread worker)
    {
        int level = LevelOf(worker);
        if (!_levels[level].Remove(worker))
        {
            return false;
        }

        Removed(level);
        return true;
    }

    /// <inheritdoc />
    public WorkerThread? Steal()
    {
        // Take from the lowest non-empty level: the work this server would run last.
        for (int level = 0; level < Levels; level++)
        {
            var w = _levels[level].LastMigratable();
            if (w is not null)
            {
                _levels[level].Remove(w);
                Removed(level);
                return w;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public bool ShouldPreempt(WorkerThread running) => HighestQueued > LevelOf(running);

    /// <inheritdoc />
    public TimeSpan? TimeSlice(WorkerThread running) => HighestQueued >= LevelOf(running) ? _timeSlice : null;

    /// <inheritdoc />
    public void Charge(WorkerThread worker, long ranNs)
    {
    }

    /// <inheritdoc />
    byte IQuietArrivals.RankOf(WorkerThread worker) => (byte)LevelOf(worker);

    /// <inheritdoc />
    // A higher level always preempts (margin 1); an equal level only asks for round robin, which an armed slice
    // (or no slice at all) already covers (margin 2).
    byte IQuietArrivals.QuietMargin(bool sliceArmed) => (byte)(sliceArmed || _timeSlice is null ? 2 : 1);

    private void Removed(int level)
    {
        Count--;
        if (_levels[level].Count == 0)
        {
            _nonEmpty &= ~(1u << level);
        }
    }
}
