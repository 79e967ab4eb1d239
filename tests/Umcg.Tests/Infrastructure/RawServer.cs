using Umcg.Kernel.Raw;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// A server thread running the canonical server loop (<see cref="RawTask"/>'s steps) with a FIFO queue of its
/// own: set RUNNABLE|COND_WAIT, drain the runnable list, pick the next worker if none runs, Wait.
/// </summary>
internal sealed class RawServer : RawServerThread
{
    public RawServer(UmcgKernel kernel, bool run = true, int? cpu = null, string name = "raw server")
        : base(kernel, cpu, name) => Start(run);

    protected override void ServeUntilStopped(RawTask self)
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
                else if (Stopping)
                {
                    self.CancelWait();
                    return;
                }
            }

            // The deadline only bounds how late the loop notices Dispose; it is not synchronisation.
            CountWait(self, self.Wait(KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(20))));
        }
    }
}
