using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orders;
using Xunit.Abstractions;

namespace Umcg.Hosting.Tests.Samples;

/// <summary>The orders sample against a real PostgreSQL: the same requests, answered inline and on Umcg workers.</summary>
public sealed class OrdersSampleTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    [Theory]
    [InlineData(ServingMode.Inline)]
    [InlineData(ServingMode.Umcg)]
    public async Task The_orders_service_answers_from_the_database_in_each_mode(ServingMode mode)
    {
        if (!postgres.Require(output))
        {
            return;
        }

        await using var app = OrdersApp.Build([], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Orders:Mode"] = mode.ToString(),
                ["ConnectionStrings:Orders"] = postgres.ConnectionString,
                ["Umcg:Servers"] = "2",
                ["Umcg:PinServers"] = "false",
                ["Umcg:MaxWorkers"] = "8",
            });
            builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = Timeout.InfiniteTimeSpan };
        var scheduler = app.Services.GetService<UmcgScheduler>();

        // Several customers at once, so that in Umcg mode bodies overlap and block in their regions together.
        var replies = await Watchdog.Within(
            Task.WhenAll(Enumerable.Range(40, 16).Select(c => client.GetFromJsonAsync<OrderSummary>($"/orders/{c}"))),
            scheduler,
            "16 concurrent order queries");
        for (int i = 0; i < replies.Length; i++)
        {
            var reply = replies[i]!;
            Assert.Equal(40 + i, reply.Customer);
            Assert.Equal(OrdersDatabase.OrderCount / OrdersDatabase.Customers, reply.Count);
            Assert.Equal(mode == ServingMode.Umcg, reply.OnWorker);
            Assert.Equal(64, reply.Digest.Length);
        }

        Assert.Equal("ok", await client.GetStringAsync("/health"));
        if (scheduler is not null)
        {
            Assert.True(scheduler.Stats.Blocks >= 16, $"every query should have blocked in its region (blocks: {scheduler.Stats.Blocks})");
        }

        await Watchdog.Within(app.StopAsync(), scheduler, "the orders service's stop");
    }
}
