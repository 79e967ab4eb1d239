using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Diagnostics;

/// <summary>
/// Feeds a <see cref="TraceRecorder"/> with the workers' state transitions of one kernel half, optionally only
/// those of one scheduler's workers.
/// </summary>
internal sealed unsafe class KernelTraceObserver(TraceRecorder recorder, int[]? serverTids) : TransitionObserver
{
    public override void OnTransition(KernelTask task, TaskState from, TaskState to, long stampNs)
    {
        // Servers are left out: user space changes their state word too (a remote wake), unseen here.
        if (!task.IsWorker)
        {
            return;
        }

        // A worker's server_tid changes only while it does not run, never during its own transition.
        int server = (int)(Volatile.Read(ref task.Block->ServerTid) & UmcgConstants.TidMask);
        if (serverTids is not null && Array.IndexOf(serverTids, server) < 0)
        {
            return; // another scheduler's worker on a shared kernel half
        }

        long ts = task.Clock == ClockId.Monotonic ? stampNs : KernelClock.Now(ClockId.Monotonic);

        // RUNNABLE → RUNNABLE is Wait committing what the worker began in user space: it gives up its CPU.
        var old = from == to ? TaskState.Running : from;
        recorder.Write(TraceEventKind.Transition, ts, task.Tid, server, UmcgKernel.CurrentTid, 0, old, to);
    }
}
