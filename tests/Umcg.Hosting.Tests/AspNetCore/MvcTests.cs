using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Umcg.AspNetCore;

namespace Umcg.Hosting.Tests.AspNetCore;

[ApiController]
[Route("mvc")]
public sealed class WhereController : ControllerBase
{
    [HttpGet("umcg")]
    [RunOnUmcg(Priority = 5)]
    public WhereRan OnWorker() => WhereRan.Now() with { };

    [HttpGet("inline")]
    public WhereRan Inline() => WhereRan.Now();

    [HttpGet("hold")]
    [RunOnUmcg]
    public string Hold([FromServices] Gate gate) => gate.Hold();

    [HttpGet("refused")]
    [RunOnUmcg(RetryAfterSeconds = 3)]
    public string Refused([FromServices] RefusedProbe probe)
    {
        probe.Ran = true;
        return "ran";
    }
}

public sealed class RefusedProbe
{
    public bool Ran { get; set; }
}

public sealed class MvcTests
{
    [Fact]
    public async Task An_action_marked_RunOnUmcg_runs_on_a_worker_at_its_priority()
    {
        await using var server = await StartAsync(TestHosts.Settings());
        Assert.Equal(new WhereRan(true, 5), await server.Client.GetFromJsonAsync<WhereRan>("/mvc/umcg"));
        Assert.Equal(new WhereRan(false, null), await server.Client.GetFromJsonAsync<WhereRan>("/mvc/inline"));
    }

    [Fact]
    public async Task A_refused_action_answers_503_with_Retry_After_and_does_not_run()
    {
        await using var server = await StartAsync(TestHosts.Settings(("Umcg:MaxWorkers", "1"), ("Umcg:MaxQueuedBodies", "0"), ("Umcg:Admission", "Reject")));
        var scheduler = server.Scheduler;
        using var gate = server.App.Services.GetRequiredService<Gate>();

        var hold = server.Client.GetStringAsync("/mvc/hold");
        await Watchdog.Signaled(gate.Entered, scheduler, "the holding action");
        using var refused = await server.Client.GetAsync("/mvc/refused");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(3), refused.Headers.RetryAfter?.Delta);

        gate.Release.Set();
        Assert.Equal("released", await Watchdog.Within(hold, scheduler, "the holding request"));
        Assert.False(server.App.Services.GetRequiredService<RefusedProbe>().Ran);
    }

    private static Task<TestServer> StartAsync(Dictionary<string, string?> settings) =>
        TestServer.StartAsync(
            settings,
            app => app.MapControllers(),
            services =>
            {
                services.AddSingleton<Gate>();
                services.AddSingleton<RefusedProbe>();
                services.AddControllers().AddApplicationPart(typeof(WhereController).Assembly);
            });
}
