using System.Text.Json;
using Umcg.Diagnostics;

namespace Umcg.Tests.Diagnostics;

/// <summary>A Chrome/Perfetto trace written by a recorder, parsed back with <see cref="JsonDocument"/>.</summary>
internal sealed class ChromeTrace : IDisposable
{
    private readonly JsonDocument _document;

    private ChromeTrace(JsonDocument document)
    {
        _document = document;
        Events = [.. document.RootElement.GetProperty("traceEvents").EnumerateArray()];
    }

    public IReadOnlyList<JsonElement> Events { get; }

    public JsonElement Root => _document.RootElement;

    public static ChromeTrace Of(TraceRecorder recorder)
    {
        using var stream = new MemoryStream();
        recorder.WriteChromeTrace(stream);
        return new ChromeTrace(JsonDocument.Parse(stream.ToArray()));
    }

    /// <summary>The "X" slices of track (<paramref name="pid"/>, <paramref name="tid"/>), in file order.</summary>
    public List<(string Name, double Ts, double Dur)> Slices(int pid, int tid) =>
    [
        .. Events
            .Where(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == pid && e.GetProperty("tid").GetInt32() == tid)
            .Select(e => (e.GetProperty("name").GetString()!, e.GetProperty("ts").GetDouble(), e.GetProperty("dur").GetDouble())),
    ];

    /// <summary>The name an "M" thread_name event gives track (<paramref name="pid"/>, <paramref name="tid"/>), or null.</summary>
    public string? TrackName(int pid, int tid) => Events
        .Where(e => e.GetProperty("ph").GetString() == "M" && e.GetProperty("name").GetString() == "thread_name"
            && e.GetProperty("pid").GetInt32() == pid && e.GetProperty("tid").GetInt32() == tid)
        .Select(e => e.GetProperty("args").GetProperty("name").GetString())
        .FirstOrDefault();

    public void Dispose() => _document.Dispose();
}
