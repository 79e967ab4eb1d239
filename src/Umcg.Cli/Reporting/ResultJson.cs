using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Umcg.Cli.Reporting;

/// <summary>Writes result records as JSON: one line (for JSON lines) or indented (summary.json).</summary>
internal static class ResultJson
{
    // µs, ×, → and the like stay readable in notes and labels rather than becoming \u escapes.
    private static readonly ResultJsonContext Compact = new(Options(indented: false));
    private static readonly ResultJsonContext Indented = new(Options(indented: true));

    public static string Line(RunRecord r) => JsonSerializer.Serialize(r, Compact.RunRecord);

    public static string Line(BenchRecord r) => JsonSerializer.Serialize(r, Compact.BenchRecord);

    public static string Pretty(RunRecord r) => JsonSerializer.Serialize(r, Indented.RunRecord);

    private static JsonSerializerOptions Options(bool indented) => new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        WriteIndented = indented,
    };
}

/// <summary>The JSON contract of the result records, generated at build time (no reflection at run time).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(RunRecord))]
[JsonSerializable(typeof(BenchRecord))]
[JsonSerializable(typeof(double))] // the boxed values of ResultRecord.Figures
internal sealed partial class ResultJsonContext : JsonSerializerContext;
