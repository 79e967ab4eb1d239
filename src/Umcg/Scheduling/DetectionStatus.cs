using Umcg.Kernel.Detection;

namespace Umcg.Scheduling;

/// <summary>
/// What a scheduler's detection of unannounced blocking is doing: the detectors asked for and those that run, their
/// counters and their fallbacks. A read-only view: the scheduler alone adds, removes and stops the detector it owns.
/// </summary>
public sealed class DetectionStatus
{
    private static readonly IReadOnlyCollection<string> NoDiagnostics = [];
    private readonly UmcgScheduler _scheduler;
    private readonly DetectionStats _none = new();

    internal DetectionStatus(UmcgScheduler scheduler) => _scheduler = scheduler;

    /// <summary>The detectors asked for (<see cref="UmcgSchedulerOptions.Detection"/>).</summary>
    public BlockingDetection RequestedMode => _scheduler.Options.Detection.Mode;

    /// <summary>
    /// The detectors that run: <see cref="RequestedMode"/> less what this machine refused (see
    /// <see cref="Diagnostics"/>); <see cref="BlockingDetection.None"/> when detection is off.
    /// </summary>
    public BlockingDetection ActiveMode => _scheduler.Detector?.ActiveMode ?? BlockingDetection.None;

    /// <summary>What the detectors did so far (all zero when detection is off).</summary>
    public DetectionStats Stats => _scheduler.Detector?.Stats ?? _none;

    /// <summary>Why a detector does not run, or covers fewer workers than asked: one message per cause.</summary>
    public IReadOnlyCollection<string> Diagnostics => _scheduler.Detector?.Diagnostics ?? NoDiagnostics;
}
