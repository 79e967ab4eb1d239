using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Umcg.Hosting.Tests.Infrastructure;

/// <summary>An in-process Kestrel on 127.0.0.1 (a port the OS picks) with a Umcg scheduler, and a client for it.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app, HttpClient client)
    {
        App = app;
        Client = client;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public UmcgScheduler Scheduler => App.Services.GetRequiredService<UmcgScheduler>();

    public static async Task<TestServer> StartAsync(Dictionary<string, string?> settings, Action<WebApplication> map, Action<IServiceCollection>? services = null)
    {
        ArgumentNullException.ThrowIfNull(map);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });

        // Only the test's settings: not the appsettings.json a referenced web project copies into the output folder.
        builder.Configuration.Sources.Clear();
        builder.Configuration.AddInMemoryCollection(settings);
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Watchdog.Limit);
        builder.Services.AddUmcg(builder.Configuration);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
        return new TestServer(app, client);
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Watchdog.Within(App.StopAsync(), Scheduler, "web host stop");
        await App.DisposeAsync();
    }
}
