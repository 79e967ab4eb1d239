using System.Text.Json;

namespace Umcg.Tests.Cli;

/// <summary>
/// <c>umcg bench scale</c> measures each system's alive part in a process of its own (the first system in one process
/// pays growth the next one reuses: docs/benchmarks-workloads.md, "Which system goes first").
/// </summary>
[Collection(CliCollection.Name)]
public class ScaleFreshProcessTests
{
    [Fact]
    public void Bench_scale_measures_each_alive_part_in_a_child_process()
    {
        // The tool as a process of its own (in-process, as the other CLI tests run it, it cannot start itself again).
        var tool = ChildProcess.Run(
            ChildProcess.DotnetHost,
            ["exec", Path.Combine(AppContext.BaseDirectory, "Umcg.Cli.dll"), "bench", "scale", "--system", "threads",
                "--workers", "30", "--seconds", "0.1", "--warmup", "0", "--reps", "1", "--json", "--no-plots"],
            "umcg bench scale");
        Assert.True(tool.ExitCode == 0, tool.Err);
        var results = tool.Out.Split('\n').Where(l => l.TrimStart().StartsWith('{')).Select(l => JsonDocument.Parse(l)).ToArray();
        Assert.Equal(["umcg", "threads"], results.Select(r => r.RootElement.GetProperty("system").GetString()));
        const string Fresh = "alive part measured in a fresh process (pid ";
        var children = new List<int>();
        foreach (var result in results)
        {
            var root = result.RootElement;
            Assert.Equal(30, root.GetProperty("workers").GetInt32());
            Assert.True(root.TryGetProperty("rss_per_worker_bytes", out _), "no memory figure copied from the child");
            var notes = root.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToArray();
            string note = Assert.Single(notes, n => n.StartsWith(Fresh, StringComparison.Ordinal));
            children.Add(int.Parse(note[Fresh.Length..^1], System.Globalization.CultureInfo.InvariantCulture));
            result.Dispose();
        }

        // One process per system, neither of them the bench's own.
        Assert.Equal(2, children.Distinct().Count());
        Assert.DoesNotContain(tool.Id, children);
    }

    [Fact]
    public void Bench_scale_in_a_process_that_is_not_the_tool_measures_here_and_says_so()
    {
        var (code, output, error) = CliHarness.Run("bench", "scale", "--system", "threads", "--workers", "20", "--seconds", "0.1", "--warmup", "0", "--reps", "1", "--json", "--no-plots");
        Assert.True(code == 0, error);
        string[] lines = output.Split('\n').Where(l => l.TrimStart().StartsWith('{')).ToArray();
        Assert.Equal(2, lines.Length); // umcg's and the threads'
        foreach (string line in lines)
        {
            using var doc = JsonDocument.Parse(line);
            var notes = doc.RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToArray();
            Assert.Contains("alive part measured in this process: it could not start itself again", notes);
            Assert.Equal(20, doc.RootElement.GetProperty("workers").GetInt32());
        }
    }
}
