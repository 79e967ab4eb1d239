using Umcg.Threading;

namespace Umcg.Cli.Stress;

/// <summary>
/// The random mix of the long stress mode: bodies that lock mutexes, wait on a condition, take a semaphore,
/// pass items through a bounded channel, sleep and yield, in a random order drawn from a seed. Every body
/// finishes by itself whatever the interleaving (each waits only for what it, or a body like it, gives back),
/// so a body that never finishes is a bug of the scheduler or of a primitive, never of the mix.
/// </summary>
internal sealed class StressMix
{
    private const int MutexCount = 4;
    private const int MaxStepsPerBody = 6;
    private const int StepKinds = 10;

    private readonly UmcgMutex[] _mutexes = new UmcgMutex[MutexCount];

    // Counters each guarded by the mutex of the same index: read, maybe yield, write back. A lost update means
    // two bodies were inside one mutex at once.
    private readonly long[] _guarded = new long[MutexCount];
    private long _guardedIncrements;

    // Tokens: each condition step adds one and then takes one, so a body waiting for a token always has one
    // coming (it added one itself and has not taken it).
    private readonly UmcgMutex _tokenLock = new();
    private readonly UmcgCondition _tokenAdded = new();
    private int _tokens;

    // At most two holders; each semaphore step takes and gives back.
    private readonly UmcgSemaphore _semaphore = new(2, 2);
    private int _semaphoreHolders;
    private int _semaphoreOverflow;

    // Each channel step sends one item and receives one, so a receiver always has an item coming and a full
    // channel always has receivers behind it.
    private readonly UmcgChannel<int> _channel;

    // Steps finished by any body, and bodies spinning until that count moves: a spinner lets the others in
    // only through the time slice, which is what a server that slept past a queued worker fails to give.
    private long _stepsDone;
    private int _spinning;

    private readonly int[] _runs;
    private readonly int _seed;

    // Under strict priority a spinner may starve, for good, the lower priorities it waits for (directly, or
    // behind a lock one of them holds): that is the policy's promise, not a lost wake-up. There the spin gives
    // up after this long; under sliced policies it waits for as long as it takes.
    private static readonly TimeSpan StrictPrioritySpinBound = TimeSpan.FromMilliseconds(20);

    private readonly bool _spinIsBounded;

    public StressMix(int bodies, int seed, bool strictPriority = false)
    {
        _spinIsBounded = strictPriority;
        _seed = seed;
        _runs = new int[bodies];
        for (int i = 0; i < MutexCount; i++)
        {
            _mutexes[i] = new UmcgMutex(i % 2 == 0 ? MutexHandOff.Fifo : MutexHandOff.Barging);
        }

        _channel = new UmcgChannel<int>(capacity: 8, seed % 2 == 0 ? ReceiverHandOff.SwitchNow : ReceiverHandOff.RunNext);
    }

    public int Bodies => _runs.Length;

    /// <summary>Bodies that finished (each counted once, even one that wrongly ran twice).</summary>
    public int Completed => Volatile.Read(ref _completed);

    private int _completed;

    /// <summary>The first body found to have run twice, or -1.</summary>
    public int RanTwice => Volatile.Read(ref _ranTwice);

    private int _ranTwice = -1;

    /// <summary>The options body <paramref name="index"/> is spawned with (a priority from 0 to 3).</summary>
    public WorkerOptions OptionsOf(int index) => new() { Priority = Rng(index).Next(4), Name = $"stress {index}" };

    /// <summary>The body of index <paramref name="index"/>: 1 to 6 random steps, then it counts itself done.</summary>
    public Action Body(int index) => () =>
    {
        var rng = Rng(index);
        _ = rng.Next(4); // the priority drawn by OptionsOf
        int steps = 1 + rng.Next(MaxStepsPerBody);
        for (int s = 0; s < steps; s++)
        {
            int kind = rng.Next(StepKinds);
            if (kind == StepKinds - 1)
            {
                SpinUntilOthersMove();
            }
            else
            {
                Step(kind, rng);
                Interlocked.Increment(ref _stepsDone);
            }
        }

        if (Interlocked.Increment(ref _runs[index]) == 1)
        {
            Interlocked.Increment(ref _completed);
        }
        else
        {
            Interlocked.CompareExchange(ref _ranTwice, index, -1);
        }
    };

