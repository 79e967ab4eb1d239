using Umcg.Scheduling.Demotion;
using Umcg.Scheduling.Policies;

namespace Umcg.Cli.Systems;

/// <summary>Tasks run as Umcg workers on N pinned servers (FIFO, or strict priority when asked: requests 20, batch 0).</summary>
internal sealed class UmcgSystem : ITaskSystem, IServerView
{
    private static readonly WorkerOptions Request = new() { Priority = 20, Name = "request" };
    private static readonly WorkerOptions Batch = new() { Priority = 0, Name = "batch" };

    public UmcgSystem(SystemSettings settings)
    {
        Scheduler = new UmcgScheduler(new UmcgSchedulerOptions
        {
            Servers = settings.Capacity,
            Policy = settings.Priorities ? () => new PriorityPolicy(Timeout.InfiniteTimeSpan) : () => new FifoPolicy(),
            Name = "umcg-cli",
            Trace = settings.Trace,
            DirectSuccessor = !settings.ViaServer,
            QuietArrivals = !settings.ViaServer,
            OpenIdleServers = !settings.ViaServer,
            OsTimeSlice = settings.OsTimeSlice,
            OsTimeSliceMode = settings.OsTimeSliceMode,
            Demotion = !settings.Demotion ? DemotionOptions.Off
                : settings.DemoteToNice19 ? new DemotionOptions { Mechanism = DemotionMechanism.Nice19 }
                : new DemotionOptions(),
        });
        Name = settings switch
        {
            { ViaServer: true } => SystemNames.UmcgViaServer,
            { Demotion: false } => SystemNames.UmcgNoDemotion,
            { DemoteToNice19: true } => SystemNames.UmcgNice19,
            _ => SystemNames.Umcg,
        };
    }

    public string Name { get; }

    public UmcgScheduler Scheduler { get; }

    public void Start(Action body, TaskKind kind) => Scheduler.Spawn(body, kind switch
    {
        TaskKind.Request => Request,
        TaskKind.Batch => Batch,
        _ => WorkerOptions.Default,
    });

    public int CurrentTask() => Worker.Current?.Tid ?? 0;

    /// <summary>
    /// Read through the kernel half's task table, as the blocking detector does: RUNNING in the foreground. A worker
    /// its server demoted runs on in the background, named by no server's record, and holds no server.
    /// </summary>
    public unsafe bool HoldsServer(int task) =>
        Scheduler.Kernel.Tasks.TryGet((uint)task, out var kernelTask)
        && kernelTask.State == TaskState.Running
        && (StateWord.FlagsOf(kernelTask.Block) & TaskFlags.Background) == 0;

    public void Dispose()
    {
        Scheduler.Dispose();
        if (Scheduler.Faults.Count > 0)
        {
            throw new InvalidOperationException($"The Umcg scheduler reported {Scheduler.Faults.Count} fault(s); first: {Scheduler.Faults.First()}");
        }
    }
}
