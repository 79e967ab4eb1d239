namespace Umcg.Scheduling.Demotion;

/// <summary>
/// Settings of preemption by demotion: a running worker that must give way (a higher-priority arrival, its slice
/// ended) and reaches no safepoint within <see cref="GracePeriod"/> has its OS thread demoted (SCHED_IDLE, or nice 19
/// where that is all the process may do), and its server runs the next worker on the same CPU. See docs/preemption.md.
/// </summary>
public sealed record DemotionOptions
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
    /// How much CPU time a worker that must give way may run on before it is demoted — its own CPU time, counted from
    /// the request: a worker the OS did not run meanwhile (other processes held its CPU) is given the rest, while one
    /// found asleep in the kernel once the clock's grace is over is demoted then. Long enough that a body which calls
    /// <c>Worker.Safepoint()</c> every few tens of µs is never demoted, and within the OS scheduler's own slice (1.4 ms
    /// on 2 CPUs, 2.8 ms on 8 or more), so that the worker waiting for the CPU waits about as long as it would behind
    /// another thread. Positive. Default <see cref="DefaultGracePeriod"/>.
    /// </summary>
    public TimeSpan GracePeriod { get; init; } = DefaultGracePeriod;

    /// <summary>
    /// The most demoted workers a server has at once (at least 1); past it, an overstaying worker keeps the CPU
    /// until it reaches a safepoint, so that demotion never turns into an unbounded number of idle-priority threads.
    /// Default <see cref="DefaultMaxDemotedPerServer"/>.
    /// </summary>
    public int MaxDemotedPerServer { get; init; } = DefaultMaxDemotedPerServer;

    /// <summary>
    /// How a thread is demoted. <see cref="DemotionMechanism.SchedIdle"/> (the default; nice 19 where SCHED_IDLE is
    /// refused): weight 3, and a waking normal thread always preempts it, so the next worker runs at once. Beside busy
    /// threads a stop-the-world GC cannot stop (other processes of the same autogroup or cgroup, long native calls) it
    /// stalls every collection for up to seconds: such a process should choose <see cref="DemotionMechanism.Nice19"/>
    /// (weight 15: the lowered thread runs every few hundred ms at worst), whose lowered thread may however take a whole
    /// OS slice (1.4–2.8 ms) before a waking worker. docs/preemption.md has the figures of both.
    /// </summary>
    public DemotionMechanism Mechanism { get; init; } = DemotionMechanism.SchedIdle;

    /// <summary>Throws for settings demotion cannot run with.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A grace period that is not positive, fewer than one demoted worker per server, or no mechanism.</exception>
    public void Validate()
    {
        if (Mechanism is not (DemotionMechanism.SchedIdle or DemotionMechanism.Nice19))
        {
            throw new ArgumentOutOfRangeException(nameof(Mechanism), Mechanism, "The mechanism must be SchedIdle or Nice19.");
        }

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
