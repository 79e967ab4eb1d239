using System.Text;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// What the OS knows about each task's thread at a stall, appended to a watchdog's dump: whether the thread is
/// runnable or asleep (and where in the kernel), so a stall report tells a spinning loop from a lost wake-up.
/// With the environment variable <c>UMCG_STALL_STACKS</c> naming a <c>dotnet-stack</c> executable, the managed
/// stacks of every thread of the test process are appended as well (for reproduction runs; slow).
/// </summary>
public static class StallEvidence
{
    public static string Describe(UmcgKernel kernel)
    {
        var text = new StringBuilder();
        text.AppendLine("OS threads (state, kernel wait channel, top of kernel stack):");
        foreach (var task in kernel.Snapshot())
        {
            string dir = $"/proc/self/task/{task.Tid}";
            text.Append(CultureInfo.InvariantCulture, $"  tid={task.Tid,-8} {ThreadState(dir),-3} wchan={Read(Path.Combine(dir, "wchan")),-24}");
            text.AppendLine(string.Join(" < ", Read(Path.Combine(dir, "stack")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Take(3).Select(Frame)));
        }

        if (Environment.GetEnvironmentVariable("UMCG_STALL_STACKS") is { Length: > 0 } tool)
        {
            text.AppendLine("Managed stacks:").AppendLine(ManagedStacks(tool));
        }

        return text.ToString();
    }

    /// <summary>The state letter of /proc/.../stat (R running, S sleeping, D uninterruptible), or "-" if the thread is gone.</summary>
    private static string ThreadState(string dir)
    {
        string stat = Read(Path.Combine(dir, "stat"));
        int close = stat.LastIndexOf(')');
        return close >= 0 && close + 2 < stat.Length ? stat[(close + 2)..(close + 3)] : "-";
    }

    private static string Frame(string line)
    {
        // "[<0>] futex_wait_queue+0x60/0x90" → "futex_wait_queue"
        string frame = line.Contains("] ", StringComparison.Ordinal) ? line[(line.IndexOf("] ", StringComparison.Ordinal) + 2)..] : line;
        int plus = frame.IndexOf('+', StringComparison.Ordinal);
        return plus > 0 ? frame[..plus] : frame;
    }

    private static string Read(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "?";
        }
    }

    private static string ManagedStacks(string tool)
    {
        try
        {
            var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            start.ArgumentList.Add("report");
            start.ArgumentList.Add("-p");
            start.ArgumentList.Add(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(120)))
            {
                process.Kill();
                return "(dotnet-stack did not finish)";
            }

            return output.Result;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"(dotnet-stack failed: {e.Message})";
        }
    }
}
