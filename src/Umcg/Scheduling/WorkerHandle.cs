using System.Runtime.CompilerServices;

namespace Umcg.Scheduling;

/// <summary>
/// A spawned body: awaitable, joinable, and carrying its exception. Completes when the body returns or throws;
/// an exception in one body is kept here and never disturbs other workers.
/// </summary>
public class WorkerHandle
{
    private protected WorkerHandle(Task completion, WorkerOptions options)
    {
        Completion = completion;
        Options = options;
    }

    /// <summary>
    /// Completes with the body: ran to completion, faulted with its exception, or canceled — by its token or a
    /// shutdown with cancellation before it started (then it never runs), or by an <see cref="OperationCanceledException"/> it threw.
    /// </summary>
    public Task Completion { get; }

    /// <summary>The options the body was spawned with.</summary>
    public WorkerOptions Options { get; }

    /// <summary>Whether the body has finished (in any way).</summary>
    public bool IsCompleted => Completion.IsCompleted;

    /// <summary>Awaits the body.</summary>
    public TaskAwaiter GetAwaiter() => Completion.GetAwaiter();

    /// <summary>
    /// Blocks until the body has finished and rethrows its exception. On a worker of a scheduler the wait is a
    /// blocking region, so the caller's server runs other workers meanwhile.
    /// </summary>
    public void Join()
    {
        using (Worker.Blocking())
        {
            Completion.GetAwaiter().GetResult();
        }
    }
}

/// <summary>A spawned body with a result.</summary>
/// <typeparam name="T">The result type.</typeparam>
public sealed class WorkerHandle<T> : WorkerHandle
{
    internal WorkerHandle(Task<T> completion, WorkerOptions options)
        : base(completion, options)
    {
        Completion = completion;
    }

    /// <summary>Completes with the body's result or exception.</summary>
    public new Task<T> Completion { get; }

    /// <summary>Awaits the result.</summary>
    public new TaskAwaiter<T> GetAwaiter() => Completion.GetAwaiter();

    /// <summary>Blocks until the body has finished and returns its result (rethrows its exception); see <see cref="WorkerHandle.Join"/>.</summary>
    public new T Join()
    {
        using (Worker.Blocking())
        {
            return Completion.GetAwaiter().GetResult();
        }
    }
}
