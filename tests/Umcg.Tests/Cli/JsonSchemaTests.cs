using System.Text.Json;

namespace Umcg.Tests.Cli;

/// <summary>
/// <c>--json</c> keeps its schema: for each workload (and one bench), the set of field names and their JSON types
/// equals the pinned one in <see cref="JsonSchemaPins"/>. Values may differ from run to run; names and types may not.
/// </summary>
[Collection(CliCollection.Name)]
public class JsonSchemaTests
{
    /// <summary>
    /// Short runs of every workload the pins cover, keyed like <see cref="JsonSchemaPins.ByInvocation"/>. Not giveway:
    /// in a short run its latency fields are null or numbers depending on whether a high-priority task started.
    /// </summary>
    public static TheoryData<string, string[]> Invocations => new()
    {
        { "mixed", ["run", "mixed", "--seconds", "0.3", "--workers", "4"] },
        { "colocation", ["run", "colocation", "--seconds", "0.3"] },
        { "colocation-nosafepoints", ["run", "colocation-nosafepoints", "--seconds", "0.3"] },
        { "pingpong", ["run", "pingpong", "--seconds", "0.2"] },
        { "pipeline", ["run", "pipeline", "--seconds", "0.3"] },
        { "scale", ["run", "scale", "--seconds", "0.3", "--workers", "100"] },
        { "gcpause", ["run", "gcpause", "--seconds", "0.5"] },
        { "bench-pingpong", ["bench", "pingpong", "--system", "futex", "--reps", "1", "--seconds", "0.2"] },
    };

    [Theory]
    [MemberData(nameof(Invocations))]
    public void Json_output_has_the_pinned_names_and_types(string pin, string[] args)
    {
        using var scratch = new ScratchFolder();
        var (code, output, error) = CliHarness.Run([.. args, "--json", "--warmup", "0", "--no-plots", .. OutFor(args[0], scratch.Path)]);
        Assert.True(code == 0, error);

        string first = output.Split('\n', StringSplitOptions.RemoveEmptyEntries)[0];
        using var doc = JsonDocument.Parse(first);
        var fields = Schema(doc.RootElement, "").ToList();
        string actual = string.Join('\n', fields.Distinct().Order(StringComparer.Ordinal));
        string expected = string.Join('\n', JsonSchemaPins.ByInvocation[pin].Order(StringComparer.Ordinal));
        Assert.Equal(expected, actual);

        // A name written twice (a workload figure and a context field of the same name) leaves its value to the parser.
        Assert.Empty(fields.GroupBy(f => f[..f.IndexOf(':', StringComparison.Ordinal)]).Where(g => g.Count() > 1).Select(g => g.Key));
    }

    /// <summary>Every field as "name: type", nested objects' fields as "parent.name: type".</summary>
    private static IEnumerable<string> Schema(JsonElement obj, string prefix)
    {
        foreach (var p in obj.EnumerateObject())
        {
            yield return $"{prefix}{p.Name}: {Kind(p.Value.ValueKind)}";
            if (p.Value.ValueKind == JsonValueKind.Object)
            {
                foreach (string nested in Schema(p.Value, $"{prefix}{p.Name}."))
                {
                    yield return nested;
                }
            }
        }
    }

    private static string Kind(JsonValueKind kind) => kind switch
    {
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => kind.ToString().ToLowerInvariant(),
    };

    // run writes its report folder anyway: keep it in the scratch folder.
    private static string[] OutFor(string command, string folder) => command == "run" ? ["--out", folder] : [];
}
