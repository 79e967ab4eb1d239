using Umcg.Kernel.Raw;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// A server thread running the canonical server loop (as <see cref="RawServer"/>) whose run queue is shared
/// with its workers, the way the RFC asks of next_tid users: whoever wakes a worker — the server, or a worker
/// switching straight to it — first takes it off the runnable list and out of the run queue, so an entry is
/// never woken while the kernel half may still push it.
/// </summary>
/// <remarks>
/// <para>By default the loop waits without a deadline: a lost wakeup is then a stall that the watchdog reports
/// with a dump, not a delay that a timeout hides. Dispose wakes the sleeping server the way a user-space waker
/// would (RUNNABLE → RUNNING on its state word, then Kick).</para>
/// <para>The loop also checks the protocol as it goes and records anything unexpected in <see cref="RawServerThread.Errors"/>:
/// an entry drained twice, or a queued worker that is not RUNNABLE when it is picked or claimed.</para>
/// </remarks>
internal sealed unsafe class RunQueueServer : RawServerThread
{
    private readonly TimeSpan? _waitSlice;
    private readonly object _lock = new();
    private readonly List<int> _queue = [];

    /// <param name="kernel">The kernel half.</param>
    /// <param name="run">Enter the loop at once (false: wait for <see cref="RawServerThread.Run"/>).</param>
    /// <param name="cpu">Pin the server to this CPU before it registers.</param>
    /// <param name="name">The thread's name.</param>
    /// <param name="waitSlice">A deadline for every Wait (null: none, so that only a wake ends a Wait).</param>
    public RunQueueServer(UmcgKernel kernel, bool run = true, int? cpu = null, string name = "run-queue server", TimeSpan? waitSlice = null)
        : base(kernel, cpu, name)
    {
        _waitSlice = waitSlice;
        Start(run);
    }

    /// <summary>Whether <paramref name="tid"/> is queued to run on this server (on its runnable list or in its run queue).</summary>
    public bool IsQueued(int tid)
    {
        lock (_lock)
        {
            DrainLocked();
            return _queue.Contains(tid);
        }
    }

    /// <summary>The TIDs in the run queue, oldest first (after taking the runnable list).</summary>
    public int[] Queued()
    {
        lock (_lock)
        {
            DrainLocked();
            return [.. _queue];
        }
    }

    /// <summary>
    /// Takes <paramref name="tid"/> out of the run queue so the caller may switch to it; false if it is not
    /// queued. The caller must then wake it (switch to it) or the worker is lost.
    /// </summary>
    public bool TryClaim(int tid)
    {
        lock (_lock)
        {
            DrainLocked();
            if (!_queue.Remove(tid))
            {
                return false;
            }

            CheckRunnable(tid, "claimed");
            return true;
        }
    }

    /// <summary>Takes a random queued worker out of the run queue so the caller may switch to it; false if none is queued.</summary>
    public bool TryClaimAny(Random random, out int tid)
    {
        ArgumentNullException.ThrowIfNull(random);
        lock (_lock)
        {
            DrainLocked();
            if (_queue.Count == 0)
            {
                tid = 0;
                return false;
            }

            int i = random.Next(_queue.Count);
            tid = _queue[i];
            _queue.RemoveAt(i);
            CheckRunnable(tid, "claimed");
            return true;
        }
    }

    /// <summary>
    /// For stall reports: the head of the runnable list (not taken: a stalled server left it there) and the run
    /// queue, without draining anything.
    /// </summary>
    public string Describe()
    {
        ulong head = Self is null ? 0 : Self.RunnableHead;
        string queued;
        lock (_lock)
        {
            queued = string.Join(",", _queue);
        }

        return $"server {Tid}: runnable list head {(head == 0 ? "empty" : $"0x{head:x} (tid {Kernel.TidOfBlock(head)})")}, run queue [{queued}], started {Started.Count}, wakeups {Interlocked.Read(ref Wakeups)}, timeouts {Interlocked.Read(ref Timeouts)}, retries {Interlocked.Read(ref Retries)}";
    }

    /// <summary>
    /// Wakes the server if it sleeps in Wait: RUNNABLE → RUNNING on its state word, then Kick so that it
    /// re-checks. One poke after <see cref="RawServerThread.Stopping"/> is set is enough: a server that is not
    /// RUNNABLE yet reads it before it next decides to sleep.
    /// </summary>
    protected override void WakeToStop()
    {
        var task = Self!.Task;
        uint old = Volatile.Read(ref task->State);
        while ((old & UmcgConstants.StateMask) == (uint)TaskState.Runnable)
        {
            uint updated = (old & UmcgConstants.UserMask) | (uint)TaskState.Running;
            uint seen = Interlocked.CompareExchange(ref task->State, updated, old);
            if (seen == old)
            {
                break;
            }

            old = seen;
        }

        Kernel.Kick(0, Tid);
    }

    protected override void ServeUntilStopped(RawTask self)
    {
        while (true)
        {
            if (!self.PrepareWait())
            {
                Errors.Enqueue(new InvalidOperationException($"server was {StateWord.StateOf(self.Task)} at the top of its loop"));
                return;
            }

            lock (_lock)
            {
                DrainLocked();
                uint slot = self.NextTid;
                if ((slot & UmcgConstants.TidRunning) == 0)
                {
                    if (slot != 0 && !IsRunnable(slot))
                    {
                        // A pick left by a Wait that returned EAGAIN: nobody else could wake it, it was off the queue.
                        Errors.Enqueue(new InvalidOperationException($"pending pick {slot} is {StateOf(slot)}, not RUNNABLE"));
                        slot = 0;
                    }

                    if (slot == 0 && _queue.Count > 0)
                    {
                        slot = (uint)_queue[0];
                        _queue.RemoveAt(0);
                        CheckRunnable((int)slot, "picked");
                        Started.Enqueue((int)slot);
                    }

                    self.NextTid = slot;
                    if (slot == 0 && Stopping)
                    {
                        self.CancelWait();
                        return;
                    }
                }
            }

            long deadline = _waitSlice is TimeSpan slice ? KernelClock.DeadlineAfter(ClockId.Monotonic, slice) : 0;
            var r = self.Wait(deadline);
            CountWait(self, r);

            if (StateWord.StateOf(self.Task) != TaskState.Running)
            {
                Errors.Enqueue(new InvalidOperationException($"server Wait returned {r} with the server {StateWord.StateOf(self.Task)}"));
                return;
            }
        }
    }

    // Caller holds _lock.
    private void DrainLocked()
    {
        if (Self is not { } self)
        {
            return;
        }

        var r = self.DrainRunnable();
        if (r != Errno.Ok)
        {
            Errors.Enqueue(new InvalidOperationException($"drain: {r}"));
        }

        foreach (int tid in self.Drained)
        {
            if (_queue.Contains(tid))
            {
                Errors.Enqueue(new InvalidOperationException($"worker {tid} was on the runnable list while already in the run queue"));
                continue;
            }

            _queue.Add(tid);
        }
    }

    private void CheckRunnable(int tid, string what)
    {
        if (!Self!.IsRunnable((uint)tid))
        {
            Errors.Enqueue(new InvalidOperationException($"{what} worker {tid} is {StateOf((uint)tid)}, not RUNNABLE"));
        }
    }

    private bool IsRunnable(uint tid) => StateOf(tid) == TaskState.Runnable;

    private TaskState StateOf(uint tid) => Self!.StateOf(tid);
}
