using Umcg.Kernel.Raw;

namespace Umcg.Cli.Workloads.PingPong.Pairs;

/// <summary>
/// What the UMCG handoffs share: the ping thread registers as a server of <see cref="UmcgKernel.Default"/>
/// (futex parking) and runs its workers with the raw server kit (<see cref="RawTask"/>); the partners are
/// worker threads that give the CPU back with Wait.
/// </summary>
/// <remarks>
/// Only the server pins itself. The workers are not pinned by this code: the kernel half moves a worker to
/// its server's CPU when the worker starts running, and <see cref="WorkerLoop"/> checks that it did.
/// </remarks>
internal abstract class UmcgPingPong : PingPongPair
{
    private readonly int[] _workerTids;
    private readonly Thread[] _workers;
    private RawTask? _server;
    private volatile bool _stop;

    /// <summary>Creates a server with <paramref name="workers"/> workers; see <see cref="PingPongPair"/>.</summary>
    protected UmcgPingPong(int? cpu, int workers)
        : base(cpu)
    {
        _workerTids = new int[workers];
        _workers = new Thread[workers];
    }

    /// <summary>The kernel half under test.</summary>
    protected static UmcgKernel Kernel => UmcgKernel.Default;

    /// <summary>What the last <see cref="RunWorker"/> found on the runnable list.</summary>
    protected IReadOnlyList<int> Drained => _server!.Drained;

    /// <summary>The TID of worker <paramref name="index"/>, once its thread has started.</summary>
    protected int WorkerTid(int index) => Volatile.Read(ref _workerTids[index]);

    /// <summary>Registers the server, then starts the workers one by one and runs each once (it gives the CPU back at once).</summary>
    protected override void SetUp()
    {
        _server = RawTask.ForServer(Kernel);
        Check(_server.Register(), "server register");
        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i;
            _workers[i] = StartPartner($"umcg worker {i}", () => WorkerLoop(index), pin: false);
            _server.Accept(() => WorkerTid(index), StallLimit);
        }
    }

    /// <summary>Runs every worker once more so that it sees the stop and unregisters, then unregisters the server.</summary>
    protected override void TearDown()
    {
        _stop = true;
        for (int i = 0; i < _workers.Length; i++)
        {
            RunWorker(WorkerTid(i));
            Join(_workers[i]);
        }

        Check(_server!.Unregister(), "server unregister");
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _server?.Dispose();
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    protected override string Describe() => $"kernel half tasks:{Environment.NewLine}{Kernel.Dump()}";

    /// <summary>One pass of the canonical server loop naming <paramref name="tid"/>; returns once the worker has given the CPU back.</summary>
    protected void RunWorker(int tid) => _server!.RunWorker(tid);

    /// <summary>The body of a worker each time it is run: ends by giving up the CPU with <see cref="GiveUp"/>.</summary>
    protected abstract void OnRun(int index, RawTask self);

    /// <summary>A worker gives up the CPU: to <paramref name="nextTid"/> (a direct switch), or to its server when 0.</summary>
    protected static void GiveUp(RawTask self, int nextTid)
    {
        ArgumentNullException.ThrowIfNull(self);
        RawTask.Check(self.GiveUp(nextTid), "worker wait");
    }

    /// <summary>Throws with the kernel half's task dump unless <paramref name="r"/> is Ok.</summary>
    protected void Check(Errno r, string what)
    {
        if (r != Errno.Ok)
        {
            throw Failure($"{what}: {r}");
        }
    }

    /// <summary>A protocol failure, with the kernel half's task dump.</summary>
    protected InvalidOperationException Failure(string what) => new($"{what}{Environment.NewLine}{Describe()}");

    private void WorkerLoop(int index)
    {
        using var self = RawTask.ForWorker(Kernel, _server!.Tid);
        Volatile.Write(ref _workerTids[index], self.Tid);
        try
        {
            // Returns once the server has run this worker.
            Check(self.Register(), "worker register");
            if (Cpu is int cpu && (LinuxSyscalls.GetAffinity(0) is not [int only] || only != cpu))
            {
                throw Failure($"worker {index} runs on CPUs [{string.Join(',', LinuxSyscalls.GetAffinity(0))}], not its server's CPU {Cpu}");
            }

            while (!_stop)
            {
                OnRun(index, self);
            }

            Check(self.Unregister(), "worker unregister");
        }
        finally
        {
            // On a failure, leave no server waiting for this worker.
            self.LeaveNoServerWaiting();
        }
    }
}
