namespace Umcg.Hosting.Tests.AspNetCore;

/// <summary>What a handler saw of the thread it ran on.</summary>
public sealed record WhereRan(bool IsWorker, int? Priority);

/// <summary>What a handler saw of the request's context.</summary>
public sealed record ContextSeen(bool IsWorker, string? AsyncLocalValue, string? TraceId, string? Query, bool AccessorSeesRequest, string? Header);

/// <summary>Endpoints that hold the only worker thread, so that the next body waits for it.</summary>
public sealed class Gate
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ManualResetEventSlim Release { get; } = new();

    /// <summary>A handler that holds its worker until <see cref="Release"/> (in a blocking region, as a database call would).</summary>
    public string Hold()
    {
        Entered.TrySetResult();
        using (Worker.Blocking())
        {
            Release.Wait();
        }

        return "released";
    }
}

public static class Where
{
    public static WhereRan Now() => new(Worker.IsWorker, Worker.Current?.Priority);
}
