using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Umcg.Scheduling;

namespace Umcg.AspNetCore;

/// <summary>
/// The one way a request's handler gets onto a worker, shared by the endpoint filter and the MVC filter: the rest of
/// the pipeline (the handler and what it calls) is spawned as a body, in the request's execution context, with
/// <see cref="HttpContext.RequestAborted"/> as its token; the request thread waits for it without blocking.
/// </summary>
internal static class WorkerDispatch
{
    /// <summary>
    /// Runs <paramref name="rest"/> on a worker of <paramref name="scheduler"/> and returns its result, or, when
    /// admission refuses the body, answers 503 with <c>Retry-After</c> and returns <c>Admitted = false</c>.
    /// </summary>
    /// <remarks>
    /// While the body runs the request thread only awaits it, so the handler may use <see cref="HttpContext"/>: no
    /// two threads touch it at once. An await inside the handler comes back to a worker (the scheduler's
    /// synchronization context). A canceled <see cref="HttpContext.RequestAborted"/> completes a body that has not
    /// started as canceled, and is the token a running one sees (a handler's <see cref="CancellationToken"/>
    /// parameter is bound to it).
    /// </remarks>
    public static async ValueTask<(bool Admitted, T Result)> RunAsync<T>(UmcgScheduler scheduler, HttpContext http, Func<ValueTask<T>> rest, WorkerOptions options, int retryAfterSeconds)
    {
        WorkerHandle<ValueTask<T>> handle;
        try
        {
            // SpawnAsync, not Spawn: in Wait mode the request waits for room without holding a thread.
            handle = await scheduler.SpawnAsync(_ => rest(), http.RequestAborted, options).ConfigureAwait(false);
        }
        catch (UmcgAdmissionRejectedException)
        {
            http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
            http.Response.Headers.RetryAfter = retryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return (false, default!);
        }

        // The body returns once the handler's synchronous part is done; an async handler may still be pending.
        var pending = await handle.Completion.ConfigureAwait(false);
        return (true, await pending.ConfigureAwait(false));
    }

    /// <summary>The application's scheduler, or a clear error naming what is missing.</summary>
    public static UmcgScheduler SchedulerOf(IServiceProvider services) =>
        services.GetService<UmcgScheduler>() ?? throw new InvalidOperationException(
            "Running a handler on Umcg needs a scheduler in the services: call services.AddUmcg() (package Umcg.Hosting).");

    /// <summary>The options of the bodies of one endpoint; a priority outside the policy's levels is refused here, once.</summary>
    public static WorkerOptions OptionsFor(int priority, string parameter)
    {
        if (priority is < 0 or >= Scheduling.Policies.PriorityPolicy.Levels)
        {
            throw new ArgumentOutOfRangeException(parameter, priority, $"A Umcg priority is from 0 (lowest) to {Scheduling.Policies.PriorityPolicy.Levels - 1} (highest).");
        }

        return new WorkerOptions { Priority = priority };
    }

    /// <summary>Refuses a <c>Retry-After</c> that is not a whole number of seconds ≥ 0.</summary>
    public static int CheckRetryAfter(int retryAfterSeconds, string parameter)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retryAfterSeconds, parameter);
        return retryAfterSeconds;
    }
}
