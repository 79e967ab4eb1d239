namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// The limits that decide how many threads this process may start, read once before a run: the pid space and the
/// kernel's thread limit (both shared by every process on the machine), the mappings this process may hold
/// (<c>vm.max_map_count</c>: every thread takes a few), the per-user thread limit and the pids controller of the
/// process's cgroup. Unreadable values are null: they do not limit the plan.
/// </summary>
/// <param name="PidMax"><c>kernel.pid_max</c>: a thread takes a pid.</param>
/// <param name="ThreadsMax"><c>kernel.threads-max</c>.</param>
/// <param name="TasksOnMachine">Threads on the whole machine now (the fourth field of <c>/proc/loadavg</c>).</param>
/// <param name="MaxMapCount"><c>vm.max_map_count</c>: mappings per process.</param>
/// <param name="ProcessMappings">Mappings this process holds now (lines of <c>/proc/self/maps</c>).</param>
/// <param name="ProcessThreads">Threads of this process now.</param>
/// <param name="NprocSoft">The soft <c>RLIMIT_NPROC</c> (ulimit -u); null when unlimited, unreadable, or not applied (root).</param>
/// <param name="CgroupPidsLeft"><c>pids.max</c> − <c>pids.current</c> of the process's cgroup; null when unlimited or absent.</param>
/// <param name="Privileged">Whether the process may write sysctls (root).</param>
internal sealed record HostLimits(
    long? PidMax,
    long? ThreadsMax,
    long? TasksOnMachine,
    long? MaxMapCount,
    long ProcessMappings,
    long ProcessThreads,
    long? NprocSoft,
    long? CgroupPidsLeft,
    bool Privileged)
{
    /// <summary>Where <c>vm.max_map_count</c> lives under a proc root.</summary>
    public const string MaxMapCountFile = "sys/vm/max_map_count";

    /// <summary>Reads the limits of this machine and process; <paramref name="procRoot"/> is <c>/proc</c> but for tests.</summary>
    public static HostLimits Read(string procRoot = "/proc")
    {
        bool privileged = Environment.IsPrivilegedProcess;
        return new HostLimits(
            PidMax: ReadLong(Path.Combine(procRoot, "sys/kernel/pid_max")),
            ThreadsMax: ReadLong(Path.Combine(procRoot, "sys/kernel/threads-max")),
            TasksOnMachine: TasksFromLoadAvg(ReadText(Path.Combine(procRoot, "loadavg"))),
            MaxMapCount: ReadLong(Path.Combine(procRoot, MaxMapCountFile)),
            ProcessMappings: CountLines(Path.Combine(procRoot, "self/maps")),
            ProcessThreads: StatusField(ReadText(Path.Combine(procRoot, "self/status")), "Threads") ?? 1,
            NprocSoft: privileged ? null : Nproc(),
            CgroupPidsLeft: procRoot == "/proc" ? ReadCgroupPidsLeft() : null,
            Privileged: privileged);
    }

    /// <summary>
    /// One line naming each configured limit and its value, for the report; the counts that change from run to
    /// run (threads on the machine, mappings of the process) are left to the figures.
    /// </summary>
    public string Describe()
    {
        static string Of(long? v) => v?.ToString("N0", CultureInfo.InvariantCulture) ?? "?";
        var parts = new List<string>
        {
            $"pid_max {Of(PidMax)}",
            $"threads-max {Of(ThreadsMax)}",
            $"vm.max_map_count {Of(MaxMapCount)}",
            $"RLIMIT_NPROC {(NprocSoft is null ? Privileged ? "not applied (root)" : "unlimited" : Of(NprocSoft))}",
        };
        if (CgroupPidsLeft is not null)
        {
            parts.Add($"cgroup pids left {Of(CgroupPidsLeft)}");
        }

        return string.Join(", ", parts);
    }

    /// <summary>The fourth field of /proc/loadavg is "runnable/total" scheduling entities: total is every thread on the machine.</summary>
    internal static long? TasksFromLoadAvg(string? loadavg)
    {
        var fields = loadavg?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (fields is not { Length: >= 4 })
        {
            return null;
        }

        int slash = fields[3].IndexOf('/', StringComparison.Ordinal);
        return slash > 0 && long.TryParse(fields[3].AsSpan(slash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long total) ? total : null;
    }

    private static long? StatusField(string? status, string field)
    {
        string? line = status?.Split('\n').FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return line is not null && long.TryParse(line.AsSpan(field.Length + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;
    }

    private static long? Nproc()
    {
        if (LinuxSyscalls.ThreadCountLimit() is not var (soft, _) || soft > long.MaxValue)
        {
            return null;
        }

        return (long)soft;
    }

    private static long? ReadCgroupPidsLeft()
    {
        if (ThreadLimits.PidsCgroup() is not { } dir)
        {
            return null;
        }

        long? max = ReadLong(Path.Combine(dir, "pids.max"));
        long? current = ReadLong(Path.Combine(dir, "pids.current"));
        return max is long m && current is long c ? m - c : null;
    }

    private static long? ReadLong(string path) =>
        long.TryParse(ReadText(path)?.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long v) ? v : null;

    private static string? ReadText(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static long CountLines(string path)
    {
        try
        {
            return File.ReadLines(path).LongCount();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
