namespace Umcg.Benchmarks.Threading;

/// <summary>
/// Lock throughput under contention: every participant takes one shared lock again and again around a tiny
/// critical section. Figures are per acquisition (lock + unlock), all participants together.
/// </summary>
/// <remarks>
/// Rows: <see cref="MonitorOnThreads"/> (C# <c>lock</c> on as many plain threads, the baseline),
/// <see cref="UmcgMutexOnWorkers"/> (the worker-aware mutex on workers of a two-server scheduler, with its default
/// FIFO hand-off), <see cref="UmcgMutexBargingOnWorkers"/> (the same with <see cref="MutexHandOff.Barging"/>) and
/// <see cref="MonitorOnWorkers"/> (the same scheduler's workers using C# <c>lock</c>, which the scheduler cannot
/// see: a waiter blocks its server's CPU), and the same two-way comparison for a one-permit semaphore used as a
/// lock: <see cref="SemaphoreSlimOnThreads"/> against <see cref="UmcgSemaphoreOnWorkers"/>. Participants are created in setup; one invocation is one round of
/// <see cref="Acquisitions"/> acquisitions shared evenly among them, and the shared counter is checked after
/// every round.
/// </remarks>
[ThreadingJob]
public class ContendedMutexBenchmarks
{
    /// <summary>Acquisitions per invocation, all participants together (each takes its share).</summary>
    public const int Acquisitions = 20_000;

    private readonly object _monitor = new();
    private readonly UmcgMutex _mutex = new();
    private readonly UmcgMutex _bargingMutex = new(MutexHandOff.Barging);
    private readonly SemaphoreSlim _semaphoreSlim = new(1, 1);
    private readonly UmcgSemaphore _semaphore = new(1, 1);
    private UmcgScheduler? _scheduler;
    private Crew? _crew;
    private long _counter;
    private long _expected;

    /// <summary>How many threads or workers contend.</summary>
    [Params(8, 100)]
    public int Participants { get; set; }

    private int PerParticipant => Acquisitions / Participants;

    [GlobalSetup(Target = nameof(MonitorOnThreads))]
    public void SetUpMonitorOnThreads() => _crew = new ThreadCrew(Participants, _ => Take(new MonitorLock(_monitor)));

    [GlobalSetup(Target = nameof(UmcgMutexOnWorkers))]
    public void SetUpUmcgMutex() => _crew = new WorkerCrew(_scheduler = NewScheduler(), Participants, _ => Take(new MutexLock(_mutex)));

    [GlobalSetup(Target = nameof(UmcgMutexBargingOnWorkers))]
    public void SetUpUmcgMutexBarging() => _crew = new WorkerCrew(_scheduler = NewScheduler(), Participants, _ => Take(new MutexLock(_bargingMutex)));

    [GlobalSetup(Target = nameof(MonitorOnWorkers))]
    public void SetUpMonitorOnWorkers() => _crew = new WorkerCrew(_scheduler = NewScheduler(), Participants, _ => Take(new MonitorLock(_monitor)));

    [GlobalSetup(Target = nameof(SemaphoreSlimOnThreads))]
    public void SetUpSemaphoreSlimOnThreads() => _crew = new ThreadCrew(Participants, _ => Take(new SemaphoreSlimLock(_semaphoreSlim)));

    [GlobalSetup(Target = nameof(UmcgSemaphoreOnWorkers))]
    public void SetUpUmcgSemaphore() => _crew = new WorkerCrew(_scheduler = NewScheduler(), Participants, _ => Take(new SemaphoreLock(_semaphore)));

    /// <summary>C# <c>lock</c> on plain threads.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Acquisitions)]
    public void MonitorOnThreads() => Round();

    /// <summary><see cref="UmcgMutex"/> on workers: a contended lock parks and switches to the next runnable worker.</summary>
    [Benchmark(OperationsPerInvoke = Acquisitions)]
    public void UmcgMutexOnWorkers() => Round();

    /// <summary>
    /// <see cref="UmcgMutex"/> with <see cref="MutexHandOff.Barging"/> on workers: an unlock releases the lock and a
    /// running contender usually takes it (after a brief spin if the owner runs on the other server), so most
    /// acquisitions need no switch.
    /// </summary>
    [Benchmark(OperationsPerInvoke = Acquisitions)]
    public void UmcgMutexBargingOnWorkers() => Round();

    /// <summary>C# <c>lock</c> on workers: contention blocks the OS thread and with it the server's CPU.</summary>
    [Benchmark(OperationsPerInvoke = Acquisitions)]
    public void MonitorOnWorkers() => Round();

    /// <summary><see cref="SemaphoreSlim"/> with one permit, as a lock, on plain threads.</summary>
    [Benchmark(OperationsPerInvoke = Acquisitions)]
    public void SemaphoreSlimOnThreads() => Round();

    /// <summary><see cref="UmcgSemaphore"/> with one permit, as a lock, on workers.</summary>
    [Benchmark(OperationsPerInvoke = Acquisitions)]
    public void UmcgSemaphoreOnWorkers() => Round();

    [GlobalCleanup]
    public void CleanUp()
    {
        _crew?.Dispose();
        _scheduler?.Dispose();
        if (_counter != _expected)
        {
            throw new InvalidOperationException($"lost acquisitions: {_counter} of {_expected}");
        }
    }

    private static UmcgScheduler NewScheduler() => new(new UmcgSchedulerOptions { Servers = 2, Name = "bench" });

    private void Round()
    {
        _crew!.RunRound();
        _expected += PerParticipant * Participants;
        if (Volatile.Read(ref _counter) != _expected)
        {
            throw new InvalidOperationException($"lost acquisitions: {_counter} of {_expected}");
        }
    }

    /// <summary>Takes the lock <see cref="PerParticipant"/> times around the shared counter.</summary>
    /// <remarks>A struct lock: the loop is compiled once per kind of lock, so each row measures its lock and no call through an interface.</remarks>
    private void Take<TLock>(TLock gate)
        where TLock : struct, ILock
    {
        for (int i = 0; i < PerParticipant; i++)
        {
            gate.Enter();
            _counter++;
            gate.Exit();
        }
    }

    /// <summary>A lock a participant takes and releases.</summary>
    private interface ILock
    {
        void Enter();

        void Exit();
    }

    /// <summary>What C# <c>lock</c> does on <paramref name="gate"/>.</summary>
    private readonly struct MonitorLock(object gate) : ILock
    {
        public void Enter() => Monitor.Enter(gate);

        public void Exit() => Monitor.Exit(gate);
    }

    private readonly struct MutexLock(UmcgMutex mutex) : ILock
    {
        public void Enter() => mutex.Lock();

        public void Exit() => mutex.Unlock();
    }

    private readonly struct SemaphoreSlimLock(SemaphoreSlim semaphore) : ILock
    {
        public void Enter() => semaphore.Wait();

        public void Exit() => semaphore.Release();
    }

    private readonly struct SemaphoreLock(UmcgSemaphore semaphore) : ILock
    {
        public void Enter() => semaphore.Wait();

        public void Exit() => semaphore.Release();
    }
}
