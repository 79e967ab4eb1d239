using Npgsql;
using Umcg.AspNetCore;
using Umcg.Hosting;
using Umcg.Scheduling;

namespace Orders;

/// <summary>The orders service: <c>GET /orders/{customer}</c> and <c>GET /health</c> (and <c>GET /umcg/stats</c> in <see cref="ServingMode.Umcg"/>), served the way <see cref="OrdersSettings.Mode"/> says.</summary>
public static class OrdersApp
{
    /// <summary>Builds the service from <paramref name="args"/> and the usual configuration sources; <paramref name="configure"/> may add more (tests do).</summary>
    /// <exception cref="InvalidOperationException">No connection string <c>ConnectionStrings:Orders</c>, or the thread pool refused the minimum in <see cref="ServingMode.Tuned"/>.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args);
        configure?.Invoke(builder);
        var settings = builder.Configuration.GetSection("Orders").Get<OrdersSettings>() ?? new OrdersSettings();
        string connectionString = builder.Configuration.GetConnectionString("Orders")
            ?? throw new InvalidOperationException("The orders service needs a connection string: ConnectionStrings:Orders (for example --ConnectionStrings:Orders=\"Host=127.0.0.1;Username=postgres;Database=postgres\").");

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(_ => NpgsqlDataSource.Create(connectionString));
        builder.Services.ConfigureHttpJsonOptions(o => o.SerializerOptions.TypeInfoResolverChain.Insert(0, OrdersJson.Default));
        switch (settings.Mode)
        {
            case ServingMode.Tuned when !ThreadPool.SetMinThreads(settings.MinThreads, settings.MinThreads):
                throw new InvalidOperationException($"The thread pool refused a minimum of {settings.MinThreads} threads (Orders:MinThreads).");
            case ServingMode.Umcg:
                builder.Services.AddUmcg(builder.Configuration);
                break;
        }

        var app = builder.Build();
        if (settings.Seed)
        {
            OrdersDatabase.EnsureSeeded(app.Services.GetRequiredService<NpgsqlDataSource>());
        }

        var orders = app.MapGet("/orders/{customer:int}", OrdersEndpoints.Recent);
        var health = app.MapGet("/health", () => "ok");
        if (settings.Mode == ServingMode.Umcg)
        {
            // The health check outranks the orders on a server's CPU (the hosted default policy is PriorityPolicy).
            orders.RunOnUmcg(priority: 10);
            health.RunOnUmcg(priority: 31);

            // Inline on purpose: a report of the workers should not wait for one.
            app.MapGet("/umcg/stats", (UmcgScheduler scheduler) => UmcgThreads.Of(scheduler));
        }

        return app;
    }
}
