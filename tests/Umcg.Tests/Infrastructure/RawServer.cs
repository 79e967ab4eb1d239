using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Kernel.Native;
using Umcg.Kernel.Raw;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// A server thread running the canonical server loop (<see cref="RawTask"/>'s steps) with a FIFO queue of its
/// own: set RUNNABLE|COND_WAIT, drain the runnable list, pick the next worker if none runs, Wait.
/// </summary>
public sealed unsafe class RawServer : IDisposable
{
    private readonly UmcgKernel _kernel;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _registered = new();
    private readonly ManualResetEventSlim _go = new();
    private readonly int? _cpu;
    private volatile bool _stop;
    private RawTask? _self;

    public RawServer(UmcgKernel kernel, bool run = true, int? cpu = null, string name = "raw server")
    {
        _kernel = kernel;
        _cpu = cpu;
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
        _thread.Start();
        if (!_registered.Wait(Watchdog.Limit))
        {
            Watchdog.Fail(kernel, "server did not register");
        }

        if (Errors.TryPeek(out var e))
        {
            throw new InvalidOperationException("server failed to start", e);
        }

        if (run)
        {
            Run();
        }
    }

    public int Tid { get; private set; }

    public UmcgTask* Task => _self!.Task;

    /// <summary>Unexpected results seen by the loop (an empty queue means the loop saw nothing wrong).</summary>
    public ConcurrentQueue<Exception> Errors { get; } = new();

    /// <summary>Every worker the loop started, in order.</summary>
    public ConcurrentQueue<int> Started { get; } = new();

    public long Timeouts;
    public long Wakeups;

    /// <summary>Lets a server created with run: false enter its loop.</summary>
    public void Run() => _go.Set();

    public void Dispose()
    {
        _stop = true;
        _go.Set();
        Watchdog.Join(_kernel, _thread);
        _self?.Dispose();
        Assert.True(Errors.IsEmpty, string.Join(Environment.NewLine, Errors));
    }

    private void Loop()
    {
        try
        {
            if (_cpu is int cpu)
            {
                LinuxSyscalls.PinToCpu(0, cpu);
            }

            _self = RawTask.ForServer(_kernel);
            Tid = _self.Tid;
            var r = _self.Register();
            if (r != Errno.Ok)
            {
                Errors.Enqueue(new InvalidOperationException($"server register: {r}"));
                _registered.Set();
                return;
            }

            _registered.Set();
            _go.Wait();
            ServeUntilStopped(_self);

            r = _self.Unregister();
            if (r != Errno.Ok)
            {
                Errors.Enqueue(new InvalidOperationException($"server unregister: {r}"));
            }
        }
        catch (Exception e)
        {
            Errors.Enqueue(e);
            _registered.Set();
        }
    }

    private void ServeUntilStopped(RawTask self)
    {
        var queue = new Queue<int>();
        var queued = new HashSet<int>();
        while (true)
        {
            self.PrepareWait();
            var r = self.DrainRunnable();
            if (r != Errno.Ok)
            {
                Errors.Enqueue(new InvalidOperationException($"drain: {r}"));
            }

            // A worker already queued (a stale entry left by a direct switch) keeps its place; the state check at
            // pick time is what counts.
            foreach (int tid in self.Drained)
            {
                if (queued.Add(tid))
                {
                    queue.Enqueue(tid);
                }
            }

            uint slot = self.NextTid;
            if ((slot & UmcgConstants.TidRunning) == 0 && !self.IsRunnable(slot))
            {
                // Nobody runs for us and there is no valid pending pick: take the next runnable worker.
                slot = 0;
                while (queue.TryDequeue(out int tid))
                {
                    queued.Remove(tid);
                    if (self.IsRunnable((uint)tid))
                    {
                        slot = (uint)tid;
                        break;
                    }
                }

                self.NextTid = slot;
                if (slot != 0)
                {
                    Started.Enqueue((int)slot);
                }
                else if (_stop)
                {
                    self.CancelWait();
                    return;
                }
            }

            // The deadline only bounds how late the loop notices Dispose; it is not synchronisation.
            r = self.Wait(KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(20)));
            switch (r)
            {
                case Errno.Ok:
                    Interlocked.Increment(ref Wakeups);
                    break;
                case Errno.ETIMEDOUT:
                    Interlocked.Increment(ref Timeouts);
                    break;
                case Errno.EAGAIN:
                    // Woken between PrepareWait and Wait (state already RUNNING), or the picked worker was
                    // no longer RUNNABLE: go round again; the pick is re-validated there.
                    break;
                default:
                    Errors.Enqueue(new InvalidOperationException($"server wait: {r}"));
                    self.NextTid = 0;
                    break;
            }
        }
    }
}
