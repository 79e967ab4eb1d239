namespace Umcg.Scheduling.Demotion;

/// <summary>
/// Settings of preemption by demotion: a running worker that must give way (a higher-priority arrival, its slice
/// ended) and reaches no safepoint within <see cref="GracePeriod"/> has its OS thread demoted (SCHED_IDLE, or nice 19
/// where that is all the process may do), and its server runs the next worker on the same CPU. See docs/preemption.md.
/// Internal until the server loop demotes: it becomes an option of the scheduler then.
/// </summary>
internal sealed record DemotionOptions
{
    /// <summary>The default <see cref="GracePeriod"/>: 1 ms.</summary>
    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromMilliseconds(1);

    /// <summary>The default <see cref="MaxDemotedPerServer"/>: 4.</summary>
    public const int DefaultMaxDemotedPerServer = 4;

    /// <summary>Demotion switched off: a worker without safepoints keeps its server until it blocks or ends.</summary>
    public static DemotionOptions Off { get; } = new() { Enabled = false };

    /// <summary>Whether overstaying workers are demoted. Default true (where the OS allows it at all).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>
    /// How long a worker that must give way may run on before it is demoted: long enough that a body which calls
    /// <c>Worker.Safepoint()</c> every few tens of µs is never demoted, and short against the OS scheduler's own
    /// slice (about 3 ms), so that the worker waiting for the CPU waits about as long as it would behind another
    /// thread. Positive. Default <see cref="DefaultGracePeriod"/>.
    /// </summary>
    public TimeSpan GracePeriod { get; init; } = DefaultGracePeriod;

    /// <summary>
    /// The most demoted workers a server has at once (at least 1); past it, an overstaying worker keeps the CPU
    /// until it reaches a safepoint, so that demotion never turns into an unbounded number of idle-priority threads.
    /// Default <see cref="DefaultMaxDemotedPerServer"/>.
    /// </summary>
    public int MaxDemotedPerServer { get; init; } = DefaultMaxDemotedPerServer;

    /// <summary>Throws for settings demotion cannot run with.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A grace period that is not positive, or fewer than one demoted worker per server.</exception>
    public void Validate()
    {
        if (GracePeriod <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(GracePeriod), GracePeriod, "The grace period must be positive.");
        }

        if (MaxDemotedPerServer < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDemotedPerServer), MaxDemotedPerServer, "A server must be allowed at least one demoted worker.");
        }
    }
}
