using System.Reflection;
using System.Text.Json;

namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// The alive part measured in a process of its own: this tool again, as <c>umcg run scale --system S --json</c>, whose
/// alive figures replace the ones this process would measure.
/// </summary>
/// <remarks>
/// Why: in one process, whichever system first holds 25,000 threads pays growth the process keeps after they are gone,
/// whatever it gives back first (at 25,000 on 2 CPUs: 18.8 KB per Umcg worker and 11.4 KB per plain thread with Umcg
/// first, 12.5 and 17.0 KB with plain threads first), and a system measured after another reuses what that one left
/// (3.8–11.6 KB per Umcg worker after 25,000 plain threads). A fresh process for each system and repetition measures
/// what holding that many costs from the same start (docs/benchmarks-workloads.md, "Which system goes first").
/// </remarks>
internal static class FreshProcess
{
    /// <summary>The figures of the alive part, copied from the child's result.</summary>
    private static readonly string[] AliveFigures =
    [
        "workers", "workers_requested", "threads_on_machine_before", "mappings_before", "max_map_count_raised_to",
        "spawn_per_s", "teardown_per_s", "spawn_s", "teardown_s", "cold_spawn_p50_us", "cold_spawn_p99_us",
        "rss_per_worker_bytes", "managed_per_worker_bytes", "gc_committed_per_worker_bytes", "native_heap_per_worker_bytes",
        "threads_at_peak", "c_heap_trimmed_first",
    ];

    /// <summary>
    /// Measures the alive part of <paramref name="system"/> in a child process and adds its figures and notes to
    /// <paramref name="result"/>; false, having changed nothing, when this process cannot start itself again (it is
    /// not the tool: a test host).
    /// </summary>
    /// <exception cref="InvalidOperationException">The child failed or printed no result.</exception>
    public static bool TryMeasure(string system, WorkloadSettings settings, WorkloadResult result, TimeSpan limit)
    {
        if (Self() is not var (file, prefix))
        {
            return false;
        }

        string folder = Path.Combine(Path.GetTempPath(), $"umcg-scale-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in prefix.Concat(Arguments(system, settings, folder)))
        {
            start.ArgumentList.Add(arg);
        }

        try
        {
            using var child = Process.Start(start) ?? throw new InvalidOperationException($"scale on {system}: the child process did not start");
            // Both streams read while it runs (a full pipe would stop it), the wait bounded: a stalled child is killed.
            var error = child.StandardError.ReadToEndAsync();
            var output = child.StandardOutput.ReadToEndAsync();
            if (!child.WaitForExit(limit))
            {
                child.Kill(entireProcessTree: true);
                throw new TimeoutException($"scale on {system}: the child process did not finish within {limit.TotalSeconds:0} s");
            }

            string? line = output.GetAwaiter().GetResult().Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'));
            if (child.ExitCode != 0 || line is null)
            {
                string[] said = error.GetAwaiter().GetResult().Trim().Split('\n');
                throw new InvalidOperationException($"scale on {system}: the child process ended with {child.ExitCode}: {string.Join('\n', said.TakeLast(10))}");
            }

            Copy(line, result);
            result.Notes.Add($"alive part measured in a fresh process (pid {child.Id})");
            result.Notes.Add("other_processes_cpu_share counts that process too");
            return true;
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>How to start this tool again: the apphost itself, or the .NET host with the tool's assembly; null if this process is not the tool.</summary>
    private static (string File, string[] Prefix)? Self()
    {
        var entry = Assembly.GetEntryAssembly();
        string? host = Environment.ProcessPath;
        if (entry is null || host is null || entry.GetName().Name != typeof(FreshProcess).Assembly.GetName().Name)
        {
            return null;
        }

        string name = Path.GetFileNameWithoutExtension(host);
        if (name.Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            return string.IsNullOrEmpty(entry.Location) ? null : (host, ["exec", entry.Location]);
        }

        return (host, []);
    }

    /// <summary>The child's command line: the same workers, servers and OS slice, its own warm-up, JSON out.</summary>
    private static IEnumerable<string> Arguments(string system, WorkloadSettings settings, string folder)
    {
        string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
        yield return "run";
        yield return "scale";
        yield return "--system";
        yield return system;
        yield return "--seconds";
        yield return Invariant(Math.Min(settings.Duration.TotalSeconds, 0.2)); // the child's warm part is not used
        yield return "--servers";
        yield return Invariant(settings.Servers);
        if (settings.Workers is int workers)
        {
            yield return "--workers";
            yield return Invariant(workers);
        }

        yield return "--os-slice";
        yield return Invariant(settings.OsTimeSlice?.TotalMicroseconds ?? 0);
        yield return "--os-slice-mode";
        yield return settings.OsTimeSliceMode == OsTimeSliceMode.Always ? "always" : "contended";
        yield return "--json";
        yield return "--no-plots";
        yield return "--out";
        yield return folder;
    }

    private static void Copy(string json, WorkloadResult result)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        foreach (string key in AliveFigures)
        {
            if (root.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number)
            {
                result.Extra[key] = value.GetDouble();
            }
        }

        if (root.TryGetProperty("notes", out var notes) && notes.ValueKind == JsonValueKind.Array)
        {
            foreach (var note in notes.EnumerateArray())
            {
                if (note.GetString() is { } text)
                {
                    result.Notes.Add(text);
                }
            }
        }
    }
}
