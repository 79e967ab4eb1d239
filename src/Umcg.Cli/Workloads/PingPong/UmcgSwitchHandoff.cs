using Umcg.Abi;
using Umcg.Cli.Measurement;
using Umcg.Kernel;
using Umcg.Kernel.Native;

namespace Umcg.Cli.Workloads.PingPong;

/// <summary>
/// Umcg's handoffs on the kernel half's API, with one pinned server. Worker → worker (the default): two workers
/// hand the CPU to each other through next_tid (the worker's Wait wakes the other worker directly; the server
/// sleeps); the server runs the ping worker once per batch, and a round trip is two switches. Server → worker
/// (<c>viaServer</c>): one pass of the canonical server loop runs one worker, which yields straight back; a round
/// trip is the server's pass.
/// </summary>
internal sealed unsafe class UmcgSwitchHandoff(bool viaServer = false) : Handoff
{
    private const int Batch = 256;
    private readonly int[] _tids = new int[2];
    private readonly List<int> _drained = [];
    private readonly UmcgKernel _kernel = UmcgKernel.Default;
    private UmcgTask* _server;
    private LatencyRecorder? _latency;
    private volatile bool _timing;
    private volatile bool _inBatch;
    private volatile bool _stop;
    private bool _warm;
    private long _roundTrips;
    private long _answered;

    public override string Name => viaServer ? "umcg-server" : "umcg-switch";

    public override string Describe => viaServer
        ? "server → worker → server: the server names its worker in next_tid and Waits, the worker Waits straight back (kernel-half API)"
        : "two workers of one server switching through next_tid (kernel-half Wait), server asleep";

    public override long Run(int cpu, int servers, TimeSpan duration, LatencyRecorder latency)
    {
        _latency = latency;
        Exception? error = null;
        var server = new Thread(() =>
        {
            try
            {
                Serve(cpu, duration);
            }
#pragma warning disable CA1031 // reported below, on the caller's thread
            catch (Exception e)
            {
                error = e;
            }
#pragma warning restore CA1031
        })
        { IsBackground = true, Name = "umcg-cli umcg-switch server" };
        server.Start();
        if (!server.Join(duration + StallLimit + StallLimit))
        {
            throw new TimeoutException($"{Name}: the server did not finish; kernel half tasks:{Environment.NewLine}{_kernel.Dump()}");
        }

        if (error is not null)
        {
            throw new InvalidOperationException($"{Name} failed: {error.Message}", error);
        }

        if (_answered != _roundTrips + WarmUp)
        {
            throw new InvalidOperationException($"{Name}: {_roundTrips + WarmUp} round trips made (with the warm-up), {_answered} answered");
        }

        return _roundTrips;
    }

    private void Serve(int cpu, TimeSpan duration)
    {
        if (LinuxSyscalls.PinToCpu(0, cpu) is int err and not 0)
        {
            throw new InvalidOperationException($"pinning the server to CPU {cpu} failed: errno {err}");
        }

        using var block = TaskBlock.Allocate();
        _server = block.Task;
        _server->ServerTid = (uint)UmcgKernel.CurrentTid;
        _server->State = (uint)TaskState.Running;
        Check(_kernel.Ctl(CtlFlags.Register, _server, ClockId.Monotonic), "server register");
        var workers = new Thread[viaServer ? 1 : 2];
        try
        {
            for (int i = 0; i < workers.Length; i++)
            {
                int index = i;
                workers[i] = new Thread(() => WorkerMain(index)) { IsBackground = true, Name = $"umcg-cli umcg-switch worker {i}" };
                workers[i].Start();
                Accept(index);
            }

            // The first run of the ping worker warms up; the clock starts after it.
            _timing = true;
            if (viaServer)
            {
                TimeServerRoundTrips(duration);
            }
            else
            {
                RunWorker(_tids[0]);
                long deadlineNs = LinuxSyscalls.MonotonicNs() + (long)duration.TotalNanoseconds;
                while (LinuxSyscalls.MonotonicNs() < deadlineNs)
                {
                    RunWorker(_tids[0]);
                }
            }

            _stop = true;
            for (int i = 0; i < workers.Length; i++)
            {
                RunWorker(_tids[i]);
                Join(workers[i]);
            }
        }
        finally
        {
            _stop = true;
            Check(_kernel.Ctl(CtlFlags.Unregister, _server, ClockId.Monotonic), "server unregister");
        }
    }

    /// <summary>Server → worker → server round trips: each one pass of the server loop, timed on the server.</summary>
    private void TimeServerRoundTrips(TimeSpan duration)
    {
        int worker = _tids[0];
        for (int i = 0; i < WarmUp; i++)
        {
            RunWorker(worker);
        }

        long now = LinuxSyscalls.MonotonicNs();
        long deadlineNs = now + (long)duration.TotalNanoseconds;
        while (now < deadlineNs)
        {
            for (int i = 0; i < Batch; i++)
            {
                long t0 = now;
                RunWorker(worker);
                now = LinuxSyscalls.MonotonicNs();
                _latency!.Record(now - t0);
            }

            _roundTrips += Batch;
        }
    }

