namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// How many workers a scale run can hold at once on this machine, and whether <c>vm.max_map_count</c> must be
/// raised for them. Linux refuses a thread past any of the limits of <see cref="HostLimits"/>; past the mapping
/// limit it is worse: the .NET runtime cannot map memory for its own code and ends the process. So the plan keeps
/// below every limit with room to spare, raises the mapping limit where it may (root), and otherwise scales the
/// count down and says why.
/// </summary>
/// <param name="Requested">The count asked for.</param>
/// <param name="Workers">The count to run (0: none fit).</param>
/// <param name="RaiseMapCountTo">The value to write to <c>vm.max_map_count</c> before the run; null to leave it.</param>
/// <param name="Notes">What limited the count, and what was raised; the same for every run on an unchanged machine, so that repetitions share them.</param>
internal sealed record ScalePlan(int Requested, int Workers, long? RaiseMapCountTo, IReadOnlyList<string> Notes)
{
    /// <summary>
    /// Mappings one thread adds: its stack and the stack's guard page, and the runtime's alternate signal stack
    /// and its guard (measured in /proc/self/smaps with 25,000 threads: 4 per thread).
    /// </summary>
    public const int MappingsPerThread = 4;

    /// <summary>
    /// Mappings kept free for everything else the process maps during the run (managed heap regions, native
    /// heap arenas, jitted code): a fixed part plus a share of the count.
    /// </summary>
    public static long MappingReserve(int workers) => 4096 + workers / 8;

    /// <summary>Threads left to the rest of the machine and to this process's own helpers (servers, sampler, runtime threads).</summary>
    public const int TaskReserve = 512;

    /// <summary>Plans <paramref name="requested"/> workers under <paramref name="limits"/>.</summary>
    public static ScalePlan For(HostLimits limits, int requested)
    {
        var notes = new List<string>();
        int workers = requested;
        void Limit(long? room, string why)
        {
            if (room is long r && r < workers)
            {
                workers = (int)Math.Max(0, r);
                notes.Add($"{why}: {workers:N0} workers fit");
            }
        }

        // The pid space and threads-max are shared by every process on the machine.
        long? pidLimit = (limits.PidMax, limits.ThreadsMax) switch
        {
            (long p, long t) => Math.Min(p, t),
            (long p, null) => p,
            (null, long t) => t,
            _ => null,
        };
        Limit(pidLimit - (limits.TasksOnMachine ?? 0) - TaskReserve, $"pid_max {limits.PidMax:N0} / threads-max {limits.ThreadsMax:N0} with {limits.TasksOnMachine:N0} threads on the machine");

        // RLIMIT_NPROC counts every thread of the user; the machine's count is an upper bound of that.
        Limit(limits.NprocSoft - (limits.TasksOnMachine ?? 0) - TaskReserve, $"RLIMIT_NPROC (ulimit -u) {limits.NprocSoft:N0}");
        Limit(limits.CgroupPidsLeft - TaskReserve, $"the cgroup's pids.max leaves {limits.CgroupPidsLeft:N0} threads");

        long? raiseTo = null;
        if (limits.MaxMapCount is long maxMaps)
        {
            long needed = limits.ProcessMappings + ((long)workers * MappingsPerThread) + MappingReserve(workers);
            if (needed > maxMaps && limits.Privileged)
            {
                raiseTo = needed;
                notes.Add($"vm.max_map_count raised from {maxMaps:N0} for the run ({MappingsPerThread} mappings per thread; the value: max_map_count_raised_to), restored afterwards");
            }
            else if (needed > maxMaps)
            {
                long room = (maxMaps - limits.ProcessMappings - MappingReserve(workers)) / MappingsPerThread;
                Limit(room, $"vm.max_map_count {maxMaps:N0} cannot be raised without root (sysctl -w vm.max_map_count={needed})");
            }
        }

        if (workers < requested)
        {
            notes.Insert(0, $"scaled down from {requested:N0} to {workers:N0} workers");
        }

        return new ScalePlan(requested, workers, raiseTo, notes);
    }
}
