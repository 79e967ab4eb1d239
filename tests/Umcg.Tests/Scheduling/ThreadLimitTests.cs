using Xunit.Abstractions;

namespace Umcg.Tests.Scheduling;

/// <summary>
/// When the OS refuses a thread, Spawn fails with <see cref="UmcgThreadLimitException"/> naming the limits, and
/// everything else goes on. Proved in a child process inside a cgroup whose pids.max leaves room for a few
/// threads: no system-wide limit is touched, and root's exemption from RLIMIT_NPROC does not matter.
/// </summary>
public sealed class ThreadLimitTests(ITestOutputHelper output)
{
    private const string PidsRoot = "/sys/fs/cgroup/pids";

    // Threads the child may start beyond those it has when it enters the cgroup (its runtime's and its server's).
    private const int Headroom = 12;

    [Fact]
    public void The_exception_names_each_limit_with_its_value()
    {
        var e = new UmcgThreadLimitException(new OutOfMemoryException());
        Assert.IsAssignableFrom<InvalidOperationException>(e);
        Assert.IsType<OutOfMemoryException>(e.InnerException);
        foreach (var limit in (string[])["kernel.threads-max = ", "vm.max_map_count = ", "RLIMIT_NPROC", "threads in this process = ", "mappings in this process = "])
        {
            Assert.Contains(limit, e.Message, StringComparison.Ordinal);
        }

        Assert.Contains(File.ReadAllText("/proc/sys/kernel/threads-max").Trim(), e.Limits, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_thread_fails_only_its_own_spawn_in_a_cgroup_out_of_pids()
    {
        if (RunProbeInCgroup("spawn") is not var (verdict, message, max))
        {
            return;
        }

        // Every accepted body ran, the body spawned after the refusal ran, one refusal was counted.
        var fields = Fields(verdict);
        Assert.InRange(fields["accepted"], 1, Headroom);
        Assert.Equal(fields["accepted"], fields["completed"]);
        Assert.Equal(42, fields["after"]);
        Assert.Equal(1, fields["refusals"]);
        Assert.Contains("cgroup pids.max", message, StringComparison.Ordinal);
        Assert.Contains(max.ToString(CultureInfo.InvariantCulture), message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refused_server_thread_fails_the_constructor_and_stops_the_servers_it_had_started()
    {
        if (RunProbeInCgroup("start") is not var (verdict, message, max))
        {
            return;
        }

        // No server of the failed scheduler is left, and the scheduler that was already running still runs bodies.
        var fields = Fields(verdict);
        Assert.Equal(0, fields["leftover"]);
        Assert.Equal(42, fields["after"]);
        Assert.Contains("so the scheduler did not start", message, StringComparison.Ordinal);
        Assert.Contains(max.ToString(CultureInfo.InvariantCulture), message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the probe in <paramref name="mode"/> inside a new cgroup that allows it <see cref="Headroom"/> more
    /// threads; returns its "OK …" verdict line, its exception message and the pids.max it ran under, or null where
    /// the test cannot run (outside CI only).
    /// </summary>
    private (string Verdict, string Message, int Max)? RunProbeInCgroup(string mode)
    {
        if (Unavailable() is { } why)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"The thread-limit test cannot run here, and CI requires it: {why}");
            output.WriteLine($"Not run: {why}");
            return null;
        }

        string cgroup = Path.Combine(PidsRoot, $"umcg-thread-limit-{Environment.ProcessId}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(cgroup);
        using var child = StartProbe(mode);
        try
        {
            Assert.Equal("ready", ReadLine(child, "the probe starting"));

            // Moved in with the threads it has; from now on it may start only Headroom more.
            File.WriteAllText(Path.Combine(cgroup, "cgroup.procs"), child.Id.ToString(CultureInfo.InvariantCulture));
            int current = int.Parse(File.ReadAllText(Path.Combine(cgroup, "pids.current")).Trim(), CultureInfo.InvariantCulture);
            File.WriteAllText(Path.Combine(cgroup, "pids.max"), (current + Headroom).ToString(CultureInfo.InvariantCulture));
            child.StandardInput.WriteLine("go");
            child.StandardInput.Flush();

            string verdict = ReadLine(child, "the probe's verdict");
            string message = ReadLine(child, "the probe's exception message");
            Assert.True(child.WaitForExit(Watchdog.Limit), "the probe did not exit");
            output.WriteLine(verdict);
            output.WriteLine(message);
            Assert.True(child.ExitCode == 0, $"probe exit code {child.ExitCode}: {verdict} {message} {child.StandardError.ReadToEnd()}");
            Assert.StartsWith("OK ", verdict, StringComparison.Ordinal);
            return (verdict, message, current + Headroom);
        }
        finally
        {
            if (!child.HasExited)
            {
                child.Kill();
                child.WaitForExit();
            }

            RemoveCgroup(cgroup);
        }
    }

    private static Dictionary<string, int> Fields(string verdict) =>
        verdict[3..].Split(' ').Select(f => f.Split('=')).ToDictionary(f => f[0], f => int.Parse(f[1], CultureInfo.InvariantCulture));

    private static string? Unavailable()
    {
        if (!File.Exists(Path.Combine(PidsRoot, "cgroup.procs")))
        {
            return $"no cgroup v1 pids hierarchy at {PidsRoot}";
        }

        if (Environment.UserName != "root")
        {
            return $"creating a cgroup needs root (running as {Environment.UserName})";
        }

        return File.Exists(ProbePath()) ? null : $"the probe was not built at {ProbePath()}";
    }

    /// <summary>The probe's build output, beside this test assembly's (same configuration).</summary>
    private static string ProbePath()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string configuration = testBin.Parent!.Name;
        return Path.GetFullPath(Path.Combine(testBin.FullName, "../../../../Umcg.ThreadLimitProbe/bin", configuration, testBin.Name, "Umcg.ThreadLimitProbe.dll"));
    }

    private static Process StartProbe(string mode)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(ProbePath());
        start.ArgumentList.Add(mode);
        return Process.Start(start) ?? throw new InvalidOperationException("the probe did not start");
    }

    private static string ReadLine(Process child, string what)
    {
        var line = child.StandardOutput.ReadLineAsync();
        if (!line.Wait(Watchdog.Limit))
        {
            child.Kill();
            Assert.Fail($"stalled waiting for {what}");
        }

        return line.Result ?? $"(end of output; stderr: {child.StandardError.ReadToEnd()})";
    }

    private static void RemoveCgroup(string cgroup)
    {
        // rmdir succeeds once the exited child is no longer counted in the group.
        var sw = Stopwatch.StartNew();
        while (Directory.Exists(cgroup))
        {
            try
            {
                Directory.Delete(cgroup);
            }
            catch (IOException) when (sw.Elapsed < Watchdog.Limit)
            {
                Thread.Yield();
            }
        }
    }
}
