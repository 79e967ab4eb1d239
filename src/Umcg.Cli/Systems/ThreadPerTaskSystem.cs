namespace Umcg.Cli.Systems;

/// <summary>Each task gets a new OS thread; the OS scheduler shares the CPUs among them.</summary>
internal sealed class ThreadPerTaskSystem : ITaskSystem
{
    private readonly ConcurrentBag<Thread> _threads = [];

    public string Name => SystemNames.Threads;

    public void Start(Action body, TaskKind kind)
    {
        var thread = new Thread(body.Invoke) { IsBackground = true, Name = $"umcg-cli {kind}" };
        thread.UnsafeStart();
        _threads.Add(thread);
    }

    public void Dispose()
    {
        foreach (var t in _threads)
        {
            t.Join();
        }
    }
}
