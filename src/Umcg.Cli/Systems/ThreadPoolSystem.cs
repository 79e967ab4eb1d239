namespace Umcg.Cli.Systems;

/// <summary>Tasks run as work items of the .NET thread pool (as it is: its own thread injection, no priorities).</summary>
internal sealed class ThreadPoolSystem : ITaskSystem
{
    public string Name => SystemNames.ThreadPool;

    public void Start(Action body, TaskKind kind) =>
        ThreadPool.UnsafeQueueUserWorkItem(static b => b(), body, preferLocal: false);

    public void Dispose()
    {
    }
}
