namespace Umcg.Cli.Commands;

/// <summary>
/// Parses <c>umcg [command] [workload] [options]</c>. The command defaults to <c>run</c> and the workload to
/// <c>mixed</c>; a first word that names a workload means <c>run</c> it.
/// </summary>
internal static class CommandLine
{
    /// <summary>Options each command accepts (flags take no value).</summary>
    private static readonly Dictionary<string, string[]> Accepted = new(StringComparer.Ordinal)
    {
        [CommandNames.Run] = ["--seconds", "--warmup", "--servers", "--workers", "--system", "--out", "--json", "--no-plots", "--no-trace", "--help"],
        [CommandNames.Bench] = ["--seconds", "--warmup", "--servers", "--workers", "--reps", "--system", "--out", "--json", "--no-plots", "--help"],
        [CommandNames.List] = ["--help"],
        [CommandNames.Demo] = ["--help"],
        [CommandNames.Help] = ["--help"],
    };

    private static readonly HashSet<string> Flags = ["--json", "--no-plots", "--no-trace", "--help"];

    public static IReadOnlyList<string> OptionsOf(string command) => Accepted[command];

    /// <exception cref="CliUsageException">The command line is not valid.</exception>
    public static CliOptions Parse(IReadOnlyList<string> args)
    {
        var positionals = new List<string>();
        var named = new List<(string Name, string? Value)>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i] is "-h" or "-?" ? "--help" : args[i];
            if (!arg.StartsWith('-') || arg == "-")
            {
                positionals.Add(arg);
                continue;
            }

            string name = arg;
            string? value = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }

            if (!Flags.Contains(name) && value is null && IsKnownOption(name))
            {
                if (i + 1 >= args.Count)
                {
                    throw new CliUsageException($"Option '{name}' needs a value.");
                }

                value = args[++i];
            }

            named.Add((name, value));
        }

        var options = new CliOptions();
        int next = 0;
        if (positionals.Count > 0)
        {
            string first = positionals[0].ToLowerInvariant();
            if (CommandNames.All.Contains(first))
            {
                options = options with { Command = first, CommandGiven = true };
                next = 1;
            }
            else if (WorkloadCatalog.Find(first) is null)
            {
                throw new CliUsageException(
                    $"Unknown command or workload '{positionals[0]}'. Commands: {string.Join(", ", CommandNames.All)}. Workloads: {string.Join(", ", WorkloadCatalog.Names)}.");
            }
        }

        if (options.Command == CommandNames.Help)
        {
            // "umcg help bench" is "umcg bench --help".
            if (positionals.Count > next && CommandNames.All.Contains(positionals[next].ToLowerInvariant()))
            {
                return options with { Command = positionals[next].ToLowerInvariant(), Help = true };
            }

            return options with { Help = true, CommandGiven = false };
        }

        var accepted = Accepted[options.Command];
        foreach (var (name, value) in named)
        {
            if (!accepted.Contains(name))
            {
                string what = IsKnownOption(name) ? $"Option '{name}' does not apply to 'umcg {options.Command}'" : $"Unknown option '{name}'";
                throw new CliUsageException($"{what}. Valid options of 'umcg {options.Command}': {string.Join(", ", accepted)}.");
            }

            options = Apply(options, name, value);
        }

        bool takesWorkload = options.Command is CommandNames.Run or CommandNames.Bench;
        if (positionals.Count > next)
        {
            if (!takesWorkload)
            {
                throw new CliUsageException($"'umcg {options.Command}' takes no argument, got '{positionals[next]}'.");
            }

            var workload = WorkloadCatalog.Find(positionals[next])
                ?? throw new CliUsageException($"Unknown workload '{positionals[next]}'. Valid workloads: {string.Join(", ", WorkloadCatalog.Names)}.");
            options = options with { Workload = workload.Name };
            next++;
        }
        else if (next == 0 && positionals.Count > 0)
        {
            options = options with { Workload = WorkloadCatalog.Find(positionals[0])!.Name };
            next = 1;
        }

        if (positionals.Count > next)
        {
            throw new CliUsageException($"Unexpected argument '{positionals[next]}'.");
        }

        if (options.System is not null)
        {
            var workload = WorkloadCatalog.Find(options.Workload)!;
            if (!workload.Systems.Contains(options.System))
            {
                throw new CliUsageException($"Workload '{workload.Name}' does not run on system '{options.System}'. Valid systems: {string.Join(", ", workload.Systems)}.");
            }
        }

        return options;
    }

    private static bool IsKnownOption(string name) => Accepted.Values.Any(list => list.Contains(name));

    private static CliOptions Apply(CliOptions o, string name, string? value) => name switch
    {
        "--help" => o with { Help = true },
        "--json" => o with { Json = true },
        "--no-plots" => o with { NoPlots = true },
        "--no-trace" => o with { NoTrace = true },
        "--seconds" => o with { Seconds = PositiveDouble(name, value!) },
        "--warmup" => o with { WarmUp = NonNegativeDouble(name, value!) },
        "--servers" => o with { Servers = PositiveInt(name, value!) },
        "--workers" => o with { Workers = PositiveInt(name, value!) },
        "--reps" => o with { Reps = PositiveInt(name, value!) },
        "--system" => o with { System = value },
        "--out" => o with { Out = value },
        _ => throw new CliUsageException($"Unknown option '{name}'."),
    };

    private static double PositiveDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d > 0 && double.IsFinite(d)
            ? d
            : throw new CliUsageException($"Option '{name}' needs a positive number, got '{value}'.");

    private static double NonNegativeDouble(string name, string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d >= 0 && double.IsFinite(d)
            ? d
            : throw new CliUsageException($"Option '{name}' needs a number ≥ 0, got '{value}'.");

    private static int PositiveInt(string name, string value) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0
            ? n
            : throw new CliUsageException($"Option '{name}' needs a positive whole number, got '{value}'.");
}
