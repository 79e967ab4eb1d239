namespace Umcg.Tests.Detection;

/// <summary>Schedulers with a detector, and what a detection test checks on them.</summary>
internal static class DetectionFixture
{
    public static TheoryData<BlockingDetection> Modes => new()
    {
        BlockingDetection.Monitor,
        BlockingDetection.SwitchEvents,
        BlockingDetection.Both,
    };

    public static UmcgScheduler Create(BlockingDetection mode, int servers = 1, Func<int, int>? openSwitchEvents = null, UmcgSchedulerOptions? options = null) =>
        new((options ?? new UmcgSchedulerOptions()) with
        {
            Servers = servers,
            Kernel = Parkers.NewKernel("futex"),
            Detection = new DetectionOptions { Mode = mode, OpenSwitchEvents = openSwitchEvents },
        });

    public static BlockingDetector Detector(UmcgScheduler scheduler) =>
        scheduler.Detector ?? throw new InvalidOperationException("The scheduler runs no detector.");

    /// <summary>A scheduler made as <see cref="Create"/> makes it, with the detector it must run.</summary>
    public static (UmcgScheduler Scheduler, BlockingDetector Detector) CreateWithDetector(
        BlockingDetection mode, int servers = 1, Func<int, int>? openSwitchEvents = null, UmcgSchedulerOptions? options = null)
    {
        var scheduler = Create(mode, servers, openSwitchEvents, options);
        return (scheduler, Detector(scheduler));
    }

    /// <summary>
    /// The detector that should have marked the block did: switch events where the kernel grants them (the
    /// monitor then has nothing to add for covered workers), the monitor where it does not.
    /// </summary>
    public static void AssertMarkedBy(UmcgScheduler scheduler, BlockingDetection mode)
    {
        var detector = Detector(scheduler);
        var stats = detector.Stats;
        string detail = $"active {detector.ActiveMode}, monitor {stats.MarkedByMonitor}, switch events {stats.MarkedBySwitchEvents}, rejected {stats.Rejected}; {string.Join(" ", detector.Diagnostics)}";
        Assert.True(stats.Marked >= 1, detail);
        switch (mode)
        {
            case BlockingDetection.Monitor:
                Assert.Equal(0, stats.MarkedBySwitchEvents);
                break;
            case BlockingDetection.SwitchEvents when detector.ActiveMode.HasFlag(BlockingDetection.SwitchEvents):
                Assert.True(stats.MarkedBySwitchEvents >= 1, detail);
                Assert.Equal(0, stats.MarkedByMonitor);
                break;
            case BlockingDetection.SwitchEvents:
                // Refused on this machine: the monitor took over, and said so.
                Assert.NotEmpty(detector.Diagnostics);
                Assert.True(stats.MarkedByMonitor >= 1, detail);
                break;
        }
    }
}
