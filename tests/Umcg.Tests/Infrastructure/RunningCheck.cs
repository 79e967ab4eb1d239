namespace Umcg.Tests.Infrastructure;

/// <summary>
/// Checks, every time a worker starts running user code for a server, that no other worker of that server runs
/// user code, that the server's next_tid names the worker with TID_RUNNING, and that the worker is RUNNING.
/// Workers call <see cref="Enter"/> right after Ctl/Wait/SysExit/NotifyResume returns and <see cref="Leave"/>
/// right before they yield, switch, block, reach a safepoint or unregister. Violations are recorded, never
/// thrown, so the run goes on and the test asserts <see cref="Violations"/> is empty at the end.
/// </summary>
public sealed unsafe class RunningCheck
{
    private readonly UmcgTask* _server;
    private readonly int _serverTid;
    private int _count;
    private int _owner;

    public RunningCheck(UmcgTask* server, int serverTid, ConcurrentQueue<string> violations)
    {
        _server = server;
        _serverTid = serverTid;
        Violations = violations;
    }

    public ConcurrentQueue<string> Violations { get; }

    /// <summary>How many times a worker started running user code for this server.</summary>
    public long Entries;

    public void Enter(RawWorkerContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        Interlocked.Increment(ref Entries);
        int running = Interlocked.Increment(ref _count);
        int previous = Interlocked.Exchange(ref _owner, ctx.Tid);
        if (running != 1)
        {
            Violations.Enqueue($"worker {ctx.Tid} runs user code for server {_serverTid} while {running - 1} other worker(s) do (last entered: {previous})");
        }

        uint slot = Volatile.Read(ref _server->NextTid);
        if (slot != ((uint)ctx.Tid | UmcgConstants.TidRunning))
        {
            Violations.Enqueue($"worker {ctx.Tid} runs for server {_serverTid} but the server's next_tid is 0x{slot:x8}");
        }

        var state = StateWord.StateOf(ctx.Task);
        if (state != TaskState.Running)
        {
            Violations.Enqueue($"worker {ctx.Tid} runs user code in state {state}");
        }

        if (Volatile.Read(ref ctx.Task->ServerTid) != (uint)_serverTid)
        {
            Violations.Enqueue($"worker {ctx.Tid} of server {_serverTid} names server {ctx.Task->ServerTid}");
        }
    }

    public void Leave(RawWorkerContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        int owner = Interlocked.CompareExchange(ref _owner, 0, ctx.Tid);
        if (owner != ctx.Tid)
        {
            Violations.Enqueue($"worker {ctx.Tid} leaves server {_serverTid} but {owner} entered last");
        }

        Interlocked.Decrement(ref _count);
    }
}
