namespace Umcg.Cli.Workloads.GcPause;

/// <summary>
/// CPU hogs the GC cannot stop: one shell loop per CPU, each a child process in this process's session, so in its
/// autogroup, where a demoted thread's weight counts against theirs. They stand for whatever keeps a CPU busy
/// beside a demoted worker without ever reaching a GC safe point: long native calls, system calls, other processes
/// of the session. Disposing kills them.
/// </summary>
internal sealed class HogProcesses : IDisposable
{
    private readonly List<Process> _hogs = [];

    public HogProcesses(int count)
    {
        try
        {
            for (int i = 0; i < count; i++)
            {
                var start = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
                start.ArgumentList.Add("-c");
                start.ArgumentList.Add("while :; do :; done");
                _hogs.Add(Process.Start(start) ?? throw new InvalidOperationException("a hog process did not start"));
            }
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (var hog in _hogs)
        {
            if (!hog.HasExited)
            {
                hog.Kill();
            }

            hog.WaitForExit();
            hog.Dispose();
        }

        _hogs.Clear();
    }
}
