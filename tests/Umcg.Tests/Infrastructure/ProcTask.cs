namespace Umcg.Tests.Infrastructure;

/// <summary>What /proc says about a thread of this process.</summary>
public static class ProcTask
{
    /// <summary>The scheduler state letter of thread <paramref name="tid"/> of this process (R, S, D, ...), or null if /proc cannot say.</summary>
    public static char? ThreadState(int tid)
    {
        string? stat = ReadProc(tid, "stat");
        if (stat is null)
        {
            return null;
        }

        // "tid (comm) S ...": the name may hold anything, so look after its last ')'.
        int close = stat.LastIndexOf(')');
        return close >= 0 && close + 2 < stat.Length ? stat[close + 2] : null;
    }

    /// <summary>
    /// The system call thread <paramref name="tid"/> is blocked in, from /proc/self/task/TID/syscall; -1 if it is
    /// running or blocked outside a system call; null if /proc cannot say (file missing or not readable).
    /// </summary>
    public static long? CurrentSyscall(int tid)
    {
        string? text = ReadProc(tid, "syscall");
        if (text is null)
        {
            return null;
        }

        string first = text.Split(' ', 2)[0].Trim();
        return long.TryParse(first, NumberStyles.Integer, CultureInfo.InvariantCulture, out long nr) ? nr : -1;
    }

    private static string? ReadProc(int tid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/{file}");
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
}
