namespace Umcg.Scheduling;

/// <summary>
/// The OS refused a new thread: a limit on threads or memory mappings was reached. The message names the limits
/// that usually cause it, with their values at the time (see <see cref="Limits"/>). From a spawn: the refused body
/// was never accepted; the scheduler and every other worker keep running, and shutdown needs no new thread. From
/// the constructor: the scheduler did not start, and the servers it had started were stopped.
/// </summary>
public sealed class UmcgThreadLimitException : InvalidOperationException
{
    /// <summary>Creates the exception for the runtime's refusal <paramref name="innerException"/>, reading the limits now.</summary>
    public UmcgThreadLimitException(Exception innerException)
        : this(ThreadLimits.Describe(), innerException)
    {
    }

    private UmcgThreadLimitException(string limits, Exception innerException)
        : this(
            "The OS refused a new worker thread, so the body was not spawned. Likely limits: " + limits +
            ". Raise the one that is reached, or run fewer blocked workers at once.",
            limits,
            innerException)
    {
    }

    private UmcgThreadLimitException(string message, string limits, Exception innerException)
        : base(message, innerException)
    {
        Limits = limits;
    }

    /// <summary>The refusal of a thread the scheduler needs to start (a server's or the detector's).</summary>
    internal static UmcgThreadLimitException AtStart(Exception innerException)
    {
        string limits = ThreadLimits.Describe();
        return new UmcgThreadLimitException(
            "The OS refused a thread the scheduler needs (a server or the detector), so the scheduler did not start; " +
            "the servers it had started were stopped. Likely limits: " + limits + ". Raise the one that is reached, or run fewer servers.",
            limits,
            innerException);
    }

    /// <summary>The thread and mapping limits of the process, with their values when the thread was refused.</summary>
    public string Limits { get; }
}
