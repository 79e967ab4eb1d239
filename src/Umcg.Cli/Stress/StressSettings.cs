using Umcg.Kernel.Detection;
using Umcg.Scheduling.Policies;

namespace Umcg.Cli.Stress;

/// <summary>The run-queue policies a stress round can use.</summary>
internal enum StressPolicy
{
    Fifo,
    Priority,
    FairShare,
}

/// <summary>One stress round: how many bodies on how many servers, under which policy and detector.</summary>
internal sealed record StressSettings
{
    /// <summary>The time slice every policy is given: short, and not a multiple of the kernel's tick.</summary>
    public static readonly TimeSpan TimeSlice = TimeSpan.FromMicroseconds(1900);

    public int Bodies { get; init; } = 10_000;

    public int Servers { get; init; } = 3;

    public StressPolicy Policy { get; init; } = StressPolicy.Priority;

    public BlockingDetection Detection { get; init; } = BlockingDetection.None;

    public int Seed { get; init; } = 1;

    /// <summary>No body finished and none was spawned for this long: the round has hung.</summary>
    public TimeSpan StallLimit { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>The kernel half to run on; null: <see cref="UmcgKernel.Default"/>.</summary>
    public UmcgKernel? Kernel { get; init; }

    public IRunQueuePolicy CreatePolicy() => Policy switch
    {
        StressPolicy.Fifo => new FifoPolicy(TimeSlice),
        StressPolicy.Priority => new PriorityPolicy(TimeSlice),
        _ => new FairSharePolicy(TimeSlice),
    };

    public override string ToString() =>
        $"{Bodies} bodies, {Servers} servers, {Policy.ToString().ToLowerInvariant()}, detection {Detection.ToString().ToLowerInvariant()}, seed {Seed}";
}
