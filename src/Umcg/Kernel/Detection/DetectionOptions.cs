namespace Umcg.Kernel.Detection;

/// <summary>Settings of a <see cref="BlockingDetector"/>. See docs/detection.md for how the defaults were chosen.</summary>
public sealed record DetectionOptions
{
    /// <summary>Detection switched off.</summary>
    public static DetectionOptions Off { get; } = new() { Mode = BlockingDetection.None };

    /// <summary>Which detectors run. Default <see cref="BlockingDetection.Monitor"/>.</summary>
    public BlockingDetection Mode { get; init; } = BlockingDetection.Monitor;

    /// <summary>
    /// How long a running worker must stay asleep in the kernel before it is marked blocked. Shorter sleeps
    /// keep their server: handing the CPU over and back costs more than they do. Default 200 µs.
    /// </summary>
    public TimeSpan Threshold { get; init; } = TimeSpan.FromMicroseconds(200);

    /// <summary>
    /// The detector's poll interval while some worker runs: how soon a new sleep is noticed. Once one is
    /// noticed the detector wakes exactly when it crosses <see cref="Threshold"/>. Default 250 µs.
    /// </summary>
    public TimeSpan ActiveInterval { get; init; } = TimeSpan.FromMicroseconds(250);

    /// <summary>
    /// The poll interval once workers have run for eight calm intervals with none of them seen asleep (a spell with no
    /// worker running neither counts toward that nor ends it): code that announces its blocking (regions, the
    /// worker-aware primitives) gives it nothing to find, and each poll takes a busy CPU from a worker for a moment. The
    /// first sleep it sees brings it back to <see cref="ActiveInterval"/>, so only the first unannounced sleep after a
    /// calm spell is noticed up to this much later. Equal to <see cref="ActiveInterval"/>: never stretched. Default 2 ms.
    /// </summary>
    public TimeSpan CalmInterval { get; init; } = TimeSpan.FromMilliseconds(2);

    /// <summary>
    /// The longest poll interval while no worker runs, reached by doubling (a calm detector waits at least
    /// <see cref="CalmInterval"/>, should that be the longer). With no worker thread registered at all the detector
    /// sleeps until one is. Default 10 ms.
    /// </summary>
    public TimeSpan IdleInterval { get; init; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Data pages of each worker's switch-record ring (a power of two). Only the newest records are ever read. Default 1.</summary>
    public int RingDataPages { get; init; } = 1;

    /// <summary>
    /// Test seam: opens the switch-event file descriptor for a TID, returning it or a negated errno. Null:
    /// the real <c>perf_event_open</c>.
    /// </summary>
    internal Func<int, int>? OpenSwitchEvents { get; init; }

    /// <summary>Throws for settings a detector cannot run with.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A non-positive time, an idle or calm interval shorter than the active one, or a ring size that is not a power of two.</exception>
    public void Validate()
    {
        if (Threshold <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(Threshold), Threshold, "The threshold must be positive.");
        }

        if (ActiveInterval <= TimeSpan.Zero || IdleInterval < ActiveInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(IdleInterval), IdleInterval, "Intervals must be positive, the idle one no shorter than the active one.");
        }

        if (CalmInterval < ActiveInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(CalmInterval), CalmInterval, "The calm interval must be no shorter than the active one.");
        }

        if (RingDataPages <= 0 || (RingDataPages & (RingDataPages - 1)) != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(RingDataPages), RingDataPages, "The ring needs a power-of-two number of data pages.");
        }
    }
}
