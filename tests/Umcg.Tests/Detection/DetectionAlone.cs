namespace Umcg.Tests.Detection;

/// <summary>
/// Detection tests that watch for marks that must not happen run alone: beside other test classes the process
/// compiles and collects all the time, and each of those can put a CPU-bound worker to sleep for real.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class DetectionAlone
{
    public const string Name = "Detection (not in parallel)";
}
