namespace Umcg.Cli.Systems;

/// <summary>The task systems by name, and how to make one.</summary>
internal static class SystemNames
{
    public const string Umcg = "umcg";

    /// <summary>
    /// Umcg with every switch through the server and every arrival waking it, as the RFC has it (no direct
    /// successor, no quiet arrivals): the same scheduler before its hot path, for same-run comparisons.
    /// </summary>
    public const string UmcgViaServer = "umcg-via-server";
    /// <summary>Umcg with preemption by demotion turned off: a worker without safepoints keeps its server until it blocks or ends.</summary>
    public const string UmcgNoDemotion = "umcg-no-demotion";

    /// <summary>Umcg demoting to nice 19 instead of SCHED_IDLE (a lowered thread keeps five times the weight).</summary>
    public const string UmcgNice19 = "umcg-nice19";
    public const string ThreadPool = "threadpool";
    public const string Threads = "threads";
    public const string FixedPool = "fixed-pool";

    /// <summary>Umcg first: it is the reference every ratio is taken against.</summary>
    public static IReadOnlyList<string> All { get; } = [Umcg, ThreadPool, Threads, FixedPool];

    public static ITaskSystem Create(string name, SystemSettings settings) => name switch
    {
        Umcg => new UmcgSystem(settings),
        UmcgViaServer => new UmcgSystem(settings with { ViaServer = true }),
        UmcgNoDemotion => new UmcgSystem(settings with { Demotion = false }),
        UmcgNice19 => new UmcgSystem(settings with { DemoteToNice19 = true }),
        ThreadPool => new ThreadPoolSystem(),
        Threads => new ThreadPerTaskSystem(),
        FixedPool => new FixedPoolSystem(settings),
        _ => throw new ArgumentException($"Unknown system '{name}'. Valid: {string.Join(", ", All)}.", nameof(name)),
    };
}
