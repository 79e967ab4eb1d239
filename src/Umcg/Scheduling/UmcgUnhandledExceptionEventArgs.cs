namespace Umcg.Scheduling;

/// <summary>Where an exception reported through <see cref="UmcgScheduler.UnhandledException"/> came from.</summary>
public enum UmcgFaultSource
{
    /// <summary>
    /// A callback posted to the scheduler's <see cref="SynchronizationContext"/> threw: an <c>await</c>
    /// continuation, or the exception of an <c>async void</c> body (which the runtime rethrows in a posted
    /// callback). Nobody holds a handle to these, so this event is where they surface.
    /// </summary>
    PostedCallback,

    /// <summary>
    /// A server's run-queue policy threw or broke its contract; the server went on with a FIFO queue (see
    /// docs/scheduling.md, "Faults and limits"). Also in <see cref="UmcgScheduler.Faults"/>.
    /// </summary>
    Policy,

    /// <summary>The scheduler itself met an error (a worker thread broke, a protocol call failed). Also in <see cref="UmcgScheduler.Faults"/>.</summary>
    Scheduler,
}

/// <summary>An exception nobody else would observe, reported by <see cref="UmcgScheduler.UnhandledException"/>.</summary>
public sealed class UmcgUnhandledExceptionEventArgs : EventArgs
{
    internal UmcgUnhandledExceptionEventArgs(Exception exception, UmcgFaultSource source, WorkerThread? worker, int? serverIndex)
    {
        Exception = exception;
        Source = source;
        Worker = worker;
        ServerIndex = serverIndex;
    }

    /// <summary>The exception.</summary>
    public Exception Exception { get; }

    /// <summary>What threw it.</summary>
    public UmcgFaultSource Source { get; }

    /// <summary>The worker it was thrown on, or null (a server, a thread-pool thread after shutdown, or no thread of the scheduler).</summary>
    public WorkerThread? Worker { get; }

    /// <summary>The server concerned (for <see cref="UmcgFaultSource.Policy"/>: the server whose policy failed), or null.</summary>
    public int? ServerIndex { get; }
}
