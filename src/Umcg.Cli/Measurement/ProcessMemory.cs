namespace Umcg.Cli.Measurement;

/// <summary>What the process holds in memory, from /proc/self/status.</summary>
internal static class ProcessMemory
{
    /// <summary>Resident set size in bytes (VmRSS).</summary>
    public static long RssBytes()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                string kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return 0;
    }

    /// <summary>Managed heap after a full blocking collection.</summary>
    public static long ManagedBytes()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    /// <summary>
    /// A full collection that also gives the heap's free memory back to the OS (<see cref="GCCollectionMode.Aggressive"/>),
    /// so that memory an earlier run freed is not counted again, or reused without being counted, by the next.
    /// </summary>
    public static void DecommitManaged()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
    }

    /// <summary>Threads of the process right now.</summary>
    public static int Threads()
    {
        foreach (string line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                return int.Parse(line["Threads:".Length..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
