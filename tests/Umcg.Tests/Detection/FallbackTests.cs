using Umcg.Kernel.Native;

namespace Umcg.Tests.Detection;

/// <summary>
/// Where the kernel refuses perf events (seccomp in containers, perf_event_paranoid 3, the memory-lock
/// limit) the scheduler says so once and the monitor does the job. The refusal is injected through the
/// detector's open seam.
/// </summary>
public sealed class FallbackTests
{
    [Theory]
    [InlineData(13, "EACCES")]
    [InlineData(1, "EPERM")]
    [InlineData(38, "ENOSYS")]
    public void A_refused_perf_event_open_falls_back_to_the_monitor_and_says_so_once(int errno, string name)
    {
        int opens = 0;
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(BlockingDetection.SwitchEvents, openSwitchEvents: _ =>
        {
            Interlocked.Increment(ref opens);
            return -errno;
        });
        Assert.Equal(BlockingDetection.SwitchEvents, detector.RequestedMode);
        Assert.Equal(BlockingDetection.Monitor, detector.ActiveMode);
        string message = Assert.Single(detector.Diagnostics);
        Assert.Contains(name, message, StringComparison.Ordinal);

        UnannouncedBlock.SleepWhileAnotherWorkerRuns(scheduler);

        Assert.True(detector.Stats.MarkedByMonitor >= 1);
        Assert.Equal(0, detector.Stats.MarkedBySwitchEvents);
        Assert.Equal(1, Volatile.Read(ref opens)); // tried once, at start: workers are not tried again
        Assert.Single(detector.Diagnostics);
        Assert.Empty(scheduler.Faults);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Workers_refused_one_by_one_are_watched_by_the_monitor()
    {
        // The first open (the start-up probe) succeeds; every worker's is refused, as when the memory-lock
        // limit or the descriptor budget runs out.
        int opens = 0;
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(BlockingDetection.SwitchEvents, openSwitchEvents: tid =>
            Interlocked.Increment(ref opens) == 1 ? LinuxSyscalls.OpenSwitchEvent(tid, 4096) : -LinuxSyscalls.EPERM);
        if (!detector.ActiveMode.HasFlag(BlockingDetection.SwitchEvents))
        {
            // perf_event_open itself is refused on this machine: the whole-refusal test covers it.
            Assert.NotEmpty(detector.Diagnostics);
            SchedulerFixture.Shutdown(scheduler);
            return;
        }

        UnannouncedBlock.SleepWhileAnotherWorkerRuns(scheduler);

        Assert.True(detector.Stats.WorkersWithoutSwitchEvents >= 2);
        Assert.True(detector.Stats.MarkedByMonitor >= 1);
        Assert.Contains("EPERM", Assert.Single(detector.Diagnostics), StringComparison.Ordinal);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Detection_off_runs_no_detector()
    {
        var scheduler = DetectionFixture.Create(BlockingDetection.None);
        Assert.Null(scheduler.Detector);
        Assert.Equal(BlockingDetection.None, scheduler.Detection.RequestedMode);
        Assert.Equal(BlockingDetection.None, scheduler.Detection.ActiveMode);
        Assert.Equal(0, scheduler.Detection.Stats.Marked);
        Assert.Empty(scheduler.Detection.Diagnostics);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void The_schedulers_detector_is_seen_through_a_read_only_view()
    {
        // Registering, removing or disposing the scheduler's own detector would break it: no public member hands it out.
        Assert.DoesNotContain(
            typeof(UmcgScheduler).GetProperties(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance),
            p => typeof(BlockingDetector).IsAssignableFrom(p.PropertyType));
        Assert.DoesNotContain(
            typeof(DetectionStatus).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance),
            m => m.ReturnType == typeof(void) || m.ReturnType == typeof(BlockingDetector));

        var scheduler = DetectionFixture.Create(BlockingDetection.Monitor);
        var detector = DetectionFixture.Detector(scheduler);
        Assert.Equal(BlockingDetection.Monitor, scheduler.Detection.RequestedMode);
        Assert.Equal(detector.ActiveMode, scheduler.Detection.ActiveMode);
        Assert.Same(detector.Stats, scheduler.Detection.Stats);
        Assert.Same(detector.Diagnostics, scheduler.Detection.Diagnostics);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_kernel_half_that_does_not_park_on_futex_gets_no_detector_and_a_diagnostic()
    {
        var scheduler = new UmcgScheduler(new UmcgSchedulerOptions
        {
            Servers = 1,
            Kernel = Parkers.NewKernel("monitor"),
            Detection = new DetectionOptions { Mode = BlockingDetection.Both },
        });
        var detector = DetectionFixture.Detector(scheduler);
        Assert.Equal(BlockingDetection.None, detector.ActiveMode);
        Assert.Contains("futex", Assert.Single(detector.Diagnostics), StringComparison.Ordinal);
        Assert.Equal(BlockingDetection.None, scheduler.Detection.ActiveMode);
        Assert.Contains("futex", Assert.Single(scheduler.Detection.Diagnostics), StringComparison.Ordinal);
        var h = scheduler.Spawn(() => 1);
        SchedulerFixture.WaitAll(scheduler, h);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Invalid_settings_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionOptions { Threshold = TimeSpan.Zero }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionOptions { ActiveInterval = TimeSpan.FromMilliseconds(5), IdleInterval = TimeSpan.FromMilliseconds(1) }.Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new DetectionOptions { RingDataPages = 3 }.Validate());
    }

}
