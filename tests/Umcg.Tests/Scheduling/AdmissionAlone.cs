namespace Umcg.Tests.Scheduling;

/// <summary>
/// The admission tests run alone: ten thousand spawns keep both CPUs busy, and beside them tests that measure CPU
/// shares by counting iterations (the fair-share policy's) see the noise instead of the policy.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AdmissionAlone
{
    public const string Name = "Admission (not in parallel)";
}
