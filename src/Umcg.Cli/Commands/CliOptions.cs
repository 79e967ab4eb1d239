namespace Umcg.Cli.Commands;

/// <summary>A parsed command line.</summary>
internal sealed record CliOptions
{
    public string Command { get; init; } = CommandNames.Run;

    public string Workload { get; init; } = Workloads.WorkloadCatalog.Default;

    /// <summary>Whether the command was named (not the default).</summary>
    public bool CommandGiven { get; init; }

    public bool Help { get; init; }

    public double? Seconds { get; init; }

    /// <summary>Seconds of unreported warm-up before measuring each system; 0 for none.</summary>
    public double WarmUp { get; init; } = 0.5;

    public int? Servers { get; init; }

    public int? Workers { get; init; }

    public int Reps { get; init; } = 3;

    public string? System { get; init; }

    public string? Out { get; init; }

    public bool Json { get; init; }

    public bool NoPlots { get; init; }

    public bool NoTrace { get; init; }
}

/// <summary>The commands.</summary>
internal static class CommandNames
{
    public const string Run = "run";
    public const string Bench = "bench";
    public const string List = "list";
    public const string Demo = "demo";
    public const string Help = "help";

    public static IReadOnlyList<string> All { get; } = [Run, Bench, List, Demo, Help];
}

/// <summary>A command line the tool cannot act on; the message says what was wrong and what is valid.</summary>
internal sealed class CliUsageException(string message) : Exception(message);
