using Umcg.Kernel.Native;

namespace Umcg.Scheduling.Demotion;

/// <summary>
/// What the process may do about priorities, as the kernel judges a request to raise one: CAP_SYS_NICE allows
/// anything; otherwise a thread may go to nice <c>n</c> (or from SCHED_IDLE back to SCHED_OTHER at nice
/// <c>n</c>) only if RLIMIT_NICE ≥ 20 − <c>n</c>. Lowering a thread of the same user is always allowed.
/// </summary>
/// <param name="CapSysNice">CAP_SYS_NICE is in the effective set (null: could not be read).</param>
/// <param name="NiceLimit">The soft RLIMIT_NICE (<see cref="ulong.MaxValue"/>: unlimited; null: could not be read).</param>
internal sealed record NicePrivilege(bool? CapSysNice, ulong? NiceLimit)
{
    /// <summary>The calling thread's privilege (capabilities are per thread; all of a process's threads normally share them).</summary>
    public static NicePrivilege OfCaller() => OperatingSystem.IsLinux()
        ? new(LinuxSyscalls.HasEffectiveCapability(LinuxSyscalls.CapSysNice), LinuxSyscalls.NiceLimit())
        : new(null, null);

    /// <summary>Whether the kernel lets a demoted thread go back to nice <paramref name="nice"/>.</summary>
    public bool MayRestoreTo(int nice) => CapSysNice == true || NiceLimit >= (ulong)(20 - Math.Clamp(nice, -20, LinuxSyscalls.MaxNice));

    /// <summary>Why a demoted thread may or may not go back to nice <paramref name="nice"/>, in the kernel's terms.</summary>
    public string Explain(int nice)
    {
        string limit = NiceLimit switch
        {
            null => "unreadable",
            ulong.MaxValue => "unlimited",
            ulong n => n.ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        return CapSysNice == true
            ? "CAP_SYS_NICE"
            : $"restoring to nice {nice} needs RLIMIT_NICE ≥ {20 - nice} (it is {limit}) or CAP_SYS_NICE ({(CapSysNice is null ? "unreadable" : "absent")})";
    }
}
