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
    public async Task Bench_scale_measures_each_alive_part_in_a_child_process()
    {
        // The tool as a process of its own (in-process, as the other CLI tests run it, it cannot start itself again).
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args = ["exec", Path.Combine(AppContext.BaseDirectory, "Umcg.Cli.dll"), "bench", "scale", "--system", "threads",
            "--workers", "30", "--seconds", "0.1", "--warmup", "0", "--reps", "1", "--json", "--no-plots"];
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var tool = Process.Start(start) ?? throw new InvalidOperationException("umcg did not start");
        var errorRead = tool.StandardError.ReadToEndAsync();
        var outputRead = tool.StandardOutput.ReadToEndAsync();
        using (var watchdog = new CancellationTokenSource(Watchdog.Limit))
        {
            try
            {
                await tool.WaitForExitAsync(watchdog.Token);
            }
            catch (OperationCanceledException)
            {
                tool.Kill(entireProcessTree: true);
                Assert.Fail($"umcg bench scale did not finish within {Watchdog.Limit.TotalSeconds:0} s; stderr: {await errorRead}");
            }
        }

        string error = await errorRead;
        string output = await outputRead;
        Assert.True(tool.ExitCode == 0, error);
        var results = output.Split('\n').Where(l => l.TrimStart().StartsWith('{')).Select(l => JsonDocument.Parse(l)).ToArray();
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
        foreach (string line in output.Split('\n').Where(l => l.TrimStart().StartsWith('{')))
        {
            using var doc = JsonDocument.Parse(line);
            var notes = doc.RootElement.GetProperty("notes").EnumerateArray().Select(n => n.GetString()!).ToArray();
            Assert.Contains("alive part measured in this process: it could not start itself again", notes);
            Assert.Equal(20, doc.RootElement.GetProperty("workers").GetInt32());
        }
    }
}
