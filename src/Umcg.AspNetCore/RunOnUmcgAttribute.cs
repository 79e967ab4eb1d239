using Microsoft.AspNetCore.Mvc.Filters;

namespace Umcg.AspNetCore;

/// <summary>
/// Runs an MVC action (a controller, or one action) on a worker of the application's
/// <see cref="Scheduling.UmcgScheduler"/> (registered by <c>services.AddUmcg()</c>): <c>[RunOnUmcg(Priority = 20)]</c>.
/// Also the endpoint metadata that <see cref="UmcgEndpointConventionBuilderExtensions.RunOnUmcg"/> adds.
/// </summary>
/// <remarks>
/// An action filter spawns the rest of the action pipeline — the action method and the action filters after this
/// one — as a body; model binding has run before it on the request thread, and the result executes after it there.
/// Cancellation, context flow and the 503 on refusal are as for <see cref="UmcgEndpointConventionBuilderExtensions.RunOnUmcg"/>.
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = false, Inherited = true)]
public sealed class RunOnUmcgAttribute : Attribute, IAsyncActionFilter, IOrderedFilter
{
    private int _priority;
    private int _retryAfterSeconds = 1;
    private Scheduling.WorkerOptions? _options;

    /// <summary>0 (lowest, the default) to <see cref="Scheduling.Policies.PriorityPolicy.Levels"/> − 1 (highest). Needs a priority policy, the hosted default.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Outside that range.</exception>
    public int Priority
    {
        get => _priority;
        init
        {
            _options = WorkerDispatch.OptionsFor(value, nameof(Priority));
            _priority = value;
        }
    }

    /// <summary>The <c>Retry-After</c> of a request refused by admission, in seconds. Default 1.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative.</exception>
    public int RetryAfterSeconds
    {
        get => _retryAfterSeconds;
        init => _retryAfterSeconds = WorkerDispatch.CheckRetryAfter(value, nameof(RetryAfterSeconds));
    }

    /// <summary>Runs last among action filters (after every other filter of its scope), so that only the action moves to the worker. Default <see cref="int.MaxValue"/>.</summary>
    public int Order { get; init; } = int.MaxValue;

    /// <summary>Spawns the action on a worker; on refusal answers 503 with <c>Retry-After</c> without running it.</summary>
    public async Task OnActionExecutionAsync(ActionExecutingContext context, ActionExecutionDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var http = context.HttpContext;
        var scheduler = WorkerDispatch.SchedulerOf(http.RequestServices);
        var options = _options ??= Scheduling.WorkerOptions.Default;
        var (admitted, _) = await WorkerDispatch.RunAsync(scheduler, http, () => new ValueTask<ActionExecutedContext>(next()), options, _retryAfterSeconds).ConfigureAwait(false);
        if (!admitted)
        {
            context.Result = new Microsoft.AspNetCore.Mvc.StatusCodeResult(http.Response.StatusCode);
        }
    }
}
