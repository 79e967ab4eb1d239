using System.Globalization;
using Umcg.Kernel.Native;

namespace Umcg.Scheduling;

/// <summary>
/// Reads the limits that make Linux refuse a thread, for a message that names them: the system's
/// <c>threads-max</c>, the per-process mapping limit <c>vm.max_map_count</c> (each thread takes a few mappings),
/// the per-user <c>RLIMIT_NPROC</c> (ulimit -u; root is exempt), and the pids controller of the process's
/// cgroup. Only reads files and makes one call: it must work when no thread can be created.
/// </summary>
internal static class ThreadLimits
{
    private const ulong RlimInfinity = ulong.MaxValue;

    /// <summary>One line naming each limit and its value (unreadable ones are left out).</summary>
    public static string Describe()
    {
        var parts = new List<string>();
        Add(parts, "threads in this process", StatusField("Threads"));
        Add(parts, "kernel.threads-max", ReadTrimmed("/proc/sys/kernel/threads-max"));
        Add(parts, "vm.max_map_count", ReadTrimmed("/proc/sys/vm/max_map_count"));
        Add(parts, "mappings in this process", CountLines("/proc/self/maps"));
        Add(parts, "RLIMIT_NPROC (ulimit -u, not applied to root)", Nproc());
        if (PidsCgroup() is { } dir)
        {
            Add(parts, $"cgroup pids.max ({dir})", ReadTrimmed(Path.Combine(dir, "pids.max")));
            Add(parts, "cgroup pids.current", ReadTrimmed(Path.Combine(dir, "pids.current")));
        }

        return string.Join("; ", parts);
    }

    /// <summary>
    /// The directory of this process's pids cgroup: the v1 <c>pids</c> hierarchy if mounted, else the v2 unified
    /// one if it has a <c>pids.max</c>; null if neither.
    /// </summary>
    internal static string? PidsCgroup()
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines("/proc/self/cgroup");
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }

        foreach (var line in lines)
        {
            // hierarchy-ID:controller-list:path; v1 names "pids" in the list, v2 has "0::path".
            var fields = line.Split(':', 3);
            if (fields.Length != 3)
            {
                continue;
            }

            string? dir = fields[1].Split(',').Contains("pids") ? "/sys/fs/cgroup/pids" + fields[2]
                : fields[0] == "0" && fields[1].Length == 0 ? "/sys/fs/cgroup" + fields[2]
                : null;
            if (dir is not null && File.Exists(Path.Combine(dir, "pids.max")))
            {
                return dir;
            }
        }

        return null;
    }

    private static void Add(List<string> parts, string name, string? value)
    {
        if (value is not null)
        {
            parts.Add($"{name} = {value}");
        }
    }

    private static string? ReadTrimmed(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? StatusField(string field)
    {
        var status = ReadTrimmed("/proc/self/status");
        return status?.Split('\n').FirstOrDefault(l => l.StartsWith(field + ":", StringComparison.Ordinal))?[(field.Length + 1)..].Trim();
    }

    private static string? CountLines(string path)
    {
        try
        {
            return File.ReadLines(path).Count().ToString(CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? Nproc()
    {
        if (LinuxSyscalls.ThreadCountLimit() is not var (soft, hard))
        {
            return null;
        }

        static string Of(ulong v) => v == RlimInfinity ? "unlimited" : v.ToString(CultureInfo.InvariantCulture);
        return $"{Of(soft)} (hard {Of(hard)})";
    }
}
