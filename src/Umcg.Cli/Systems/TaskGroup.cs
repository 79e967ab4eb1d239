namespace Umcg.Cli.Systems;

/// <summary>
/// Tasks a workload started on a system, counted until each has finished; the first exception a body
/// throws is kept (and rethrown by <see cref="Wait"/>) instead of taking the process down.
/// </summary>
internal sealed class TaskGroup(ITaskSystem system)
{
    private readonly CountdownEvent _pending = new(1);
    private Exception? _error;
    private int _sealed;

    public void Start(TaskKind kind, Action body)
    {
        _pending.AddCount();
        system.Start(() =>
        {
            try
            {
                body();
            }
#pragma warning disable CA1031 // kept for Wait, which rethrows it on the workload's thread
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _error, e, null);
            }
#pragma warning restore CA1031
            finally
            {
                _pending.Signal();
            }
        }, kind);
    }

    /// <summary>Waits until every task started so far has finished; false after <paramref name="timeout"/>.</summary>
    /// <exception cref="InvalidOperationException">A task threw.</exception>
    public bool Wait(TimeSpan timeout)
    {
        if (Interlocked.Exchange(ref _sealed, 1) == 0)
        {
            _pending.Signal();
        }

        bool done = _pending.Wait(timeout);
        if (_error is not null)
        {
            throw new InvalidOperationException($"A task of the workload failed: {_error.Message}", _error);
        }

        return done;
    }
}
