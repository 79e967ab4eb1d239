namespace Umcg.Cli.Systems;

/// <summary>How a workload wants its system set up.</summary>
/// <param name="Capacity">N: Umcg servers, and threads of the fixed pool.</param>
/// <param name="Priorities">Use a priority policy on Umcg (requests above batch; see <see cref="StrictPriorityPolicy"/>).</param>
internal sealed record SystemSettings(int Capacity, bool Priorities = false);
