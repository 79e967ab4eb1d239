using System.Diagnostics;
using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Kernel.Native;

namespace Umcg.Benchmarks.Handoff;

/// <summary>
/// What the UMCG handoffs share: the ping thread registers as a server of <see cref="UmcgKernel.Default"/>
/// (futex parking) and runs its workers with the canonical server loop on the raw kernel-half API; the
/// partners are worker threads that give the CPU back with Wait.
/// </summary>
/// <remarks>
/// Only the server pins itself. The workers are not pinned by this code: the kernel half moves a worker to
/// its server's CPU when the worker starts running, and <see cref="WorkerLoop"/> checks that it did.
/// </remarks>
public abstract unsafe class UmcgPingPong : PingPong
{
    private readonly List<int> _drained = [];
    private readonly int[] _workerTids;
    private readonly Thread[] _workers;
    private TaskBlock? _block;
    private UmcgTask* _self;
    private volatile bool _stop;

    /// <summary>Creates a server with <paramref name="workers"/> workers; see <see cref="PingPong"/>.</summary>
    protected UmcgPingPong(int? cpu, int workers)
        : base(cpu)
    {
        _workerTids = new int[workers];
        _workers = new Thread[workers];
    }

    /// <summary>The kernel half under test.</summary>
    protected static UmcgKernel Kernel => UmcgKernel.Default;

    /// <summary>What the last <see cref="RunWorker"/> found on the runnable list.</summary>
    protected IReadOnlyList<int> Drained => _drained;

    /// <summary>The TID of worker <paramref name="index"/>, once its thread has started.</summary>
    protected int WorkerTid(int index) => Volatile.Read(ref _workerTids[index]);

    /// <summary>Registers the server, then starts the workers one by one and runs each once (it gives the CPU back at once).</summary>
    protected override void SetUp()
    {
        _block = TaskBlock.Allocate();
        _self = _block.Task;
        _self->ServerTid = (uint)UmcgKernel.CurrentTid;
        _self->State = (uint)TaskState.Running;
        Check(Kernel.Ctl(CtlFlags.Register, _self, ClockId.Monotonic), "server register");

        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i;
            _workers[i] = StartPartner($"umcg worker {i}", () => WorkerLoop(index), pin: false);
            Accept(index);
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

        Check(Kernel.Ctl(CtlFlags.Unregister, _self, ClockId.Monotonic), "server unregister");
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        _block?.Dispose();
        base.Dispose(disposing);
    }

    /// <inheritdoc />
    protected override string Describe() => $"kernel half tasks:{Environment.NewLine}{Kernel.Dump()}";

    /// <summary>
    /// One pass of the canonical server loop with nothing running: RUNNABLE|COND_WAIT, drain the runnable
    /// list, name <paramref name="tid"/> in next_tid, Wait. Returns once the worker has given the CPU back.
    /// </summary>
    protected void RunWorker(int tid)
    {
        if (!StateWord.PrepareWait(_self))
        {
            throw Failure("server was not RUNNING before Wait");
        }

        _drained.Clear();
        Check(RunnableList.Drain(Kernel, _self, _drained), "drain");
        Volatile.Write(ref _self->NextTid, (uint)tid);
        Check(Kernel.Wait(0, 0), "server wait");

        // Only the worker's release of the slot wakes the server here; a slot still naming it means a wake
        // came from somewhere else while the worker ran.
        if (Volatile.Read(ref _self->NextTid) != 0)
        {
            throw Failure("server woke while its worker still held the slot");
        }
    }

    /// <summary>The body of a worker each time it is run: ends by giving up the CPU with <see cref="GiveUp"/>.</summary>
    protected abstract void OnRun(int index, UmcgTask* self);

    /// <summary>A worker gives up the CPU: to <paramref name="nextTid"/> (a direct switch), or to its server when 0.</summary>
    protected void GiveUp(UmcgTask* self, int nextTid)
    {
        Volatile.Write(ref self->NextTid, (uint)nextTid);
        if (!StateWord.PrepareWait(self))
        {
            throw Failure("worker was not RUNNING before Wait");
        }

        Check(Kernel.Wait(0, 0), "worker wait");
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

    // Returns once the worker has registered, run once and released the slot. The worker is named in next_tid
    // only after it has shown up on the runnable list (before that it may not be registered yet: ESRCH). Its
    // registration also wakes the server, possibly while it already runs, so Ok alone does not mean it gave
    // the CPU back: the released slot does.
    private void Accept(int index)
    {
        var elapsed = Stopwatch.StartNew();
        bool queued = false;
        while (true)
        {
            if (elapsed.Elapsed > StallLimit)
            {
                throw Failure($"worker {index} was not accepted within {StallLimit.TotalSeconds:0} s");
            }

            StateWord.PrepareWait(_self);
            _drained.Clear();
            Check(RunnableList.Drain(Kernel, _self, _drained), "drain");
            int tid = WorkerTid(index);
            queued |= tid != 0 && _drained.Contains(tid);
            if (queued && (Volatile.Read(ref _self->NextTid) & UmcgConstants.TidRunning) == 0)
            {
                Volatile.Write(ref _self->NextTid, (uint)tid);
            }

            // EAGAIN: woken between PrepareWait and Wait; ETIMEDOUT: the worker has not queued itself yet.
            var r = Kernel.Wait(0, KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(1)));
            if (r is not (Errno.Ok or Errno.EAGAIN or Errno.ETIMEDOUT))
            {
                throw Failure($"server wait while accepting worker {index}: {r}");
            }

            if (queued && r == Errno.Ok && Volatile.Read(ref _self->NextTid) == 0)
            {
                return;
            }
        }
    }

    private void WorkerLoop(int index)
    {
        var block = TaskBlock.Allocate();
        var self = block.Task;
        Volatile.Write(ref _workerTids[index], UmcgKernel.CurrentTid);
        self->ServerTid = _self->ServerTid;
        self->State = (uint)TaskState.Blocked;
        try
        {
            // Returns once the server has run this worker.
            Check(Kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, self, ClockId.Monotonic), "worker register");
            if (Cpu is int cpu && (LinuxSyscalls.GetAffinity(0) is not [int only] || only != cpu))
            {
                throw Failure($"worker {index} runs on CPUs [{string.Join(',', LinuxSyscalls.GetAffinity(0))}], not its server's CPU {Cpu}");
            }

            while (!_stop)
            {
                OnRun(index, self);
            }

            Check(Kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, self, ClockId.Monotonic), "worker unregister");
        }
        finally
        {
            // On a failure, leave no server waiting for this worker (unregistering wakes it).
            if (Kernel.IsRegisteredThread)
            {
                Kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, self, ClockId.Monotonic);
            }

            if (!block.IsRegistered)
            {
                block.Dispose();
            }
        }
    }
}