    /// <summary>What broke in the primitives' own invariants once every body finished, or null.</summary>
    public string? CheckFinalState()
    {
        long guarded = 0;
        foreach (long g in _guarded)
        {
            guarded += g;
        }

        if (guarded != Volatile.Read(ref _guardedIncrements))
        {
            return $"mutual exclusion broken: the mutex-guarded counters sum to {guarded}, {_guardedIncrements} increments were made";
        }

        if (Volatile.Read(ref _semaphoreOverflow) != 0)
        {
            return "the semaphore let more than its count in at once";
        }

        if (_tokens != 0 || _channel.Count != 0)
        {
            return $"left over: {_tokens} condition tokens, {_channel.Count} channel items (each step gives back what it takes)";
        }

        for (int i = 0; i < _runs.Length; i++)
        {
            if (_runs[i] != 1)
            {
                return $"body {i} ran {_runs[i]} times";
            }
        }

        return null;
    }

    // Not HashCode.Combine: that is randomized per process, and a seed must give the same bodies every run.
    private Random Rng(int index) => new(unchecked((_seed * 1_000_003) + index));

    private void Step(int kind, Random rng)
    {
        switch (kind)
        {
            case 0:
                GuardedIncrement(rng, timed: false);
                break;
            case 1:
                GuardedIncrement(rng, timed: true);
                break;
            case 2:
                TokenRoundTrip(rng);
                break;
            case 3:
                SemaphoreTurn(rng);
                break;
            case 4:
                _channel.Send(rng.Next());
                _ = _channel.Receive();
                break;
            case 5:
                Worker.Sleep(TimeSpan.FromMicroseconds(rng.Next(2000)));
                break;
            case 6:
                for (int i = rng.Next(1, 4); i > 0; i--)
                {
                    Worker.Yield();
                }

                break;
            case 7:
                SpinWithSafepoints(rng.Next(20, 200));
                break;
            default:
                BlockBriefly();
                break;
        }
    }

    private void GuardedIncrement(Random rng, bool timed)
    {
        int m = rng.Next(MutexCount);
        var mutex = _mutexes[m];
        if (timed)
        {
            if (!mutex.TryLock(TimeSpan.FromMicroseconds(rng.Next(50, 500))))
            {
                return;
            }
        }
        else
        {
            mutex.Lock();
        }

        try
        {
            long v = _guarded[m];
            if (rng.Next(3) == 0)
            {
                Worker.Yield();
            }

            _guarded[m] = v + 1;
            Interlocked.Increment(ref _guardedIncrements);
        }
        finally
        {
            mutex.Unlock();
        }
    }

    private void TokenRoundTrip(Random rng)
    {
        bool timed = rng.Next(2) == 0;
        _tokenLock.Lock();
        try
        {
            _tokens++;
            _tokenAdded.NotifyOne();
            while (_tokens == 0)
            {
                if (timed)
                {
                    _ = _tokenAdded.Wait(_tokenLock, TimeSpan.FromMicroseconds(200));
                }
                else
                {
                    _tokenAdded.Wait(_tokenLock);
                }
            }

            _tokens--;
        }
        finally
        {
            _tokenLock.Unlock();
        }
    }

    private void SemaphoreTurn(Random rng)
    {
        if (rng.Next(2) == 0)
        {
            _semaphore.Wait();
        }
        else if (!_semaphore.Wait(TimeSpan.FromMicroseconds(rng.Next(50, 500))))
        {
            return;
        }

        if (Interlocked.Increment(ref _semaphoreHolders) > _semaphore.MaxCount)
        {
            Interlocked.Exchange(ref _semaphoreOverflow, 1);
        }

        Worker.Yield();
        Interlocked.Decrement(ref _semaphoreHolders);
        _semaphore.Release();
    }

    /// <summary>
    /// Spins through safepoints until another body finishes a step: on a server with queued workers only the
    /// time slice lets them in. Gives up once every unfinished body spins here, so it never waits for nobody
    /// (and, under strict priority, after <see cref="StrictPrioritySpinBound"/>).
    /// </summary>
    private void SpinUntilOthersMove()
    {
        long mark = Volatile.Read(ref _stepsDone);
        var spun = System.Diagnostics.Stopwatch.StartNew();
        Interlocked.Increment(ref _spinning);
        while (Volatile.Read(ref _stepsDone) == mark && Volatile.Read(ref _spinning) < Bodies - Completed
            && !(_spinIsBounded && spun.Elapsed > StrictPrioritySpinBound))
        {
            Worker.Safepoint();
        }

        Interlocked.Decrement(ref _spinning);
    }

    private static void SpinWithSafepoints(int microseconds)
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed.TotalMicroseconds < microseconds)
        {
            Worker.Safepoint();
        }
    }

    /// <summary>An announced blocking call: the CPU goes back to the server and the worker queues again after.</summary>
    private static void BlockBriefly()
    {
        using (Worker.Blocking())
        {
            Thread.Yield();
        }
    }
}
