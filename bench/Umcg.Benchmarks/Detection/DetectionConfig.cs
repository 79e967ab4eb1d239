using Umcg.Kernel.Detection;
using Umcg.Kernel.Parking;

namespace Umcg.Benchmarks.Detection;

/// <summary>One detector configuration under measurement.</summary>
internal sealed record DetectionConfig(string Name, DetectionOptions Options)
{
    /// <summary>The four configurations, each with the default tuning of <see cref="DetectionOptions"/>.</summary>
    public static DetectionConfig[] Main { get; } =
    [
        new("none", DetectionOptions.Off),
        new("monitor", new DetectionOptions { Mode = BlockingDetection.Monitor }),
        new("switch events", new DetectionOptions { Mode = BlockingDetection.SwitchEvents }),
        new("both", new DetectionOptions { Mode = BlockingDetection.Both }),
    ];

    /// <summary>The tuning around the defaults: slower polls, shorter and longer thresholds.</summary>
    public static DetectionConfig[] Sweep { get; } =
    [
        new("monitor, poll 1 ms", new DetectionOptions { Mode = BlockingDetection.Monitor, ActiveInterval = TimeSpan.FromMilliseconds(1) }),
        new("monitor, poll 4 ms", new DetectionOptions { Mode = BlockingDetection.Monitor, ActiveInterval = TimeSpan.FromMilliseconds(4) }),
        new("monitor, threshold 50 us", new DetectionOptions { Mode = BlockingDetection.Monitor, Threshold = TimeSpan.FromMicroseconds(50) }),
        new("monitor, threshold 1 ms", new DetectionOptions { Mode = BlockingDetection.Monitor, Threshold = TimeSpan.FromMilliseconds(1) }),
        new("switch events, poll 1 ms", new DetectionOptions { Mode = BlockingDetection.SwitchEvents, ActiveInterval = TimeSpan.FromMilliseconds(1) }),
        new("switch events, threshold 50 us", new DetectionOptions { Mode = BlockingDetection.SwitchEvents, Threshold = TimeSpan.FromMicroseconds(50) }),
    ];

    /// <summary>Beside <see cref="Main"/> in the utilization runs: the slower poll of each detector.</summary>
    public static DetectionConfig[] UtilizationExtra { get; } = [Sweep[0], Sweep[4]];

    public UmcgScheduler CreateScheduler(int servers) => new(new UmcgSchedulerOptions
    {
        Servers = servers,
        Kernel = new UmcgKernel(FutexParker.Instance),
        Detection = Options,
    });
}
