namespace Umcg.Hosting.Tests.AspNetCore;

/// <summary>What a handler saw of the thread it ran on.</summary>
public sealed record WhereRan(bool IsWorker, int? Priority)
{
    public static WhereRan Now() => new(Worker.IsWorker, Worker.Current?.Priority);
}

/// <summary>What a handler saw of the request's context.</summary>
public sealed record ContextSeen(bool IsWorker, string? AsyncLocalValue, string? TraceId, string? Query, bool AccessorSeesRequest, string? Header);
