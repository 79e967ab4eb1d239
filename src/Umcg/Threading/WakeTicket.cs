using Umcg.Scheduling;

namespace Umcg.Threading;

/// <summary>
/// How to wake one particular wait, taken from a <see cref="Waiter"/> under the primitive's lock and used
/// after the lock is released. It names the wait by its token, so using it late is harmless.
/// </summary>
internal readonly struct WakeTicket
{
    private readonly Waiter? _waiter;
    private readonly WorkerThread? _worker;
    private readonly long _token;

    public WakeTicket(Waiter waiter, WorkerThread? worker, long token)
    {
        _waiter = waiter;
        _worker = worker;
        _token = token;
    }

    /// <summary>The parked worker this ticket wakes, or null (a monitor wait, or no wait at all).</summary>
    public WorkerThread? Worker => _worker;

    /// <summary>Makes the waiter runnable: a parked worker goes to its server's run queue; a thread is pulsed.</summary>
    public void Wake()
    {
        if (_worker is not null)
        {
            _worker.Unpark(_token);
        }
        else
        {
            _waiter?.Signal(_token);
        }
    }
}
