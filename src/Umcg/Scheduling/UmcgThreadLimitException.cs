namespace Umcg.Scheduling;

/// <summary>
/// The OS refused a new worker thread: a limit on threads or memory mappings was reached. The message names the
/// limits that usually cause it, with their values at the time (see <see cref="Limits"/>). The refused body was
/// never accepted; the scheduler and every other worker keep running, and shutdown needs no new thread.
/// </summary>
public sealed class UmcgThreadLimitException : InvalidOperationException
{
    /// <summary>Creates the exception for the runtime's refusal <paramref name="innerException"/>, reading the limits now.</summary>
    public UmcgThreadLimitException(Exception innerException)
        : this(ThreadLimits.Describe(), innerException)
    {
    }

    private UmcgThreadLimitException(string limits, Exception innerException)
        : base(
            "The OS refused a new worker thread, so the body was not spawned. Likely limits: " + limits +
            ". Raise the one that is reached, or run fewer blocked workers at once.",
            innerException)
    {
        Limits = limits;
    }

    /// <summary>The thread and mapping limits of the process, with their values when the thread was refused.</summary>
    public string Limits { get; }
}
