namespace Umcg.Benchmarks.Detection;

/// <summary>
/// What one look at a thread through /proc costs: <c>stat</c>, <c>syscall</c> and <c>schedstat</c> of a
/// sleeping and of a spinning thread, read with pread on a descriptor kept open versus open+read+close.
/// </summary>
internal static class ProcReadCost
{
    public static void Print(int reads)
    {
        int sleeperTid = 0;
        int spinnerTid = 0;
        int stop = 0;
        using var release = new ManualResetEventSlim();
        var sleeper = new Thread(() =>
        {
            Volatile.Write(ref sleeperTid, UmcgKernel.CurrentTid);
            release.Wait();
        }) { IsBackground = true };
        var spinner = new Thread(() =>
        {
            Volatile.Write(ref spinnerTid, UmcgKernel.CurrentTid);
            while (Volatile.Read(ref stop) == 0)
            {
                Thread.SpinWait(100);
            }
        }) { IsBackground = true };
        sleeper.Start();
        spinner.Start();
        while (Volatile.Read(ref sleeperTid) == 0 || Volatile.Read(ref spinnerTid) == 0)
        {
            Thread.Yield();
        }

        Console.WriteLine("| thread | file | pread, kept open (us) | open+read+close (us) |");
        Console.WriteLine("|---|---|---:|---:|");
        foreach (var (what, tid) in new[] { ("sleeping", sleeperTid), ("spinning", spinnerTid) })
        {
            foreach (string file in new[] { "stat", "syscall", "schedstat" })
            {
                string path = string.Create(CultureInfo.InvariantCulture, $"/proc/self/task/{tid}/{file}");
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {what} | {file} | {Kept(path, reads):F2} | {Reopened(path, reads):F2} |"));
            }
        }

        Volatile.Write(ref stop, 1);
        release.Set();
    }

    /// <summary>The path as the open(2) seam takes it: UTF-8 ending with a NUL byte.</summary>
    private static byte[] NulTerminated(string path) => System.Text.Encoding.UTF8.GetBytes(path + "\0");

    private static double Kept(string path, int reads)
    {
        Span<byte> buffer = stackalloc byte[1024];
        int fd = LinuxSyscalls.OpenReadOnly(NulTerminated(path));
        try
        {
            var sw = Stopwatch.StartNew();
            for (int i = 0; i < reads; i++)
            {
                LinuxSyscalls.ReadAtStart(fd, buffer);
            }

            return sw.Elapsed.TotalMicroseconds / reads;
        }
        finally
        {
            LinuxSyscalls.Close(fd);
        }
    }

    private static double Reopened(string path, int reads)
    {
        Span<byte> buffer = stackalloc byte[1024];
        byte[] name = NulTerminated(path);
        var sw = Stopwatch.StartNew();
        for (int i = 0; i < reads; i++)
        {
            int fd = LinuxSyscalls.OpenReadOnly(name);
            LinuxSyscalls.ReadAtStart(fd, buffer);
            LinuxSyscalls.Close(fd);
        }

        return sw.Elapsed.TotalMicroseconds / reads;
    }
}
