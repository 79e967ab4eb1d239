using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Umcg.Scheduling.Demotion;
using Umcg.Scheduling.Policies;

namespace Umcg.Hosting.Tests.Hosting;

public sealed class HostingOptionsTests
{
    [Fact]
    public async Task Settings_come_from_the_Umcg_configuration_section()
    {
        using var host = TestHosts.Build(TestHosts.Settings(
            ("Umcg:Servers", "1"),
            ("Umcg:MaxWorkers", "3"),
            ("Umcg:MaxQueuedBodies", "5"),
            ("Umcg:Admission", "Reject"),
            ("Umcg:MaxIdleWorkers", "2"),
            ("Umcg:Policy", "Fifo"),
            ("Umcg:Name", "orders")));
        await host.StartAsync();
        var scheduler = host.Services.GetRequiredService<UmcgScheduler>();
        Assert.Same(host.Services.GetRequiredService<UmcgHost>().Scheduler, scheduler);

        var options = scheduler.Options;
        Assert.Equal(1, scheduler.ServerCount);
        Assert.Equal(3, options.MaxWorkers);
        Assert.Equal(5, options.MaxQueuedBodies);
        Assert.Equal(AdmissionMode.Reject, options.Admission);
        Assert.Equal(2, options.MaxIdleWorkers);
        Assert.Equal("orders", options.Name);
        Assert.IsType<FifoPolicy>(options.Policy());
        await Watchdog.Within(host.StopAsync(), scheduler, "host stop");
    }

    [Fact]
    public async Task Demotion_settings_come_from_the_section_and_the_mode_is_logged_at_start()
    {
        var logs = new LogCapture();
        using var host = TestHosts.Build(
            TestHosts.Settings(
                ("Umcg:DemotionGracePeriod", "00:00:00.002"),
                ("Umcg:MaxDemotedPerServer", "2"),
                ("Umcg:DemotionMechanism", "Nice19")),
            logs);
        await host.StartAsync();
        var scheduler = host.Services.GetRequiredService<UmcgScheduler>();
        var demotion = scheduler.Options.Demotion;
        Assert.True(demotion.Enabled);
        Assert.Equal(TimeSpan.FromMilliseconds(2), demotion.GracePeriod);
        Assert.Equal(2, demotion.MaxDemotedPerServer);
        Assert.Equal(DemotionMechanism.Nice19, demotion.Mechanism);
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Information && e.Message.Contains($"demotion: {scheduler.DemotionMode}", StringComparison.Ordinal));
        await Watchdog.Within(host.StopAsync(), scheduler, "host stop");

        using var off = TestHosts.Build(TestHosts.Settings(("Umcg:Demotion", "false")));
        await off.StartAsync();
        var plain = off.Services.GetRequiredService<UmcgScheduler>();
        Assert.False(plain.Options.Demotion.Enabled);
        Assert.Equal(DemotionMode.Unavailable, plain.DemotionMode);
        await Watchdog.Within(off.StopAsync(), plain, "host stop");
    }

    [Theory]
    [InlineData(null, 500.0)]
    [InlineData("00:00:00.0002", 200.0)]
    [InlineData("00:00:00", null)]
    public void The_OS_time_slice_is_the_library_default_unless_configured_and_zero_means_the_OS_own(string? configured, double? expectedUs)
    {
        var settings = configured is null ? TestHosts.Settings() : TestHosts.Settings(("Umcg:OsTimeSlice", configured));
        using var host = TestHosts.Build(settings);
        var hosting = host.Services.GetRequiredService<IOptions<UmcgHostingOptions>>().Value;
        Assert.Equal(expectedUs, hosting.ToSchedulerOptions().OsTimeSlice?.TotalMicroseconds);
    }

    [Theory]
    [InlineData(null, OsTimeSliceMode.WhenContended)]
    [InlineData("Always", OsTimeSliceMode.Always)]
    [InlineData("WhenContended", OsTimeSliceMode.WhenContended)]
    public void When_the_OS_time_slice_is_asked_comes_from_configuration(string? configured, OsTimeSliceMode expected)
    {
        var settings = configured is null ? TestHosts.Settings() : TestHosts.Settings(("Umcg:OsTimeSliceMode", configured));
        using var host = TestHosts.Build(settings);
        var hosting = host.Services.GetRequiredService<IOptions<UmcgHostingOptions>>().Value;
        Assert.Equal(expected, hosting.ToSchedulerOptions().OsTimeSliceMode);
    }

    [Fact]
    public async Task An_OS_time_slice_outside_what_Linux_accepts_stops_the_host_at_start()
    {
        using var host = TestHosts.Build(TestHosts.Settings(("Umcg:OsTimeSlice", "00:00:01")));
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("UmcgSchedulerOptions.OsTimeSlice", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_demotion_setting_that_breaks_a_rule_stops_the_host_at_start()
    {
        using var host = TestHosts.Build(TestHosts.Settings(("Umcg:MaxDemotedPerServer", "0")));
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("UmcgSchedulerOptions.Demotion", error.Message, StringComparison.Ordinal);
        Assert.Contains("MaxDemotedPerServer", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_hosted_default_policy_is_PriorityPolicy()
    {
        using var host = TestHosts.Build(TestHosts.Settings());
        await host.StartAsync();
        var scheduler = host.Services.GetRequiredService<UmcgScheduler>();
        Assert.IsType<PriorityPolicy>(scheduler.Options.Policy());

        // And it means something: the priority a spawn asks for reaches its worker.
        int seen = await Watchdog.Within(scheduler.Spawn(() => Worker.Current!.Priority, new WorkerOptions { Priority = 20 }).Completion, scheduler, "priority body");
        Assert.Equal(20, seen);
        await Watchdog.Within(host.StopAsync(), scheduler, "host stop");
    }

    [Fact]
    public async Task Bad_settings_stop_the_host_at_start_naming_every_broken_setting()
    {
        using var host = TestHosts.Build(TestHosts.Settings(("Umcg:MaxWorkers", "0"), ("Umcg:MaxQueuedBodies", "-1")));
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("UmcgSchedulerOptions.MaxWorkers: must be at least 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("UmcgSchedulerOptions.MaxQueuedBodies: cannot be negative", error.Message, StringComparison.Ordinal);
        Assert.Contains("(was 0)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_customization_that_breaks_a_rule_is_refused_like_configuration()
    {
        using var host = TestHosts.Build(TestHosts.Settings(), configure: o => o.Customize = s => s with { MaxIdleWorkers = -4 });
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("UmcgSchedulerOptions.MaxIdleWorkers: cannot be negative (was -4)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Code_configuration_applies_after_the_section()
    {
        using var host = TestHosts.Build(TestHosts.Settings(("Umcg:MaxWorkers", "3")), configure: o => o.MaxWorkers = 7);
        await host.StartAsync();
        var scheduler = host.Services.GetRequiredService<UmcgScheduler>();
        Assert.Equal(7, scheduler.Options.MaxWorkers);
        await Watchdog.Within(host.StopAsync(), scheduler, "host stop");
    }
}
