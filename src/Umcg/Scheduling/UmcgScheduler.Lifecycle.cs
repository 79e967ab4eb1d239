namespace Umcg.Scheduling;

// Shutdown: stop accepting, drain (or cancel what has not started), let every worker thread leave, then stop
// the servers. No thread is left behind, and none is needed: each step is taken by the thread that makes it
// possible (the caller, the last body to finish, the last worker thread to leave, the last server to stop), so
// a process that has run out of threads — or a thread pool with none to spare — can still shut down.
public sealed partial class UmcgScheduler
{
    private readonly TaskCompletionSource _shutdownDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private CancellationTokenRegistration _cancelRegistration;
    private bool _shutdownStarted;

    // 0 → 1 once every body is done after shutdown began (set by whoever finishes the last one). Exchanged,
    // never just written: its full fence orders it before that thread's read of _workerThreads, against the
    // last exiting worker thread's decrement (a full fence) before its read of this flag, so that one of the
    // two always sees the other and stops the servers.
    private int _drainedFlag;

    // 0 → 1 when the servers are told to stop: once, by whichever of the two above gets there.
    private int _serversStopping;

    // Servers whose loop has not ended yet; the last to end frees the blocks and completes shutdown.
    private int _liveServers;

    /// <summary>
    /// Stops accepting work, waits for every spawned body to finish (queued ones included; callers still waiting for
    /// room get an <see cref="InvalidOperationException"/>), then ends every worker thread and server.
    /// Cancelling <paramref name="cancellationToken"/> completes bodies that have not started yet as canceled
    /// (running ones still finish: their code cannot be interrupted). Needs no new thread, of the thread pool or
    /// any other: the work is done by the threads that finish.
    /// </summary>
    /// <returns>
    /// A task that completes when every worker thread has ended and every server has left its loop and freed
    /// its block (the last server thread is still returning then; <see cref="Dispose"/> also joins it).
    /// </returns>
    /// <exception cref="InvalidOperationException">Called from one of this scheduler's own workers: the shutdown would wait for the caller's own body.</exception>
    public Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        ThrowIfOwnWorker("shut down");
        List<AdmissionWaiter> refused;
        lock (_poolLock)
        {
            if (_shutdownStarted)
            {
                return _shutdownDone.Task;
            }

            _shutdownStarted = true;
            _cancelRegistration = cancellationToken.Register(() => _cancelUnstarted = true);
            _accepting = false;
            refused = TakeAllWaitersLocked();
        }

        // Callers still waiting for room: their bodies were never admitted, and now never will be.
        foreach (var waiter in refused)
        {
            waiter.Refuse(ShuttingDown());
        }

        // Drop the count held while accepting; the last body to finish (maybe this call) takes the next step.
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            OnDrained();
        }

        return _shutdownDone.Task;
    }

    /// <summary>Every body is done and no new one comes: idle worker threads are told to leave.</summary>
    private void OnDrained()
    {
        _cancelRegistration.Dispose();
        List<WorkerThread> idle;
        lock (_poolLock)
        {
            idle = [.. _idle.Values.SelectMany(pool => pool)];
            _idle.Clear();
            _idleCount = 0;
        }

        foreach (var worker in idle)
        {
            worker.Release(exit: true);
        }

        Interlocked.Exchange(ref _drainedFlag, 1);
        if (WorkerThreadCount == 0)
        {
            StopServers();
        }
    }

    /// <summary>The worker-thread count fell to zero: if shutdown has drained, nothing can raise it again.</summary>
    private void OnLastWorkerThreadGone()
    {
        if (Volatile.Read(ref _drainedFlag) == 1)
        {
            StopServers();
        }
    }

    private void StopServers()
    {
        if (Interlocked.Exchange(ref _serversStopping, 1) != 0)
        {
            return;
        }

        // No worker is left to watch; stop before the servers go, whose slots the detector reads and whom the alarm wakes.
        Detector?.Dispose();
        GraceAlarm?.Stop(); // its descriptors stay until the last server has left (OnServerExited)
        OsSlice.Dispose();

        // Held as one more live server while we stop them: Stop sets a server's flag before it wakes it, so a server
        // that happens to be awake can leave its loop in between, and if it were the last one its exit would free
        // every server's block while Stop still reads that server's word. The hold makes our release the last exit.
        Interlocked.Increment(ref _liveServers);
        foreach (var server in Servers)
        {
            server.Stop();
        }

        OnServerExited();
    }

    /// <summary>
    /// The constructor failed after <paramref name="started"/> servers started: they stop (no worker exists, so
    /// their loops leave at once) and are joined, and every block is freed, so that nothing of the scheduler runs
    /// on or holds memory after the exception.
    /// </summary>
    private void AbortStart(int started)
    {
        _accepting = false;
        Detector?.Dispose();
        GraceAlarm?.Stop();
        OsSlice.Dispose();

        // Only started servers call OnServerExited; the last of them frees every server's block. Written before
        // any of them is told to stop, so no exit can read the old count.
        Volatile.Write(ref _liveServers, started);
        for (int i = 0; i < started; i++)
        {
            Servers[i].Stop();
        }

        for (int i = 0; i < started; i++)
        {
            Servers[i].Join(Timeout.InfiniteTimeSpan);
        }

        // The server that failed: its thread may have run (and failed to register) and may still be leaving.
        if (started < Servers.Length && (Servers[started].Thread.ThreadState & ThreadState.Unstarted) == 0)
        {
            Servers[started].Join(Timeout.InfiniteTimeSpan);
        }

        if (started == 0)
        {
            foreach (var server in Servers)
            {
                server.FreeBlock();
            }
        }

        GraceAlarm?.Dispose(); // every server joined
    }

    /// <summary>On each server's thread as its loop ends (unregistered, touching no block any more).</summary>
    internal void OnServerExited()
    {
        if (Interlocked.Decrement(ref _liveServers) != 0)
        {
            return;
        }

        // Every other server has ended its loop, so none may still look at a block (to steal, or at a slot).
        foreach (var server in Servers)
        {
            server.FreeBlock();
        }

        Blocks.FreeAll();
        GraceAlarm?.Dispose();

        Telemetry.OnShutDown();
        _shutdownDone.TrySetResult();
    }

    /// <summary>Shuts down and waits (see <see cref="ShutdownAsync"/>) until every thread of the scheduler has exited, on the calling thread.</summary>
    /// <exception cref="InvalidOperationException">Called from one of this scheduler's own workers (it would wait for itself).</exception>
    public void Dispose()
    {
        ThrowIfOwnWorker("dispose");

        // Completion wakes this wait directly (no continuation is queued anywhere), so it needs no other thread.
        ShutdownAsync().GetAwaiter().GetResult();
        foreach (var server in Servers)
        {
            server.Join(Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>Shuts down (see <see cref="ShutdownAsync"/>).</summary>
    /// <exception cref="InvalidOperationException">Called from one of this scheduler's own workers.</exception>
    public ValueTask DisposeAsync() => new(ShutdownAsync());

    private void ThrowIfOwnWorker(string what)
    {
        if (WorkerThread.Current is { } w && ReferenceEquals(w.Scheduler, this))
        {
            throw new InvalidOperationException($"A worker cannot {what} its own scheduler: it would wait for its own body to finish. Shut down from a thread that is not one of its workers.");
        }
    }
}
