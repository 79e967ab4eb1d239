namespace Umcg.Tests.Cli;

/// <summary>The CLI tests run one at a time: each one runs a workload that wants the machine's CPUs.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class CliCollection
{
    public const string Name = "cli";
}
