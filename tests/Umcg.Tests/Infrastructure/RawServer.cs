using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// A server thread running the canonical server loop of the UMCG_TF_COND_WAIT comment, on the raw kernel-half
/// API: set RUNNABLE|COND_WAIT, drain the runnable list with one exchange, pick the next worker (FIFO) if none
/// runs, Wait.
/// </summary>
public sealed unsafe class RawServer : IDisposable
{
    private readonly UmcgKernel _kernel;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _registered = new();
    private readonly ManualResetEventSlim _go = new();
    private readonly int? _cpu;
    private volatile bool _stop;
    private TaskBlock? _block;

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

    public UmcgTask* Task => _block!.Task;

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
        _block?.Dispose();
        Assert.True(Errors.IsEmpty, string.Join(Environment.NewLine, Errors));
    }

    private void Loop()
    {
        try
        {
            if (_cpu is int cpu)
            {
                Umcg.Kernel.Native.LinuxSyscalls.PinToCpu(0, cpu);
            }

            Tid = UmcgKernel.CurrentTid;
            _block = TaskBlock.Allocate();
            var self = _block.Task;
            self->ServerTid = (uint)Tid;
            self->State = (uint)TaskState.Running;
            var r = _kernel.Ctl(CtlFlags.Register, self, ClockId.Monotonic);
            if (r != Errno.Ok)
            {
                Errors.Enqueue(new InvalidOperationException($"server register: {r}"));
                _registered.Set();
                return;
            }

            _registered.Set();
            _go.Wait();
            ServeUntilStopped(self);

            r = _kernel.Ctl(CtlFlags.Unregister, self, ClockId.Monotonic);
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

    private void ServeUntilStopped(UmcgTask* self)
    {
        var queue = new Queue<int>();
        var queued = new HashSet<int>();
        var drained = new List<int>();
        while (true)
        {
            StateWord.PrepareWait(self);

            drained.Clear();
            var r = RunnableList.Drain(_kernel, self, drained);
            if (r != Errno.Ok)
            {
                Errors.Enqueue(new InvalidOperationException($"drain: {r}"));
            }

            // The list is LIFO: walk it backwards for arrival order. A worker already queued (a stale entry
            // left by a direct switch) keeps its place; the state check at pick time is what counts.
            for (int i = drained.Count - 1; i >= 0; i--)
            {
                if (queued.Add(drained[i]))
                {
                    queue.Enqueue(drained[i]);
                }
            }

            uint slot = Volatile.Read(ref self->NextTid);
            if ((slot & UmcgConstants.TidRunning) == 0 && !IsRunnable(slot))
            {
                // Nobody runs for us and there is no valid pending pick: take the next runnable worker.
                slot = 0;
                while (queue.TryDequeue(out int tid))
                {
                    queued.Remove(tid);
                    if (IsRunnable((uint)tid))
                    {
                        slot = (uint)tid;
                        break;
                    }
                }

                Volatile.Write(ref self->NextTid, slot);
                if (slot != 0)
                {
                    Started.Enqueue((int)slot);
                }
                else if (_stop)
                {
                    // Undo RUNNABLE|COND_WAIT: we are leaving the loop, not waiting.
                    Interlocked.Exchange(ref self->State, (uint)TaskState.Running);
                    return;
                }
            }

            // The deadline only bounds how late the loop notices Dispose; it is not synchronisation.
            long deadline = KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(20));
            r = _kernel.Wait(0, deadline);
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
                    Volatile.Write(ref self->NextTid, 0);
                    break;
            }
        }
    }

    private bool IsRunnable(uint tid)
    {
        var block = tid == 0 ? null : _kernel.BlockOf((int)(tid & UmcgConstants.TidMask));
        return block != null && StateWord.StateOf(block) == TaskState.Runnable;
    }
}
