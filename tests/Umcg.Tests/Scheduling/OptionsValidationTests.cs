namespace Umcg.Tests.Scheduling;

/// <summary>Every rule of <see cref="OptionsValidation"/>, and the guard against a worker shutting down its own scheduler.</summary>
public sealed class OptionsValidationTests
{
    public static TheoryData<string, UmcgSchedulerOptions> BadSchedulerOptions => new()
    {
        { "Servers", new UmcgSchedulerOptions { Servers = 0 } },
        { "Servers", new UmcgSchedulerOptions { Servers = OptionsValidation.MaxServers + 1 } },
        { "Policy", new UmcgSchedulerOptions { Policy = null! } },
        { "MaxIdleWorkers", new UmcgSchedulerOptions { MaxIdleWorkers = -1 } },
        { "Name", new UmcgSchedulerOptions { Name = null! } },
        { "Detection", new UmcgSchedulerOptions { Detection = null! } },
        { "Detection.Mode", new UmcgSchedulerOptions { Detection = new DetectionOptions { Mode = (BlockingDetection)77 } } },
        { "Detection", new UmcgSchedulerOptions { Detection = new DetectionOptions { Threshold = TimeSpan.Zero } } },
        { "Detection", new UmcgSchedulerOptions { Detection = new DetectionOptions { RingDataPages = 3 } } },
        { "OsTimeSlice", new UmcgSchedulerOptions { OsTimeSlice = TimeSpan.FromMicroseconds(99) } },
        { "OsTimeSlice", new UmcgSchedulerOptions { OsTimeSlice = TimeSpan.FromMilliseconds(101) } },
        { "OsTimeSlice", new UmcgSchedulerOptions { OsTimeSlice = TimeSpan.FromTicks(-1) } },
        { "OsTimeSliceMode", new UmcgSchedulerOptions { OsTimeSliceMode = (OsTimeSliceMode)7 } },
    };

    public static TheoryData<string, WorkerOptions> BadWorkerOptions => new()
    {
        { "StackSize", new WorkerOptions { StackSize = 1 } },
        { "StackSize", new WorkerOptions { StackSize = -1 } },
        { "StackSize", new WorkerOptions { StackSize = OptionsValidation.MinStackSize - 1 } },
        { "StackSize", new WorkerOptions { StackSize = OptionsValidation.MaxStackSize + 1 } },
        { "Weight", new WorkerOptions { Weight = 0 } },
        { "ServerAffinity", new WorkerOptions { ServerAffinity = 2 } },
        { "PreferredServer", new WorkerOptions { PreferredServer = -1 } },
    };

    [Theory]
    [MemberData(nameof(BadSchedulerOptions))]
    public void A_scheduler_refuses_each_bad_setting_naming_it(string setting, UmcgSchedulerOptions options)
    {
        var error = Assert.Single(options.Validate());
        Assert.StartsWith($"UmcgSchedulerOptions.{setting}", error, StringComparison.Ordinal);
        var e = Assert.Throws<ArgumentException>(() => new UmcgScheduler(options with { Kernel = Parkers.NewKernel("futex") }));
        Assert.Contains(error, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_error_is_listed_at_once_and_good_settings_have_none()
    {
        Assert.Empty(new UmcgSchedulerOptions().Validate());
        Assert.Empty(new UmcgSchedulerOptions { Servers = 3, Detection = DetectionOptions.Off, MaxIdleWorkers = 0 }.Validate());
        Assert.Empty(OptionsValidation.Validate(new WorkerOptions { StackSize = OptionsValidation.MinStackSize, ServerAffinity = 1 }, 2));
        Assert.Equal(3, new UmcgSchedulerOptions { Servers = 0, MaxIdleWorkers = -1, Detection = new() { Mode = (BlockingDetection)77 } }.Validate().Count);
    }

    [Fact]
    public void A_policy_factory_returning_null_fails_the_constructor()
    {
        var options = new UmcgSchedulerOptions { Servers = 2, Kernel = Parkers.NewKernel("futex"), Policy = () => null! };
        var e = Assert.Throws<ArgumentException>(() => new UmcgScheduler(options));
        Assert.Contains("UmcgSchedulerOptions.Policy", e.Message, StringComparison.Ordinal);
        Assert.Equal(0, options.Kernel!.TaskCount);
    }

    [Theory]
    [MemberData(nameof(BadWorkerOptions))]
    public void A_spawn_refuses_each_bad_worker_setting_naming_it(string setting, WorkerOptions options)
    {
        var error = Assert.Single(OptionsValidation.Validate(options, serverCount: 2));
        Assert.StartsWith($"WorkerOptions.{setting}", error, StringComparison.Ordinal);

        var scheduler = SchedulerFixture.Create(servers: 2);
        var e = Assert.Throws<ArgumentException>(() => scheduler.Spawn(() => { }, options));
        Assert.Contains(error, e.Message, StringComparison.Ordinal);
        Assert.Equal(0, scheduler.Stats.Spawned);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Policies_refuse_a_time_slice_that_is_not_positive(long ticks)
    {
        var slice = TimeSpan.FromTicks(ticks);
        Assert.Single(OptionsValidation.ValidateTimeSlice(slice));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FifoPolicy(slice));
        Assert.Throws<ArgumentOutOfRangeException>(() => new PriorityPolicy(slice));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FairSharePolicy(slice));
        Assert.Empty(OptionsValidation.ValidateTimeSlice(null));
    }

    [Fact]
    public void A_worker_waiting_on_its_own_schedulers_shutdown_is_refused_instead_of_deadlocking()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var waiting = scheduler.Spawn(() => scheduler.ShutdownAsync().Wait());
        SchedulerFixture.WaitAll(scheduler, waiting);
        Assert.Contains("its own scheduler", Assert.Throws<InvalidOperationException>(waiting.Join).Message, StringComparison.Ordinal);

        var disposing = scheduler.Spawn(() => scheduler.DisposeAsync().AsTask().Wait());
        SchedulerFixture.WaitAll(scheduler, disposing);
        Assert.Throws<InvalidOperationException>(disposing.Join);

        // The refusal changed nothing: the scheduler still runs work and shuts down from outside.
        var next = scheduler.Spawn(() => 7);
        SchedulerFixture.WaitAll(scheduler, next);
        Assert.Equal(7, next.Join());
        SchedulerFixture.Shutdown(scheduler);
    }
}
