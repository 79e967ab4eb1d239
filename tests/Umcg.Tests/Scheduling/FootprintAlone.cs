namespace Umcg.Tests.Scheduling;

/// <summary>
/// The footprint tests run alone: they count the stack pages a thread has touched, and beside other test classes a
/// worker's deepest path grows with what they do in the same process — collections that stop a running worker with
/// a signal whose frame lands on its stack, listeners whose callbacks run on it, locks they make contended.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FootprintAlone
{
    public const string Name = "Footprint (not in parallel)";
}
