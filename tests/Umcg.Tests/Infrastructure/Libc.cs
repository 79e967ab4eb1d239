using System.Globalization;
using System.Runtime.InteropServices;

namespace Umcg.Tests.Infrastructure;

/// <summary>Real blocking system calls for tests, and what /proc says about a thread.</summary>
public static unsafe partial class Libc
{
    /// <summary>nanosleep(2) on x86-64.</summary>
    public const long SysNanosleep = 35;

    /// <summary>clock_nanosleep(2) on x86-64 (what glibc's nanosleep calls).</summary>
    public const long SysClockNanosleep = 230;

    private const int EINTR = 4;

    [StructLayout(LayoutKind.Sequential)]
    private struct Timespec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "nanosleep", SetLastError = true)]
    private static partial int NanosleepNative(Timespec* request, Timespec* remaining);

    /// <summary>Sleeps in the kernel for <paramref name="nanoseconds"/> through nanosleep(2), restarting after a signal.</summary>
    public static void Nanosleep(long nanoseconds)
    {
        var request = new Timespec { Seconds = nanoseconds / 1_000_000_000, Nanoseconds = nanoseconds % 1_000_000_000 };
        Timespec remaining;
        while (NanosleepNative(&request, &remaining) != 0)
        {
            int errno = Marshal.GetLastSystemError();
            if (errno != EINTR)
            {
                throw new InvalidOperationException($"nanosleep: errno {errno}");
            }

            request = remaining;
        }
    }

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
