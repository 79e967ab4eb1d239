namespace Umcg.Cli.Systems;

/// <summary>N threads (N = the capacity) take tasks from one FIFO queue; a blocked task holds its thread.</summary>
internal sealed class FixedPoolSystem : ITaskSystem
{
    private readonly BlockingCollection<Action> _queue = [];
    private readonly Thread[] _threads;

    public FixedPoolSystem(SystemSettings settings)
    {
        _threads = new Thread[settings.Capacity];
        for (int i = 0; i < _threads.Length; i++)
        {
            _threads[i] = new Thread(Loop) { IsBackground = true, Name = $"umcg-cli pool {i}" };
            _threads[i].UnsafeStart();
        }
    }

    public string Name => SystemNames.FixedPool;

    public void Start(Action body, TaskKind kind) => _queue.Add(body);

    public void Dispose()
    {
        _queue.CompleteAdding();
        foreach (var t in _threads)
        {
            t.Join();
        }

        _queue.Dispose();
    }

    private void Loop()
    {
        foreach (var body in _queue.GetConsumingEnumerable())
        {
            body();
        }
    }
}
