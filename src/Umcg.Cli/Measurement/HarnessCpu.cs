namespace Umcg.Cli.Measurement;

/// <summary>
/// CPU time of the harness's own threads — the pipe device that answers the workloads' pipe reads, and the
/// utilization sampler — read from <c>/proc/self/task/*/schedstat</c> (nanoseconds on a CPU) for the threads whose
/// names say so. Reported beside a run's figures as a share of the machine, so that what the harness costs is not
/// counted against (or hidden in) the system under test.
/// </summary>
internal static class HarnessCpu
{
    private static readonly string[] s_names = ["umcg-cli pipe d", "umcg-cli sample"];

    /// <summary>Nanoseconds the harness's live threads have run so far (0 where /proc cannot be read).</summary>
    public static long Now()
    {
        long total = 0;
        try
        {
            foreach (string task in Directory.EnumerateDirectories("/proc/self/task"))
            {
                if (IsHarness(ReadOrEmpty(Path.Combine(task, "comm")).Trim())
                    && long.TryParse(ReadOrEmpty(Path.Combine(task, "schedstat")).Split(' ')[0], out long ns))
                {
                    total += ns;
                }
            }
        }
        catch (IOException)
        {
            return 0;
        }
        catch (UnauthorizedAccessException)
        {
            return 0;
        }

        return total;
    }

    private static bool IsHarness(string comm) => Array.Exists(s_names, n => comm.StartsWith(n, StringComparison.Ordinal));

    // A thread may end between the listing and the read.
    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (IOException)
        {
            return string.Empty;
        }
    }
}
