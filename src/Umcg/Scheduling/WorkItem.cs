namespace Umcg.Scheduling;

/// <summary>
/// A body waiting for, or running on, a worker thread: its delegate, its token, the execution context it runs in,
/// and where it waits while the admission bounds hold it back (see UmcgScheduler.Admission.cs).
/// </summary>
internal abstract class WorkItem
{
    private static readonly ContextCallback s_execute = static state => ((WorkItem)state!).Execute();

    // The caller's context, captured at spawn (null for a body that does not flow it: UnsafeSpawn, posted
    // callbacks and tasks, which carry their own, and spawns made while the flow is suppressed).
    private readonly ExecutionContext? _context;
    private Exception? _error;

    protected WorkItem(WorkerOptions options, CancellationToken token, ExecutionContext? context)
    {
        Options = options;
        Token = token;
        _context = context;
    }

    public WorkerOptions Options { get; }

    /// <summary>Cancels the body before it starts; a running body sees it only through the overloads that pass it.</summary>
    public CancellationToken Token { get; }

    public abstract WorkerHandle Handle { get; }

    /// <summary>The body's place in the queue of admitted bodies waiting for a thread; in the queue only under the pool lock.</summary>
    public LinkedListNode<WorkItem>? QueueNode { get; set; }

    /// <summary>The caller waiting for room to admit this body (Wait mode, both bounds reached), or null.</summary>
    public AdmissionWaiter? Waiter { get; set; }

    /// <summary>The token's callback while the body waits (queued or unadmitted); read and written under the pool lock.</summary>
    public CancellationTokenRegistration Registration { get; set; }

    /// <summary>Whether the body waits for a thread: queued, or held by a caller waiting for room. Under the pool lock.</summary>
    public bool IsWaiting => QueueNode?.List is not null || Waiter?.Node.List is not null;

    /// <summary>Runs the body (in its captured context) and keeps its outcome; never throws. The handle completes at <see cref="Publish"/>.</summary>
#pragma warning disable CA1031 // A body's exception belongs to its handle, never to the worker thread.
    public void Run()
    {
        try
        {
            // No context to flow, or the one the thread already runs in (a worker thread's own, empty one, which
            // RunItem puts back after every body): run the body directly. ExecutionContext.Run would switch to the
            // context the thread already has, and its frames would sit under the body, deepening every worker
            // thread's stack (see WorkerThread.ThreadMain).
            if (_context is null || ReferenceEquals(_context, ExecutionContext.Capture()))
            {
                Execute();
            }
            else
            {
                // Restores the worker thread's own context afterwards, so nothing the body set leaks to the next body.
                ExecutionContext.Run(_context, s_execute, this);
            }
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

    /// <summary>Completes the handle as canceled without running the body: its token was canceled, or a shutdown canceled it.</summary>
    public void CancelUnstarted() => Cancel(Token.IsCancellationRequested ? Token : default);

    /// <summary>Completes the handle as canceled with <paramref name="token"/>.</summary>
    public abstract void Cancel(CancellationToken token);

    /// <summary>Completes the handle with <paramref name="error"/> (a body's, or its broken worker thread's).</summary>
    public abstract void Fail(Exception error);

    protected abstract void Execute();

    protected abstract void Succeed();
}

/// <summary>A body without a result: an <see cref="Action"/>, or an <see cref="Action{CancellationToken}"/> handed the token.</summary>
internal sealed class ActionWorkItem : WorkItem
{
    private readonly Action? _body;
    private readonly Action<CancellationToken>? _tokenBody;
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ActionWorkItem(Action body, WorkerOptions options, CancellationToken token = default, ExecutionContext? context = null)
        : base(options, token, context)
    {
        _body = body;
        Handle = new ActionHandle(_completion.Task, options);
    }

    public ActionWorkItem(Action<CancellationToken> body, WorkerOptions options, CancellationToken token, ExecutionContext? context)
        : base(options, token, context)
    {
        _tokenBody = body;
        Handle = new ActionHandle(_completion.Task, options);
    }

    public override WorkerHandle Handle { get; }

    public override void Cancel(CancellationToken token) => _completion.TrySetCanceled(token);

    public override void Fail(Exception error) => _completion.TrySetException(error);

    protected override void Execute()
    {
        if (_body is not null)
        {
            _body();
        }
        else
        {
            _tokenBody!(Token);
        }
    }

    protected override void Succeed() => _completion.TrySetResult();

    private sealed class ActionHandle(Task completion, WorkerOptions options) : WorkerHandle(completion, options);
}

/// <summary>A body with a result: a <see cref="Func{T}"/>, or a <see cref="Func{CancellationToken, T}"/> handed the token.</summary>
internal sealed class FuncWorkItem<T> : WorkItem
{
    private readonly Func<T>? _body;
    private readonly Func<CancellationToken, T>? _tokenBody;
    private readonly TaskCompletionSource<T> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? _result;

    public FuncWorkItem(Func<T> body, WorkerOptions options, CancellationToken token, ExecutionContext? context)
        : base(options, token, context)
    {
        _body = body;
        Handle = new WorkerHandle<T>(_completion.Task, options);
    }

    public FuncWorkItem(Func<CancellationToken, T> body, WorkerOptions options, CancellationToken token, ExecutionContext? context)
        : base(options, token, context)
    {
        _tokenBody = body;
        Handle = new WorkerHandle<T>(_completion.Task, options);
    }

    public override WorkerHandle Handle { get; }

    public override void Cancel(CancellationToken token) => _completion.TrySetCanceled(token);

    public override void Fail(Exception error) => _completion.TrySetException(error);

    protected override void Execute() => _result = _body is not null ? _body() : _tokenBody!(Token);

    protected override void Succeed() => _completion.TrySetResult(_result!);
}
