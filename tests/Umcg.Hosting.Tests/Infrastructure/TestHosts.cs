using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Umcg.Hosting.Tests.Infrastructure;

/// <summary>Generic hosts with a Umcg scheduler, configured from an in-memory <c>Umcg</c> section.</summary>
public static class TestHosts
{
    /// <summary>
    /// Settings every test host starts from: two unpinned servers and no detector (tests that need one say so).
    /// The host's shutdown timeout is infinite: a test fires the shutdown token itself, when it wants to.
    /// </summary>
    public static Dictionary<string, string?> Settings(params (string Key, string? Value)[] overrides)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Umcg:Servers"] = "2",
            ["Umcg:PinServers"] = "false",
            ["Umcg:Detection"] = "None",
        };
        foreach (var (key, value) in overrides)
        {
            settings[key] = value;
        }

        return settings;
    }

    public static IHost Build(Dictionary<string, string?> settings, LogCapture? logs = null, Action<UmcgHostingOptions>? configure = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);
        if (logs is not null)
        {
            builder.Logging.AddProvider(logs);
        }

        builder.Services.AddUmcg(builder.Configuration, configure);
        return builder.Build();
    }
}
