using System.Text.Json;

namespace Umcg.Tests.Cli;

[Collection(CliCollection.Name)]
public class BenchJsonTests
{
    private static readonly string[] Required =
    [
        "workload", "system", "utilization", "throughput_per_s", "p50_us", "p99_us", "p999_us", "max_running", "involuntary_ctx_switches",
    ];

    [Fact]
    public void Bench_mixed_json_prints_one_line_per_system_with_every_required_field()
    {
        var (code, output, error) = CliHarness.Run("bench", "mixed", "--json", "--reps", "1", "--seconds", "0.2", "--warmup", "0", "--workers", "6");
        Assert.True(code == 0, error);

        string[] lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(5, lines.Length);
        var systems = new List<string>();
        foreach (string line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            foreach (string field in Required)
            {
                Assert.True(root.TryGetProperty(field, out _), $"missing '{field}' in {line}");
            }

            Assert.Equal("mixed", root.GetProperty("workload").GetString());
            systems.Add(root.GetProperty("system").GetString()!);
            Assert.InRange(root.GetProperty("utilization").GetDouble(), 0, 1);
            Assert.True(root.GetProperty("throughput_per_s").GetDouble() > 0);
            Assert.True(root.GetProperty("involuntary_ctx_switches").GetInt64() >= 0);
            Assert.True(root.GetProperty("max_running").GetInt32() >= 1);
        }

        Assert.Equal(["umcg", "umcg-via-server", "threadpool", "threads", "fixed-pool"], systems);
        using var umcg = JsonDocument.Parse(lines[0]);
        Assert.InRange(umcg.RootElement.GetProperty("max_running").GetInt32(), 1, Umcg.Cli.Workloads.WorkloadSettings.DefaultServers);
        Assert.Equal(1.0, umcg.RootElement.GetProperty("throughput_ratio_vs_reference").GetDouble());
    }

    [Fact]
    public void Bench_table_shows_ratios_to_umcg()
    {
        var (code, output, error) = CliHarness.Run("bench", "pingpong", "--system", "futex", "--reps", "1", "--seconds", "0.1", "--warmup", "0");
        Assert.True(code == 0, error);
        Assert.Contains("umcg-switch", output, StringComparison.Ordinal);
        Assert.Contains("futex", output, StringComparison.Ordinal);
        Assert.Contains("×1.00", output, StringComparison.Ordinal);
        Assert.DoesNotContain("semaphoreslim", output, StringComparison.Ordinal);
    }
}
