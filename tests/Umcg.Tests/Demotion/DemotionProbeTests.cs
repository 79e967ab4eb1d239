using Umcg.Scheduling.Demotion;
using Xunit.Abstractions;

namespace Umcg.Tests.Demotion;

/// <summary>
/// The unprivileged modes, in a child process (Umcg.DemotionProbe) started without CAP_SYS_NICE
/// (<c>setpriv --bounding-set=-sys_nice</c>) at a chosen RLIMIT_NICE (<c>prlimit --nice</c>): it may demote its
/// threads but, below the limit the rule names, not restore them, and the kernel says so with the errno of each
/// way back (SCHED_IDLE → SCHED_OTHER: EPERM; nice 19 → 0: EACCES).
/// </summary>
public sealed class DemotionProbeTests(ITestOutputHelper output)
{
    [Fact]
    public void Without_CAP_SYS_NICE_or_RLIMIT_NICE_a_thread_may_be_demoted_but_not_restored()
    {
        if (RunProbe(niceLimit: 0) is not { } lines)
        {
            return;
        }

        Assert.Equal(("OneWay", "SchedIdle", "False", "0", "OneWay"), (lines["detect"]["mode"], lines["detect"]["mechanism"], lines["detect"]["cap"], lines["detect"]["limit"], lines["detect"]["nice19mode"]));

        // Demoted, and the kernel keeps it there: the way back is refused with each mechanism's own errno.
        var idle = lines["schedidle"];
        Assert.Equal(("SchedIdle", "5", "EPERM", "5"), (idle["demote"], idle["policy_demoted"], idle["restore"], idle["policy_restored"]));
        var nice = lines["nice19"];
        Assert.Equal(("Nice19", "19", "EACCES", "19"), (nice["demote"], nice["nice_demoted"], nice["restore"], nice["nice_restored"]));

        var counters = lines["counters"];
        Assert.Equal(("2", "0", "0", "2"), (counters["demotions"], counters["restorations"], counters["demotion_failures"], counters["restoration_failures"]));
    }

    [Theory]
    [InlineData(20, "Restorable")]
    [InlineData(19, "OneWay")]
    public void Without_CAP_SYS_NICE_RLIMIT_NICE_of_20_minus_n_restores_to_nice_n(int niceLimit, string mode)
    {
        // Raising RLIMIT_NICE's hard limit needs CAP_SYS_RESOURCE, which CI's root may lack: not required there.
        if (RunProbe(niceLimit, required: false) is not { } lines)
        {
            return;
        }

        Assert.Equal((mode, niceLimit.ToString(CultureInfo.InvariantCulture)), (lines["detect"]["mode"], lines["detect"]["limit"]));
        bool restorable = mode == nameof(DemotionMode.Restorable);
        Assert.Equal(restorable ? ("ok", "0") : ("EPERM", "5"), (lines["schedidle"]["restore"], lines["schedidle"]["policy_restored"]));
        Assert.Equal(restorable ? ("ok", "0") : ("EACCES", "19"), (lines["nice19"]["restore"], lines["nice19"]["nice_restored"]));
    }

    /// <summary>
    /// Runs the probe at RLIMIT_NICE <paramref name="niceLimit"/> without CAP_SYS_NICE, and parses its
    /// "name key=value ..." lines; null where it cannot run (outside CI, or where not <paramref name="required"/>).
    /// </summary>
    private Dictionary<string, Dictionary<string, string>>? RunProbe(int niceLimit, bool required = true)
    {
        if (Unavailable() is { } why)
        {
            Assert.False(required && Environment.GetEnvironmentVariable("CI") == "true", $"The unprivileged demotion test cannot run here, and CI requires it: {why}");
            output.WriteLine($"Not run: {why}");
            return null;
        }

        string limit = niceLimit.ToString(CultureInfo.InvariantCulture);
        var child = ChildProcess.Run(
            "prlimit",
            [$"--nice={limit}:{limit}", "setpriv", "--bounding-set=-sys_nice", "--inh-caps=-sys_nice", "--", ChildProcess.DotnetHost, ProbePath()],
            "the probe");
        output.WriteLine(child.Out);
        if (child.ExitCode != 0 && !required && child.Err.Contains("prlimit: failed to set the NICE resource limit", StringComparison.Ordinal))
        {
            output.WriteLine($"Not run: {child.Err}");
            return null;
        }

        Assert.True(child.ExitCode == 0, $"probe exit code {child.ExitCode}: {child.Out} {child.Err}");
        return child.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith("reason ", StringComparison.Ordinal))
            .Select(l => l.Split(' '))
            .ToDictionary(f => f[0], f => f.Skip(1).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1]));
    }

    private static string? Unavailable()
    {
        if (Environment.UserName != "root")
        {
            return $"dropping CAP_SYS_NICE from the bounding set needs root (running as {Environment.UserName})";
        }

        foreach (string tool in (string[])["setpriv", "prlimit"])
        {
            if (!Environment.GetEnvironmentVariable("PATH")!.Split(':').Any(dir => File.Exists(Path.Combine(dir, tool))))
            {
                return $"{tool} (util-linux) is not installed";
            }
        }

        return File.Exists(ProbePath()) ? null : $"the probe was not built at {ProbePath()}";
    }

    /// <summary>The probe's build output, beside this test assembly's (same configuration).</summary>
    private static string ProbePath()
    {
        var testBin = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar));
        string configuration = testBin.Parent!.Name;
        return Path.GetFullPath(Path.Combine(testBin.FullName, "../../../../Umcg.DemotionProbe/bin", configuration, testBin.Name, "Umcg.DemotionProbe.dll"));
    }
}