    /// <summary>One pass of the canonical server loop: drain, name <paramref name="tid"/> in next_tid, Wait until it gives the CPU back.</summary>
    private void RunWorker(int tid)
    {
        if (!StateWord.PrepareWait(_server))
        {
            throw Failure("server was not RUNNING before Wait");
        }

        _drained.Clear();
        Check(RunnableList.Drain(_kernel, _server, _drained), "drain");
        Volatile.Write(ref _server->NextTid, (uint)tid);
        Check(_kernel.Wait(0, 0), "server wait");
        if (Volatile.Read(ref _server->NextTid) != 0)
        {
            throw Failure("server woke while its worker still held the slot");
        }
    }

    /// <summary>
    /// Runs a new worker once: it is named in next_tid only after it appeared on the runnable list (before that it
    /// may not be registered), and accepted once it has run and released the slot.
    /// </summary>
    private void Accept(int index)
    {
        long limit = LinuxSyscalls.MonotonicNs() + (long)StallLimit.TotalNanoseconds;
        bool queued = false;
        while (true)
        {
            if (LinuxSyscalls.MonotonicNs() > limit)
            {
                throw Failure($"worker {index} was not accepted within {StallLimit.TotalSeconds:0} s");
            }

            StateWord.PrepareWait(_server);
            _drained.Clear();
            Check(RunnableList.Drain(_kernel, _server, _drained), "drain");
            int tid = Volatile.Read(ref _tids[index]);
            queued |= tid != 0 && _drained.Contains(tid);
            if (queued && (Volatile.Read(ref _server->NextTid) & UmcgConstants.TidRunning) == 0)
            {
                Volatile.Write(ref _server->NextTid, (uint)tid);
            }

            var r = _kernel.Wait(0, KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(1)));
            if (r is not (Errno.Ok or Errno.EAGAIN or Errno.ETIMEDOUT))
            {
                throw Failure($"server wait while accepting worker {index}: {r}");
            }

            if (queued && r == Errno.Ok && Volatile.Read(ref _server->NextTid) == 0)
            {
                return;
            }
        }
    }

    private void WorkerMain(int index)
    {
        var block = TaskBlock.Allocate();
        var self = block.Task;
        Volatile.Write(ref _tids[index], UmcgKernel.CurrentTid);
        self->ServerTid = _server->ServerTid;
        self->State = (uint)TaskState.Blocked;
        try
        {
            // Returns once the server has run this worker.
            Check(_kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, self, ClockId.Monotonic), "worker register");
            while (!_stop)
            {
                if (viaServer)
                {
                    // Run by the server: count the round trip, give the CPU straight back.
                    _answered += _timing ? 1 : 0;
                    GiveUp(self, 0);
                }
                else if (index == 0)
                {
                    RunPing(self);
                }
                else
                {
                    _answered += _inBatch ? 1 : 0;
                    GiveUp(self, _inBatch ? _tids[0] : 0);
                }
            }

            Check(_kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, self, ClockId.Monotonic), "worker unregister");
        }
        finally
        {
            // On a failure, leave no server waiting for this worker (unregistering wakes it).
            if (_kernel.IsRegisteredThread)
            {
                _kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, self, ClockId.Monotonic);
            }

            if (!block.IsRegistered)
            {
                block.Dispose();
            }
        }
    }

    /// <summary>The ping worker, each time the server runs it: a batch of timed round trips, then back to the server.</summary>
    private void RunPing(UmcgTask* self)
    {
        if (_timing)
        {
            int partner = _tids[1];
            _inBatch = true;
            if (!_warm)
            {
                for (int i = 0; i < WarmUp; i++)
                {
                    GiveUp(self, partner);
                }

                _warm = true;
                _inBatch = false;
                GiveUp(self, 0);
                return;
            }

            long now = LinuxSyscalls.MonotonicNs();
            for (int i = 0; i < Batch; i++)
            {
                long t0 = now;
                GiveUp(self, partner);
                now = LinuxSyscalls.MonotonicNs();
                _latency!.Record(now - t0);
            }

            _roundTrips += Batch;
            _inBatch = false;
        }

        GiveUp(self, 0);
    }

    /// <summary>Gives up the CPU: to <paramref name="nextTid"/> (a direct switch), or to the server when 0.</summary>
    private void GiveUp(UmcgTask* self, int nextTid)
    {
        Volatile.Write(ref self->NextTid, (uint)nextTid);
        if (!StateWord.PrepareWait(self))
        {
            throw Failure("worker was not RUNNING before Wait");
        }

        Check(_kernel.Wait(0, 0), "worker wait");
    }

    private void Check(Errno r, string what)
    {
        if (r != Errno.Ok)
        {
            throw Failure($"{what}: {r}");
        }
    }

    private InvalidOperationException Failure(string what) => new($"{Name}: {what}{Environment.NewLine}{_kernel.Dump()}");
}
