namespace Umcg.Kernel.Detection;

/// <summary>What a probe concluded about one running worker at one poll.</summary>
internal readonly record struct Verdict(VerdictKind Kind, long SinceNs, long DueNs, bool BySwitchEvents)
{
    public static Verdict Clear => default;

    /// <summary>Asleep, but not for long enough yet: look again at <paramref name="dueNs"/>.</summary>
    public static Verdict Pending(long dueNs) => new(VerdictKind.Pending, 0, dueNs, false);

    /// <summary>Asleep since <paramref name="sinceNs"/>, for longer than the threshold.</summary>
    public static Verdict Blocked(long sinceNs, bool bySwitchEvents) => new(VerdictKind.Blocked, sinceNs, 0, bySwitchEvents);

    /// <summary>The more urgent of two verdicts: a block over a pending sleep over nothing; the earlier of two.</summary>
    public static Verdict First(Verdict a, Verdict b)
    {
        if (a.Kind != b.Kind)
        {
            return a.Kind > b.Kind ? a : b;
        }

        return a.Kind switch
        {
            VerdictKind.Blocked => a.SinceNs <= b.SinceNs ? a : b,
            VerdictKind.Pending => a.DueNs <= b.DueNs ? a : b,
            _ => a,
        };
    }
}

/// <summary>Ordered by urgency.</summary>
internal enum VerdictKind
{
    /// <summary>Running, waiting for a CPU, or in its own UMCG wait.</summary>
    Clear = 0,

    /// <summary>Asleep in the kernel for less than the threshold so far.</summary>
    Pending = 1,

    /// <summary>Asleep in the kernel for longer than the threshold.</summary>
    Blocked = 2,
}
