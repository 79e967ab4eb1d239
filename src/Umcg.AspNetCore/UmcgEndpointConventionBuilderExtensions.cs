using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Umcg.AspNetCore;

/// <summary>Endpoint conventions that run minimal-API handlers on Umcg workers.</summary>
public static class UmcgEndpointConventionBuilderExtensions
{
    /// <summary>
    /// Runs the endpoint's handler on a worker of the application's <see cref="Scheduling.UmcgScheduler"/>
    /// (registered by <c>services.AddUmcg()</c>), at <paramref name="priority"/>: <c>app.MapGet("/orders", ...).RunOnUmcg(priority: 20)</c>.
    /// On a group, every endpoint of the group.
    /// </summary>
    /// <remarks>
    /// <para>An endpoint filter spawns the rest of the filter pipeline — the handler — as a body: parameter binding
    /// (which may read the request body asynchronously) runs before it on the request thread, the handler's
    /// synchronous code on a worker, and the result is written back on the request thread. See docs/aspnetcore.md.</para>
    /// <para><see cref="HttpContext.RequestAborted"/> cancels a body that has not started and is the token a running
    /// one sees; the caller's execution context (<c>AsyncLocal</c>, <c>Activity.Current</c>, logging scopes,
    /// <c>IHttpContextAccessor</c>) flows into it. When admission refuses the body
    /// (<see cref="Scheduling.AdmissionMode.Reject"/> past both bounds) the response is 503 with
    /// <c>Retry-After: <paramref name="retryAfterSeconds"/></c> and the handler does not run.</para>
    /// <para>Priorities only order bodies under a priority policy — the hosted default (<c>UmcgPolicyKind.Priority</c>).</para>
    /// </remarks>
    /// <param name="builder">The endpoint, or group of endpoints.</param>
    /// <param name="priority">0 (lowest, the default) to <see cref="Scheduling.Policies.PriorityPolicy.Levels"/> − 1 (highest).</param>
    /// <param name="retryAfterSeconds">The <c>Retry-After</c> of a refused request, in seconds (default 1).</param>
    /// <exception cref="ArgumentOutOfRangeException">A priority outside 0 to <see cref="Scheduling.Policies.PriorityPolicy.Levels"/> − 1, or a negative <paramref name="retryAfterSeconds"/>.</exception>
    public static TBuilder RunOnUmcg<TBuilder>(this TBuilder builder, int priority = 0, int retryAfterSeconds = 1)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = WorkerDispatch.OptionsFor(priority, nameof(priority));
        WorkerDispatch.CheckRetryAfter(retryAfterSeconds, nameof(retryAfterSeconds));
        builder.WithMetadata(new RunOnUmcgAttribute { Priority = priority, RetryAfterSeconds = retryAfterSeconds });
        return builder.AddEndpointFilterFactory((context, next) =>
        {
            var scheduler = WorkerDispatch.SchedulerOf(context.ApplicationServices);
            return async invocation =>
            {
                var (admitted, result) = await WorkerDispatch.RunAsync(scheduler, invocation.HttpContext, () => next(invocation), options, retryAfterSeconds).ConfigureAwait(false);
                return admitted ? result : Results.Empty;
            };
        });
    }
}
