namespace Umcg.Cli.Stress;

/// <summary>How a stress round ended: <see cref="Failure"/> is null when every body ran once and every check held.</summary>
internal sealed record StressOutcome(StressSettings Settings, int Completed, TimeSpan Elapsed, string? Failure)
{
    public bool Passed => Failure is null;
}
