namespace Umcg.Cli.Measurement;

/// <summary>
/// How busy the whole machine was, from /proc/stat, so that a run can say how much CPU other processes took
/// meanwhile (the machine is shared; a low utilization may be theirs).
/// </summary>
internal readonly record struct MachineLoad(long BusyTicks, long TotalTicks, long ProcessCpuNs)
{
    public static MachineLoad Now()
    {
        long busy = 0, total = 0;
        try
        {
            string line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
            long[] f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
                .Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
            total = f.Sum();
            busy = total - f[3] - f[4]; // minus idle and iowait
        }
        catch (IOException)
        {
        }

        return new MachineLoad(busy, total, LinuxSyscalls.ProcessCpuNs());
    }

    /// <summary>Share of all CPUs' time between <paramref name="start"/> and <paramref name="end"/> spent by other processes (or stolen), 0 to 1.</summary>
    public static double OtherShare(MachineLoad start, MachineLoad end, double wallSeconds)
    {
        long totalTicks = end.TotalTicks - start.TotalTicks;
        if (totalTicks <= 0)
        {
            return 0;
        }

        double busyShare = (double)(end.BusyTicks - start.BusyTicks) / totalTicks;
        double ours = (end.ProcessCpuNs - start.ProcessCpuNs) / (wallSeconds * 1e9 * Environment.ProcessorCount);
        return Math.Clamp(busyShare - ours, 0, 1);
    }
}
