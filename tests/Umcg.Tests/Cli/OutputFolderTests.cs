using System.Buffers.Binary;
using System.Text.Json;

namespace Umcg.Tests.Cli;

[Collection(CliCollection.Name)]
public class OutputFolderTests
{
    private static readonly byte[] PngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    [Fact]
    public void Run_writes_summary_plots_and_trace()
    {
        using var scratch = new ScratchFolder();
        string folder = scratch.Path;
        var (code, output, error) = CliHarness.Run("run", "mixed", "--seconds", "0.3", "--warmup", "0", "--workers", "6", "--out", folder);
        Assert.True(code == 0, error);
        Assert.Contains("report:", output, StringComparison.Ordinal);

        using (var summary = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "summary.json"))))
        {
            var root = summary.RootElement;
            Assert.Equal("mixed", root.GetProperty("workload").GetString());
            Assert.Equal("umcg", root.GetProperty("system").GetString());
            Assert.InRange(root.GetProperty("utilization").GetDouble(), 0, 1);
            Assert.True(root.GetProperty("machine").GetProperty("cpus").GetInt32() > 0);
        }

        AssertPng(Path.Combine(folder, "utilization.png"), 900, 500);
        AssertPng(Path.Combine(folder, "latency-cdf.png"), 900, 500);

        // The scheduler's recording: worker runs on the server tracks (pid 1) and state spans on the worker
        // tracks (pid 2), with the sampled utilization counters beside them (pid 3).
        var events = TraceEvents(folder);
        Assert.Contains(events, e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == 1);
        Assert.Contains(events, e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("pid").GetInt32() == 2
            && e.GetProperty("name").GetString() == "RUNNING");
        Assert.Contains(events, e => e.GetProperty("ph").GetString() == "C" && e.GetProperty("pid").GetInt32() == 3);
    }

    [Fact]
    public void Run_with_no_trace_writes_the_utilization_counters_only()
    {
        using var scratch = new ScratchFolder();
        string folder = scratch.Path;
        var (code, _, error) = CliHarness.Run("run", "mixed", "--seconds", "0.2", "--warmup", "0", "--workers", "4", "--no-plots", "--no-trace", "--out", folder);
        Assert.True(code == 0, error);
        var events = TraceEvents(folder);
        Assert.Contains(events, e => e.GetProperty("ph").GetString() == "C");
        Assert.All(events, e => Assert.Contains(e.GetProperty("ph").GetString(), new[] { "M", "C" }));
    }

    [Fact]
    public void Run_scale_attaches_no_trace_recorder()
    {
        // A recorder's buffer in the heap counted as the workers' memory (docs/cli.md): scale runs without one, and, having
        // no utilization samples either, writes no trace.
        using var scratch = new ScratchFolder();
        string folder = scratch.Path;
        var (code, _, error) = CliHarness.Run("run", "scale", "--workers", "40", "--seconds", "0.2", "--warmup", "0", "--no-plots", "--out", folder);
        Assert.True(code == 0, error);
        Assert.True(File.Exists(Path.Combine(folder, "summary.json")));
        Assert.False(File.Exists(Path.Combine(folder, "trace.json")), "run scale attached a trace recorder");
    }

    [Fact]
    public void Run_json_prints_one_object_and_no_plots_when_asked()
    {
        using var scratch = new ScratchFolder();
        string folder = scratch.Path;
        var (code, output, error) = CliHarness.Run("pingpong", "--system", "futex", "--seconds", "0.1", "--warmup", "0", "--json", "--no-plots", "--out", folder);
        Assert.True(code == 0, error);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("futex", doc.RootElement.GetProperty("system").GetString());
        Assert.True(File.Exists(Path.Combine(folder, "summary.json")));
        Assert.False(File.Exists(Path.Combine(folder, "latency-cdf.png")));
    }

    private static void AssertPng(string path, int width, int height)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 33, $"{path} is too short to be a PNG");
        Assert.Equal(PngSignature, bytes[..8]);

        // The first chunk is IHDR: length 13, type, then width and height (big-endian).
        Assert.Equal(13u, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(8)));
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        Assert.Equal((uint)width, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(16)));
        Assert.Equal((uint)height, BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(20)));
    }

    /// <summary>The events of the trace.json a run wrote into <paramref name="folder"/>.</summary>
    private static JsonElement[] TraceEvents(string folder)
    {
        using var trace = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "trace.json")));
        return [.. trace.RootElement.GetProperty("traceEvents").EnumerateArray().Select(e => e.Clone())];
    }
}
