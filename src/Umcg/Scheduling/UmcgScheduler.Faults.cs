namespace Umcg.Scheduling;

// The fault channel: every exception that no handle carries — the scheduler's own errors, a policy's, a posted
// callback's — is counted, traced and raised on one event, never dropped.
public sealed partial class UmcgScheduler
{
    /// <summary>
    /// Raised for every exception no <see cref="WorkerHandle"/> carries: a callback posted to
    /// <see cref="SynchronizationContext"/> that threw (an <c>await</c> continuation, an <c>async void</c> body),
    /// a run-queue policy that failed, an error of the scheduler itself. See <see cref="UmcgUnhandledExceptionEventArgs.Source"/>.
    /// </summary>
    /// <remarks>
    /// Raised on the thread that met the exception (a worker, a server, or a thread-pool thread running a
    /// callback posted after shutdown): a handler must be short and must not block. An exception thrown by a
    /// handler is kept in <see cref="Faults"/> and goes no further.
    /// </remarks>
    public event EventHandler<UmcgUnhandledExceptionEventArgs>? UnhandledException;

    /// <summary>Errors the scheduler itself met, and run-queue policies' faults (not exceptions of bodies: those are on their handles).</summary>
    public IReadOnlyCollection<Exception> Faults => _faults;

    /// <summary>A scheduler-level error (or a policy's, see <see cref="UmcgFaultSource.Policy"/>): kept in <see cref="Faults"/>, counted, raised.</summary>
    internal void ReportFault(Exception error, UmcgFaultSource source = UmcgFaultSource.Scheduler, int? serverIndex = null)
    {
        _faults.Enqueue(error);
        Telemetry.Faulted(error);
        Raise(new UmcgUnhandledExceptionEventArgs(error, source, WorkerThread.Current, serverIndex));
    }

    /// <summary>A posted callback threw: counted and raised (it belongs to nobody's handle).</summary>
    internal void ReportUnhandled(Exception error)
    {
        Telemetry.Faulted(error, unhandled: true);
        var worker = WorkerThread.Current;
        Raise(new UmcgUnhandledExceptionEventArgs(error, UmcgFaultSource.PostedCallback, worker is not null && ReferenceEquals(worker.Scheduler, this) ? worker : null, null));
    }

    private void Raise(UmcgUnhandledExceptionEventArgs args)
    {
        try
        {
            UnhandledException?.Invoke(this, args);
        }
#pragma warning disable CA1031 // A broken handler must not take a server or worker down with it.
        catch (Exception e)
        {
            var fault = new InvalidOperationException("An UnhandledException handler threw.", e);
            _faults.Enqueue(fault);
            Telemetry.Faulted(fault); // counted and reported like every fault, but not raised again
        }
#pragma warning restore CA1031
    }
}
