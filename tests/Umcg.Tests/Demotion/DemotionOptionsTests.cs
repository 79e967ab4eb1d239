using Umcg.Scheduling.Demotion;

namespace Umcg.Tests.Demotion;

public sealed class DemotionOptionsTests
{
    [Fact]
    public void The_defaults_are_on_with_a_1_ms_grace_period_and_4_demoted_workers_per_server()
    {
        var options = new DemotionOptions();
        Assert.Equal((true, TimeSpan.FromMilliseconds(1), 4), (options.Enabled, options.GracePeriod, options.MaxDemotedPerServer));
        options.Validate();
        Assert.False(DemotionOptions.Off.Enabled);
    }

    [Theory]
    [InlineData(0, 4, "GracePeriod")]
    [InlineData(-1, 4, "GracePeriod")]
    [InlineData(1, 0, "MaxDemotedPerServer")]
    public void Settings_it_cannot_run_with_are_refused_by_name(int graceMs, int maxDemoted, string setting)
    {
        var options = new DemotionOptions { GracePeriod = TimeSpan.FromMilliseconds(graceMs), MaxDemotedPerServer = maxDemoted };
        Assert.Equal(setting, Assert.Throws<ArgumentOutOfRangeException>(options.Validate).ParamName);
    }
}
