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

    /// <summary>Completes with the body: ran to completion, faulted with its exception, or canceled at shutdown before it started.</summary>
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

/// <summary>A body waiting for, or running on, a worker thread.</summary>
internal abstract class WorkItem
{
    private Exception? _error;

    protected WorkItem(WorkerOptions options) => Options = options;

    public WorkerOptions Options { get; }

    public abstract WorkerHandle Handle { get; }

    /// <summary>Runs the body and keeps its outcome; never throws. The handle completes at <see cref="Publish"/>.</summary>
#pragma warning disable CA1031 // A body's exception belongs to its handle, never to the worker thread.
    public void Run()
    {
        try
        {
            Execute();
        }
        catch (Exception e)
        {
            _error = e;
        }
    }
#pragma warning restore CA1031

    /// <summary>
    /// Completes the handle with the outcome of <see cref="Run"/>. Kept apart so that the worker thread can
    /// first go back to the pool: whoever awaits the handle and spawns again then finds the thread ready.
    /// </summary>
    public void Publish()
    {
        switch (_error)
        {
            case null:
                Succeed();
                break;
            case OperationCanceledException oce:
                Cancel(oce.CancellationToken);
                break;
            default:
                Fail(_error);
                break;
        }
    }

    /// <summary>Completes the handle as canceled without running the body (shutdown with cancellation).</summary>
    public abstract void Cancel(CancellationToken token = default);

    /// <summary>Completes the handle with <paramref name="error"/> (a body's, or its broken worker thread's).</summary>
    public abstract void Fail(Exception error);

    protected abstract void Execute();

    protected abstract void Succeed();
}

internal sealed class ActionWorkItem : WorkItem
{
    private readonly Action _body;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ActionWorkItem(Action body, WorkerOptions options)
        : base(options)
    {
        _body = body;
        Handle = new ActionHandle(_completion.Task, options);
    }

    public override WorkerHandle Handle { get; }

    public override void Cancel(CancellationToken token = default) => _completion.TrySetCanceled(token);

    public override void Fail(Exception error) => _completion.TrySetException(error);

    protected override void Execute() => _body();

    protected override void Succeed() => _completion.TrySetResult();

    private sealed class ActionHandle(Task completion, WorkerOptions options) : WorkerHandle(completion, options);
}

internal sealed class FuncWorkItem<T> : WorkItem
{
    private readonly Func<T> _body;
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public FuncWorkItem(Func<T> body, WorkerOptions options)
        : base(options)
    {
        _body = body;
        Handle = new WorkerHandle<T>(_completion.Task, options);
    }

    public override WorkerHandle Handle { get; }

    public override void Cancel(CancellationToken token = default) => _completion.TrySetCanceled(token);

    public override void Fail(Exception error) => _completion.TrySetException(error);

    protected override void Execute() => _result = _body();

    protected override void Succeed() => _completion.TrySetResult(_result!);
}
