namespace Umcg.Scheduling;

// Shutdown: stop accepting, drain (or cancel what has not started), let every worker thread leave, then stop
// the servers. No thread is left behind.
public sealed partial class UmcgScheduler
{
    /// <summary>
    /// Stops accepting work, waits for every spawned body to finish, then ends every worker thread and server.
    /// Cancelling <paramref name="cancellationToken"/> completes bodies that have not started yet as canceled
    /// (running ones still finish: their code cannot be interrupted).
    /// </summary>
    /// <returns>A task that completes when every thread of the scheduler has ended.</returns>
    public Task ShutdownAsync(CancellationToken cancellationToken = default)
    {
        lock (_poolLock)
        {
            _shutdown ??= ShutdownCoreAsync(cancellationToken);
            return _shutdown;
        }
    }

    private async Task ShutdownCoreAsync(CancellationToken cancellationToken)
    {
        lock (_poolLock)
        {
            _accepting = false;
        }

        // Drop the count held while accepting; the last body to finish completes _drained.
        if (Interlocked.Decrement(ref _outstanding) == 0)
        {
            _drained.TrySetResult();
        }

        using (cancellationToken.Register(() => _cancelUnstarted = true))
        {
            await _drained.Task.ConfigureAwait(false);
        }

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

        if (WorkerThreadCount == 0)
        {
            _threadsGone.TrySetResult();
        }

        await _threadsGone.Task.ConfigureAwait(false);

        // No worker is left to watch; stop before the servers go, whose slots the detector reads.
        Detector?.Dispose();

        foreach (var server in Servers)
        {
            server.Stop();
        }

        await Task.Run(() =>
        {
            // Join all before freeing any: a server still running may look at another's block to steal.
            foreach (var server in Servers)
            {
                server.Join(Timeout.InfiniteTimeSpan);
            }

            foreach (var server in Servers)
            {
                server.FreeBlock();
            }

            while (_allBlocks.TryTake(out var block))
            {
                if (!block.IsRegistered)
                {
                    block.Dispose();
                }
            }
        }).ConfigureAwait(false);

        Telemetry.OnShutDown();
    }

    /// <summary>Shuts down and waits (see <see cref="ShutdownAsync"/>).</summary>
    /// <exception cref="InvalidOperationException">Called from one of this scheduler's own workers (it would wait for itself).</exception>
    public void Dispose()
    {
        if (WorkerThread.Current is { } w && ReferenceEquals(w.Scheduler, this))
        {
            throw new InvalidOperationException("A worker cannot dispose its own scheduler: it would wait for itself to finish.");
        }

        ShutdownAsync().GetAwaiter().GetResult();
    }

    /// <summary>Shuts down (see <see cref="ShutdownAsync"/>).</summary>
    public ValueTask DisposeAsync() => new(ShutdownAsync());
}
