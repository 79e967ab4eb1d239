namespace Umcg.Cli.Workloads.Scale;

/// <summary>A system made ready to start short bodies, with a count of the threads it created since it was ready.</summary>
internal interface IWarmPool : IDisposable
{
    /// <summary>Starts <paramref name="body"/>, which must not throw.</summary>
    void Start(Action body);

    /// <summary>OS threads the system created (or grew by) since it was made ready.</summary>
    long ThreadsCreated { get; }
}

/// <summary>The warm pools of each system the scale workload compares.</summary>
internal static class WarmPools
{
    /// <summary>
    /// Makes <paramref name="system"/> ready: Umcg and the ThreadPool with <paramref name="threads"/> threads
    /// started beforehand; thread-per-task has no pool and creates one thread per body.
    /// </summary>
    public static IWarmPool Create(string system, int servers, int threads, TimeSpan stallLimit, TimeSpan? osTimeSlice, OsTimeSliceMode osTimeSliceMode) => system switch
    {
        SystemNames.Umcg => new UmcgWarmPool(servers, threads, stallLimit, osTimeSlice, osTimeSliceMode),
        SystemNames.ThreadPool => new ThreadPoolWarmPool(threads, stallLimit),
        SystemNames.Threads => new ThreadPerBody(),
        _ => throw new ArgumentException($"The scale workload does not run on '{system}'.", nameof(system)),
    };

    /// <summary>
    /// A scheduler bounded at <c>threads</c> worker threads (MaxWorkers = MaxIdleWorkers), all started and
    /// returned to its idle pool before the measure. A body spawned while every thread is busy waits in the
    /// scheduler's queue for the next thread that finishes, so no thread is created during the measure; the count
    /// below proves it from the scheduler's own statistics.
    /// </summary>
    private sealed class UmcgWarmPool : IWarmPool
    {
        private readonly UmcgScheduler _scheduler;
        private readonly long _createdBefore;

        public UmcgWarmPool(int servers, int threads, TimeSpan stallLimit, TimeSpan? osTimeSlice, OsTimeSliceMode osTimeSliceMode)
        {
            _scheduler = new UmcgScheduler(new UmcgSchedulerOptions
            {
                Servers = servers,
                OsTimeSlice = osTimeSlice,
                OsTimeSliceMode = osTimeSliceMode,
                MaxWorkers = threads,
                MaxIdleWorkers = threads,
                Name = "umcg-cli-warm",
            });
            try
            {
                Warm(threads, stallLimit);
            }
            catch
            {
                _scheduler.Dispose();
                throw;
            }

            _createdBefore = Created;
        }

        public long ThreadsCreated => Created - _createdBefore;

        // A body that found no idle thread ran on a new one.
        private long Created => _scheduler.Stats.Spawned - _scheduler.Stats.ReusedThreads;

        public void Start(Action body) => _scheduler.UnsafeSpawn(body);

        public void Dispose()
        {
            _scheduler.Dispose();
            if (_scheduler.Faults.Count > 0)
            {
                throw new InvalidOperationException($"The Umcg scheduler reported {_scheduler.Faults.Count} fault(s); first: {_scheduler.Faults.First()}");
            }
        }

        /// <summary>
        /// Holds <paramref name="threads"/> bodies alive at once, so that each has a thread of its own, then lets
        /// them end and waits until every thread is back in the idle pool.
        /// </summary>
        private void Warm(int threads, TimeSpan stallLimit)
        {
            using var started = new CountdownEvent(threads);
            using var release = new ManualResetEventSlim(false);
            for (int i = 0; i < threads; i++)
            {
                _scheduler.UnsafeSpawn(() =>
                {
                    started.Signal();
                    using (Worker.Blocking())
                    {
                        release.Wait();
                    }
                });
            }

            bool allStarted = started.Wait(stallLimit);
            release.Set();
            if (!allStarted)
            {
                throw new TimeoutException($"warm pool: {started.CurrentCount} of {threads} bodies had not started within {stallLimit.TotalSeconds:0} s");
            }

            WaitUntil(() => _scheduler.IdleWorkerThreadCount == threads, stallLimit, () => $"warm pool: {_scheduler.IdleWorkerThreadCount} of {threads} threads idle");
        }
    }

    /// <summary>The .NET thread pool as it is (it adds and retires threads by its own rules), run once with <c>threads</c> items first.</summary>
    private sealed class ThreadPoolWarmPool : IWarmPool
    {
        private readonly long _threadsBefore;

        public ThreadPoolWarmPool(int threads, TimeSpan stallLimit)
        {
            using var done = new CountdownEvent(threads);
            for (int i = 0; i < threads; i++)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static d => d.Signal(), done, preferLocal: false);
            }

            if (!done.Wait(stallLimit))
            {
                throw new TimeoutException($"warm pool: {done.CurrentCount} of {threads} thread-pool items had not run within {stallLimit.TotalSeconds:0} s");
            }

            _threadsBefore = ThreadPool.ThreadCount;
        }

        /// <summary>The pool's growth: it retires idle threads too, so this is a lower bound of what it created.</summary>
        public long ThreadsCreated => Math.Max(0, ThreadPool.ThreadCount - _threadsBefore);

        public void Start(Action body) => ThreadPool.UnsafeQueueUserWorkItem(static b => b(), body, preferLocal: false);

        public void Dispose()
        {
        }
    }

    /// <summary>No pool: a new OS thread per body.</summary>
    private sealed class ThreadPerBody : IWarmPool
    {
        private long _created;

        public long ThreadsCreated => Volatile.Read(ref _created);

        public void Start(Action body)
        {
            new Thread(body.Invoke) { IsBackground = true, Name = "umcg-cli spawn" }.UnsafeStart();
            _created++;
        }

        public void Dispose()
        {
        }
    }

    /// <summary>Polls <paramref name="condition"/> (every millisecond) until it holds; a stall past <paramref name="limit"/> is an error.</summary>
    private static void WaitUntil(Func<bool> condition, TimeSpan limit, Func<string> describe)
    {
        long deadline = LinuxSyscalls.MonotonicNs() + (long)limit.TotalNanoseconds;
        while (!condition())
        {
            if (LinuxSyscalls.MonotonicNs() > deadline)
            {
                throw new TimeoutException($"{describe()} after {limit.TotalSeconds:0} s");
            }

            Thread.Sleep(1);
        }
    }
}
