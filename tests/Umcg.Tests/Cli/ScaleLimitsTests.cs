using Umcg.Cli.Workloads.Scale;

namespace Umcg.Tests.Cli;

/// <summary>The scale workload's planning against the machine's limits, and its raise and restore of a sysctl, on fake files.</summary>
public sealed class ScaleLimitsTests : IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), $"umcg-scale-test-{Guid.NewGuid():N}");

    /// <summary>A machine like this one: pid_max 32,768 and the default mapping limit, root, nothing else in the way.</summary>
    private static readonly HostLimits Here = new(
        PidMax: 32_768, ThreadsMax: 192_735, TasksOnMachine: 300, MaxMapCount: 65_530, ProcessMappings: 400,
        ProcessThreads: 20, NprocSoft: null, CgroupPidsLeft: null, Privileged: true);

    public ScaleLimitsTests() => Directory.CreateDirectory(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void Limits_are_read_from_the_proc_files()
    {
        Write("sys/kernel/pid_max", "32768\n");
        Write("sys/kernel/threads-max", "192735\n");
        Write("sys/vm/max_map_count", "65530\n");
        Write("loadavg", "0.27 1.80 7.46 3/345 12345\n");
        Write("self/maps", string.Concat(Enumerable.Repeat("00400000-00452000 r-xp 00000000 08:02 173521 /usr/bin/x\n", 7)));
        Write("self/status", "Name:\tx\nThreads:\t13\nVmRSS:\t100 kB\n");

        var limits = HostLimits.Read(_root);

        Assert.Equal(32_768, limits.PidMax);
        Assert.Equal(192_735, limits.ThreadsMax);
        Assert.Equal(65_530, limits.MaxMapCount);
        Assert.Equal(345, limits.TasksOnMachine);
        Assert.Equal(7, limits.ProcessMappings);
        Assert.Equal(13, limits.ProcessThreads);
    }

    [Fact]
    public void Missing_or_garbled_files_leave_their_limit_unknown()
    {
        Write("sys/kernel/pid_max", "many\n");
        Write("loadavg", "0.27 1.80\n");

        var limits = HostLimits.Read(_root);

        Assert.Null(limits.PidMax);
        Assert.Null(limits.ThreadsMax);
        Assert.Null(limits.MaxMapCount);
        Assert.Null(limits.TasksOnMachine);
        Assert.Equal(0, limits.ProcessMappings);
        Assert.Equal(25_000, ScalePlan.For(limits with { Privileged = false }, 25_000).Workers);
    }

    [Fact]
    public void Root_keeps_the_count_and_raises_the_mapping_limit_to_what_it_needs()
    {
        var plan = ScalePlan.For(Here, 25_000);

        Assert.Equal(25_000, plan.Workers);
        long needed = 400 + (25_000 * ScalePlan.MappingsPerThread) + ScalePlan.MappingReserve(25_000);
        Assert.Equal(needed, plan.RaiseMapCountTo);
        Assert.Contains(plan.Notes, n => n.Contains("vm.max_map_count raised from 65,530", StringComparison.Ordinal) && n.Contains("restored", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_root_the_count_shrinks_to_what_the_mapping_limit_holds()
    {
        var plan = ScalePlan.For(Here with { Privileged = false }, 25_000);

        Assert.Null(plan.RaiseMapCountTo);
        Assert.InRange(plan.Workers, 10_000, 24_999);
        Assert.True(400 + ((long)plan.Workers * ScalePlan.MappingsPerThread) + ScalePlan.MappingReserve(plan.Workers) <= 65_530);
        Assert.StartsWith("scaled down from 25,000 to", plan.Notes[0], StringComparison.Ordinal);
        Assert.Contains(plan.Notes, n => n.Contains("sysctl -w vm.max_map_count=", StringComparison.Ordinal));
    }

    [Fact]
    public void The_pid_space_shared_with_the_machine_bounds_the_count()
    {
        var plan = ScalePlan.For(Here with { TasksOnMachine = 10_000, MaxMapCount = 1_000_000 }, 25_000);

        Assert.Equal(32_768 - 10_000 - ScalePlan.TaskReserve, plan.Workers);
        Assert.Null(plan.RaiseMapCountTo);
        Assert.Contains(plan.Notes, n => n.StartsWith("pid_max", StringComparison.Ordinal));
    }

    [Fact]
    public void The_user_and_cgroup_thread_limits_bound_the_count()
    {
        Assert.Equal(5_000 - 300 - ScalePlan.TaskReserve, ScalePlan.For(Here with { NprocSoft = 5_000 }, 25_000).Workers);
        Assert.Equal(3_000 - ScalePlan.TaskReserve, ScalePlan.For(Here with { CgroupPidsLeft = 3_000 }, 25_000).Workers);
    }

    [Fact]
    public void When_nothing_fits_the_plan_runs_no_worker_and_says_why()
    {
        var plan = ScalePlan.For(Here with { TasksOnMachine = 32_700 }, 25_000);

        Assert.Equal(0, plan.Workers);
        Assert.StartsWith("scaled down from 25,000 to 0", plan.Notes[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_count_that_fits_changes_nothing()
    {
        var plan = ScalePlan.For(Here, 1_000);

        Assert.Equal(1_000, plan.Workers);
        Assert.Null(plan.RaiseMapCountTo);
        Assert.Empty(plan.Notes);
    }

    [Fact]
    public void A_raised_sysctl_is_written_and_put_back_once()
    {
        string file = Write("max_map_count", "65530\n");

        using (var raised = RaisedSysctl.TryRaise(file, 200_000, out string? refusal))
        {
            Assert.Null(refusal);
            Assert.NotNull(raised);
            Assert.Equal("200000", File.ReadAllText(file));
            Assert.Equal("65530", raised.Original);
            Assert.False(raised.Restored);

            raised.Dispose();
            Assert.True(raised.Restored);
            Assert.Equal("65530", File.ReadAllText(file));

            // A later change by someone else is not overwritten by a second restore.
            File.WriteAllText(file, "70000");
        }

        Assert.Equal("70000", File.ReadAllText(file));
    }

    [Fact]
    public void A_raised_sysctl_is_put_back_when_the_run_fails()
    {
        string file = Write("max_map_count", "65530");

        void RunThatStalls()
        {
            using var raised = RaisedSysctl.TryRaise(file, 200_000, out _);
            Assert.Equal("200000", File.ReadAllText(file));
            throw new TimeoutException("the run stalled");
        }

        Assert.Throws<TimeoutException>(RunThatStalls);

        Assert.Equal("65530", File.ReadAllText(file));
    }

    [Fact]
    public void A_sysctl_already_high_enough_is_left_alone()
    {
        string file = Write("max_map_count", "262144\n");

        var raised = RaisedSysctl.TryRaise(file, 200_000, out string? refusal);

        Assert.Null(raised);
        Assert.Null(refusal);
        Assert.Equal("262144\n", File.ReadAllText(file));
    }

    [Fact]
    public void A_sysctl_that_cannot_be_read_or_written_gives_a_reason_and_no_raise()
    {
        var unread = RaisedSysctl.TryRaise(Path.Combine(_root, "absent", "max_map_count"), 200_000, out string? readRefusal);
        Assert.Null(unread);
        Assert.StartsWith("cannot read", readRefusal, StringComparison.Ordinal);

        // Read-only even for root (mode 0444 in /proc/sys).
        var unwritten = RaisedSysctl.TryRaise("/proc/sys/kernel/ngroups_max", long.MaxValue, out string? writeRefusal);
        Assert.Null(unwritten);
        Assert.StartsWith("cannot write /proc/sys/kernel/ngroups_max", writeRefusal, StringComparison.Ordinal);
    }

    private string Write(string relative, string text)
    {
        string path = Path.Combine(_root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }
}
