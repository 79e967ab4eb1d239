using System.Buffers.Text;
using Umcg.Kernel.Native;

namespace Umcg.Scheduling;

/// <summary>
/// How much CPU other processes took since the last sample: the machine's busy time (<c>/proc/stat</c>) less this
/// process's own CPU time (<c>getrusage</c>), in CPUs (busy seconds per second of the clock). The process's
/// <see cref="MachineContention"/> holds one and calls it under its lock: it keeps the last readings. All CPUs count,
/// as <c>/proc/stat</c> shows them: where that is more than the process may use (a container's cpuset), others' work
/// on the rest reads as contention, and the threads keep the short slice, as under <see cref="OsTimeSliceMode.Always"/>.
/// </summary>
internal sealed class OthersCpu
{
    // /proc/stat counts in USER_HZ, 100 a second on every architecture Linux has today.
    private const long NsPerTick = 10_000_000;

    private long _lastBusyTicks = -1;
    private long _lastOwnNs;
    private long _lastAtNs;

    /// <summary>
    /// The others' CPUs since the previous call; false on the first call (a baseline) or when <c>/proc/stat</c> cannot
    /// be read.
    /// </summary>
    public bool TrySample(long nowNs, out double othersCpus)
    {
        othersCpus = 0;
        if (!TryReadBusyTicks(out long busy))
        {
            return false;
        }

        long own = LinuxSyscalls.ProcessCpuNs();
        bool baseline = _lastBusyTicks < 0 || nowNs <= _lastAtNs;
        long busyNs = (busy - _lastBusyTicks) * NsPerTick;
        long ownNs = own - _lastOwnNs;
        long wallNs = nowNs - _lastAtNs;
        (_lastBusyTicks, _lastOwnNs, _lastAtNs) = (busy, own, nowNs);
        if (baseline)
        {
            return false;
        }

        // The ticks round to 10 ms per CPU: a quiet machine may read a little below its own process's time.
        othersCpus = Math.Max(0, busyNs - ownNs) / (double)wallNs;
        return true;
    }

    /// <summary><see cref="TrySample"/> as the function <see cref="MachineContention"/> calls: null for no figure.</summary>
    public double? TrySampleOrNull(long nowNs) => TrySample(nowNs, out double cpus) ? cpus : null;

    /// <summary>The first line of /proc/stat: user + nice + system + irq + softirq, all CPUs (idle, iowait and steal are not busy here; guest is in user).</summary>
    private static bool TryReadBusyTicks(out long busy)
    {
        busy = 0;
        int fd = LinuxSyscalls.OpenReadOnly("/proc/stat\0"u8);
        if (fd < 0)
        {
            return false;
        }

        Span<byte> text = stackalloc byte[256];
        int n = LinuxSyscalls.ReadAtStartAndClose(fd, text);

        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice\n"
        if (n <= 0 || !text.StartsWith("cpu "u8))
        {
            return false;
        }

        var rest = text[4..n];
        for (int field = 0; field < 7; field++)
        {
            rest = rest.TrimStart((byte)' ');
            if (!Utf8Parser.TryParse(rest, out long value, out int used))
            {
                return false;
            }

            rest = rest[used..];
            if (field is not (3 or 4))
            {
                busy += value;
            }
        }

        return true;
    }
}
