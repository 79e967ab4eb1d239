using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Umcg.AspNetCore;

namespace Umcg.Hosting.Tests.AspNetCore;

public sealed class RunOnUmcgTests
{
    private static readonly AsyncLocal<string?> RequestValue = new();

    [Fact]
    public async Task The_handler_runs_on_a_worker_at_the_endpoints_priority()
    {
        await using var server = await TestServer.StartAsync(TestHosts.Settings(), app =>
        {
            app.MapGet("/umcg", WhereRan.Now).RunOnUmcg(priority: 20);
            app.MapGet("/inline", WhereRan.Now);
        });

        var onWorker = await server.Client.GetFromJsonAsync<WhereRan>("/umcg");
        Assert.Equal(new WhereRan(true, 20), onWorker);

        // The control: the same handler without the convention runs on the request thread.
        var inline = await server.Client.GetFromJsonAsync<WhereRan>("/inline");
        Assert.Equal(new WhereRan(false, null), inline);
    }

    [Fact]
    public async Task HttpContext_and_the_callers_execution_context_reach_the_handler()
    {
        string traceId = ActivityTraceId.CreateRandom().ToHexString();
        var logs = new LogCapture();
        await using var server = await TestServer.StartAsync(
            TestHosts.Settings(),
            app =>
            {
                // What a request's middleware sets before the endpoint: an AsyncLocal, a tracing activity, a logging scope.
                app.Use(async (context, next) =>
                {
                    RequestValue.Value = "set by middleware";
                    using var activity = new Activity("request").SetParentId(ActivityTraceId.CreateFromString(traceId), ActivitySpanId.CreateRandom()).Start();
                    using var scope = context.RequestServices.GetRequiredService<ILogger<RunOnUmcgTests>>().BeginScope("request scope");
                    await next(context);
                });
                app.MapGet("/context", (HttpContext http, IHttpContextAccessor accessor, ILogger<RunOnUmcgTests> logger) =>
                {
                    logger.LogInformation("in the handler");
                    return new ContextSeen(
                        Worker.IsWorker,
                        RequestValue.Value,
                        Activity.Current?.TraceId.ToHexString(),
                        http.Request.Query["q"],
                        ReferenceEquals(accessor.HttpContext, http),
                        http.Request.Headers["X-Probe"]);
                }).RunOnUmcg();
            },
            services => services.AddHttpContextAccessor().AddLogging(b => b.AddProvider(logs)));

        using var request = new HttpRequestMessage(HttpMethod.Get, "/context?q=orders");
        request.Headers.Add("X-Probe", "probe");
        using var response = await server.Client.SendAsync(request);
        var seen = await response.Content.ReadFromJsonAsync<ContextSeen>();
        Assert.Equal(new ContextSeen(true, "set by middleware", traceId, "orders", true, "probe"), seen);
        var logged = Assert.Single(logs.Entries, e => e.Message == "in the handler");
        Assert.Contains("request scope", logged.Scopes);
    }

    [Fact]
    public async Task RequestAborted_cancels_a_body_still_waiting_for_a_worker()
    {
        var gate = new Gate();
        bool queuedRan = false;
        await using var server = await TestServer.StartAsync(TestHosts.Settings(("Umcg:MaxWorkers", "1")), app =>
        {
            app.MapGet("/hold", gate.Hold).RunOnUmcg();
            app.MapGet("/queued", () => queuedRan = true).RunOnUmcg();
        });
        using var releaseOnExit = gate;
        var scheduler = server.Scheduler;

        var hold = server.Client.GetStringAsync("/hold");
        await Watchdog.Signaled(gate.Entered, scheduler, "the holding handler");
        using var abort = new CancellationTokenSource();
        var queued = server.Client.GetAsync("/queued", abort.Token);
        await Watchdog.Until(() => scheduler.Stats.QueuedBodies == 1, scheduler, "the second body in the queue");

        abort.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await Watchdog.Until(() => scheduler.Stats.CanceledBeforeStart == 1, scheduler, "the queued body canceled by RequestAborted");
        Assert.Equal(0, scheduler.Stats.QueuedBodies);

        gate.Release.Set();
        Assert.Equal("released", await Watchdog.Within(hold, scheduler, "the holding request"));
        Assert.False(queuedRan);
    }

    [Fact]
    public async Task RequestAborted_is_the_token_a_running_handler_sees()
    {
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var sawCancel = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var exit = new CancellationTokenSource();
        await using var server = await TestServer.StartAsync(TestHosts.Settings(), app =>
            app.MapGet("/long", (CancellationToken token) =>
            {
                entered.SetResult();
                using (Worker.Blocking())
                {
                    WaitHandle.WaitAny([token.WaitHandle, exit.Token.WaitHandle]);
                }

                sawCancel.SetResult(Worker.IsWorker && token.IsCancellationRequested);
                token.ThrowIfCancellationRequested();
            }).RunOnUmcg());
        using var releaseOnExit = new OnDispose(exit.Cancel);
        var scheduler = server.Scheduler;

        using var abort = new CancellationTokenSource();
        var request = server.Client.GetAsync("/long", abort.Token);
        await Watchdog.Signaled(entered, scheduler, "the handler start");
        abort.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        Assert.True(await Watchdog.Within(sawCancel.Task, scheduler, "the handler seeing the abort"));
    }

    [Fact]
    public async Task Past_both_bounds_a_refused_request_gets_503_with_Retry_After()
    {
        var gate = new Gate();
        bool refusedRan = false;
        await using var server = await TestServer.StartAsync(
            TestHosts.Settings(("Umcg:MaxWorkers", "1"), ("Umcg:MaxQueuedBodies", "0"), ("Umcg:Admission", "Reject")),
            app =>
            {
                app.MapGet("/hold", gate.Hold).RunOnUmcg();
                app.MapGet("/refused", () => refusedRan = true).RunOnUmcg(retryAfterSeconds: 7);
            });
        using var releaseOnExit = gate;
        var scheduler = server.Scheduler;

        var hold = server.Client.GetStringAsync("/hold");
        await Watchdog.Signaled(gate.Entered, scheduler, "the holding handler");
        using var refused = await server.Client.GetAsync("/refused");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), refused.Headers.RetryAfter?.Delta);
        Assert.Equal(1, scheduler.Stats.AdmissionRejections);

        gate.Release.Set();
        Assert.Equal("released", await Watchdog.Within(hold, scheduler, "the holding request"));
        Assert.False(refusedRan);
    }

    [Fact]
    public void A_priority_outside_the_policys_levels_is_refused_when_the_endpoint_is_mapped()
    {
        var app = WebApplication.CreateSlimBuilder().Build();
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => app.MapGet("/", () => "").RunOnUmcg(priority: 32));
        Assert.Contains("0 (lowest) to 31 (highest)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_AddUmcg_the_error_says_what_is_missing()
    {
        var builder = WebApplication.CreateSlimBuilder();
        await using var app = builder.Build();
        app.MapGet("/", () => "").RunOnUmcg();

        // Endpoints are built, and their filters resolve the scheduler, when the routing data source is first read.
        var sources = ((Microsoft.AspNetCore.Routing.IEndpointRouteBuilder)app).DataSources;
        var error = Assert.Throws<InvalidOperationException>(() => sources.SelectMany(s => s.Endpoints).Count());
        Assert.Contains("services.AddUmcg()", error.Message, StringComparison.Ordinal);
    }
}
