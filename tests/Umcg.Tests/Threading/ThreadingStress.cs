namespace Umcg.Tests.Threading;

/// <summary>
/// The threading tests run alone, not beside the other test classes: each contended hand-off wakes an OS
/// thread pinned to one of the machine's CPUs, and next to other tests' CPU-bound workers pinned to the same
/// CPUs every such wake waits for a time slice, which slows contention-heavy tests by orders of magnitude.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadingStress
{
    public const string Name = "Threading (not in parallel)";
}
