using System.Diagnostics.Tracing;
using System.Runtime.CompilerServices;
using Umcg.Abi;
using Umcg.Kernel;
using Umcg.Scheduling;

namespace Umcg.Diagnostics;

// The probes the scheduler calls where something happens, one line at each call site. A probe is the one path of
// its event: it counts it (SchedulerStats, or the server's ServerCounters when the server's own thread calls), and
// it reports it to whoever wants it (a trace recorder, an enabled histogram, an enabled event source) at the cost
// of a couple of branches otherwise; the work is in the non-inlined *Slow methods. Events that are only counted
// (yields, admission steps, direct switches) are counted where they happen, through SchedulerStats alone.
internal sealed partial class SchedulerTelemetry
{
    private static UmcgEventSource Events => UmcgEventSource.Log;

    /// <summary>A server's loop started (on the server's thread).</summary>
    public static void ServerStarted(Server server)
    {
        if (Events.IsEnabled(EventLevel.Informational, UmcgEventSource.Keywords.Lifecycle))
        {
            Events.ServerStarted(server.Index, server.Tid, server.Cpu);
        }
    }

    /// <summary>A server's loop ended (on the server's thread).</summary>
    public static void ServerStopped(Server server)
    {
        if (Events.IsEnabled(EventLevel.Informational, UmcgEventSource.Keywords.Lifecycle))
        {
            Events.ServerStopped(server.Index, server.Tid);
        }
    }

    /// <summary>A server wrote <paramref name="worker"/> to its next_tid: it starts it in its coming Wait.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Picked(Server server, WorkerThread worker)
    {
        server.Counters.Switches++;
        if (Recorder is not null || UmcgMetrics.RunQueueLatency.Enabled)
        {
            Started(TraceEventKind.Pick, server, worker, other: 0);
        }
    }

    /// <summary>
    /// <paramref name="worker"/> started itself on <paramref name="server"/>, which slept open with nothing to run (K12):
    /// on the worker's own thread, as it resumes. Counted and traced as a pick would be.
    /// </summary>
    public void StartedDirectly(Server server, WorkerThread worker)
    {
        Scheduler.Stats.CountDirectStart();
        if (Recorder is not null || UmcgMetrics.RunQueueLatency.Enabled)
        {
            StartedDirectlySlow(server, worker);
        }
    }

    /// <summary>
    /// The running worker <paramref name="from"/> is about to give its CPU up in Wait: straight to
    /// <paramref name="to"/>, or (null) back to its server.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Switching(WorkerThread from, WorkerThread? to)
    {
        if (to is not null && (Recorder is not null || UmcgMetrics.RunQueueLatency.Enabled))
        {
            Started(TraceEventKind.Switch, from.Server, to, other: from.Tid);
        }
    }

    /// <summary>
    /// <paramref name="from"/> handed its CPU to its successor <paramref name="to"/>, picked from its server's run
    /// queue (a direct successor: the switch has happened, or is happening in the Wait that follows).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void HandedOff(WorkerThread from, WorkerThread to)
    {
        Scheduler.Stats.CountSuccessorSwitch();
        if (Recorder is not null || UmcgMetrics.RunQueueLatency.Enabled)
        {
            Started(TraceEventKind.Switch, from.Server, to, other: from.Tid);
        }
    }

    /// <summary>
    /// <paramref name="thief"/> took <paramref name="worker"/> from <paramref name="victim"/>'s queue: on its own loop
    /// (S4), or, <paramref name="forSuccessor"/>, on the thread of its worker that stopped with nothing queued (H2s).
    /// The second is counted in the scheduler's atomic stats: the server's counters are written by the server alone.
    /// </summary>
    public void Stole(Server thief, Server victim, WorkerThread worker, bool forSuccessor)
    {
        if (forSuccessor)
        {
            Scheduler.Stats.CountSuccessorSteal();
        }
        else
        {
            thief.Counters.Steals++;
        }

        Recorder?.Write(TraceEventKind.Steal, Now(), worker.Tid, thief.Tid, victim.Tid, 0, TaskState.None, TaskState.None);
        if (Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Scheduling))
        {
            Events.WorkerStolen(worker.Tid, victim.Index, thief.Index);
        }
    }

    /// <summary><paramref name="from"/> moved its queued <paramref name="worker"/> to the idle <paramref name="to"/>.</summary>
    public void HandedOver(Server from, Server to, WorkerThread worker)
    {
        from.Counters.HandedOver++;
        Recorder?.Write(TraceEventKind.HandOver, Now(), worker.Tid, from.Tid, to.Tid, 0, TaskState.None, TaskState.None);
        if (Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Scheduling))
        {
            Events.WorkerHandedOver(worker.Tid, from.Index, to.Index);
        }
    }

    /// <summary><paramref name="server"/> set TF_PREEMPT on its running <paramref name="worker"/> and kicked it.</summary>
    public void PreemptRequested(Server server, WorkerThread worker)
    {
        server.Counters.Preemptions++;
        Recorder?.Write(TraceEventKind.PreemptRequest, Now(), worker.Tid, server.Tid, 0, 0, TaskState.None, TaskState.None);
        if (Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Scheduling))
        {
            Events.PreemptRequested(worker.Tid, server.Index);
        }
    }

    /// <summary><paramref name="server"/> moved its overstaying <paramref name="worker"/> to the background (K9) and lowered its thread.</summary>
    public void Demoted(Server server, WorkerThread worker)
    {
        Scheduler.Stats.CountDemotion();
        Recorder?.Write(TraceEventKind.Demoted, Now(), worker.Tid, server.Tid, 0, 0, TaskState.None, TaskState.None);
        if (Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Scheduling))
        {
            Events.WorkerDemoted(worker.Tid, server.Index);
        }
    }

    /// <summary><paramref name="server"/> took its background <paramref name="worker"/> back into the foreground (K10).</summary>
    public void Adopted(Server server, WorkerThread worker)
    {
        Scheduler.Stats.CountAdoption();
        Recorder?.Write(TraceEventKind.Adopted, Now(), worker.Tid, server.Tid, 0, 0, TaskState.None, TaskState.None);
        if (Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Scheduling))
        {
            Events.WorkerAdopted(worker.Tid, server.Index);
        }
    }

    /// <summary>The calling worker entered a blocking region: it is BLOCKED and its server was told.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Blocked(WorkerThread worker)
    {
        Scheduler.Stats.CountBlock();
        if (Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Blocking))
        {
            Events.WorkerBlocked(worker.Tid, worker.ServerIndex, BlockDetector.Explicit);
        }
    }

    /// <summary>
    /// The calling worker runs again after it was BLOCKED: it left a blocking region, or (<paramref name="byDetector"/>)
    /// a detector had blocked it and it took the unblock path at a safepoint.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Unblocked(WorkerThread worker, bool byDetector)
    {
        if (byDetector)
        {
            Scheduler.Stats.CountDetectorBlock();
        }

        if (UmcgMetrics.BlockedDuration.Enabled || Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Blocking))
        {
            UnblockedSlow(worker, byDetector);
        }
    }

    /// <summary>The calling worker passed a safepoint that found it BLOCKED (<paramref name="wasBlocked"/>): a detector had blocked it.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ResumedAtSafepoint(WorkerThread worker, bool wasBlocked)
    {
        if (wasBlocked)
        {
            Unblocked(worker, byDetector: true);
        }
    }

    /// <summary>A body was handed to a worker thread on <paramref name="server"/> (a pooled one when <paramref name="reused"/>).</summary>
    public void Spawned(string? name, Server server, bool reused)
    {
        if (reused)
        {
            Scheduler.Stats.CountReuse();
        }

        if (Events.IsEnabled(EventLevel.Informational, UmcgEventSource.Keywords.Lifecycle))
        {
            Events.WorkerSpawned(name ?? string.Empty, server.Index, reused);
        }
    }

    /// <summary>
    /// The calling worker thread finished its body and is already off its server's CPU (BLOCKED in the pool, or
    /// on its way out); the body's handle is about to complete. Recorded before the handle completes, so that a
    /// trace stopped by whoever awaits the handle has it.
    /// </summary>
    public void Finishing()
    {
        if (Recorder is { } recorder && WorkerThread.Current is { } worker)
        {
            recorder.Write(TraceEventKind.BodyFinished, Now(), worker.Tid, worker.Server.Tid, 0, 0, TaskState.None, TaskState.None);
        }
    }

    /// <summary>A body's handle was completed: after its body ran, or as canceled before it started (<paramref name="ran"/> false).</summary>
    public void Completed(WorkerHandle handle, bool ran)
    {
        if (!ran)
        {
            Scheduler.Stats.CountCanceledBeforeStart();
        }

        if (Events.IsEnabled(EventLevel.Informational, UmcgEventSource.Keywords.Lifecycle))
        {
            Events.WorkerCompleted(WorkerThread.Current?.Tid ?? 0, handle.Options.Name ?? string.Empty, handle.Completion.Status.ToString());
        }
    }

    /// <summary>
    /// The scheduler met a fault (kept in <c>UmcgScheduler.Faults</c>), or (<paramref name="unhandled"/>) a posted
    /// callback threw.
    /// </summary>
    public void Faulted(Exception error, bool unhandled = false)
    {
        if (unhandled)
        {
            Scheduler.Stats.CountUnhandledException();
        }
        else
        {
            Scheduler.Stats.CountFault();
        }

        if (Events.IsEnabled(EventLevel.Error, UmcgEventSource.Keywords.Faults))
        {
            Events.ProtocolFault(error.Message);
        }
    }

    private static long Now() => KernelClock.Now(ClockId.Monotonic);

    /// <summary>A pick or a switch: the trace event, and the worker's run-queue latency (runnable_ts → now).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Started(TraceEventKind kind, Server server, WorkerThread worker, int other, long at = 0)
    {
        long now = at != 0 ? at : Now();
        if (Recorder is { } recorder)
        {
            recorder.Write(kind, now, worker.Tid, server.Tid, other, recorder.NameIdOf(worker.Name), TaskState.None, TaskState.None);
        }

        long runnable = worker.RunnableSinceNs;
        if (UmcgMetrics.RunQueueLatency.Enabled && runnable > 0)
        {
            UmcgMetrics.RunQueueLatency.Record(Math.Max(0, now - runnable) / 1000.0, ServerTags(server.Index));
        }
    }

    /// <summary>
    /// Traced as a pick at the worker's runnable_ts: the claim came right after that stamp and before the worker ran, so
    /// the trace finds the pick before the run it names, as for a server's pick. Its run-queue latency is about 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void StartedDirectlySlow(Server server, WorkerThread worker)
    {
        long runnable = (long)Volatile.Read(ref worker.Block.Task->RunnableTs);
        Started(TraceEventKind.Pick, server, worker, other: 0, at: runnable > 0 ? runnable : Now());
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private unsafe void UnblockedSlow(WorkerThread worker, bool byDetector)
    {
        var block = worker.Block.Task;
        long blocked = (long)Volatile.Read(ref block->BlockedTs);
        long runnable = (long)Volatile.Read(ref block->RunnableTs);
        double micros = Math.Max(0, runnable - blocked) / 1000.0;
        if (UmcgMetrics.BlockedDuration.Enabled)
        {
            UmcgMetrics.BlockedDuration.Record(micros, BlockTags(byDetector));
        }

        if (Events.IsEnabled(EventLevel.Verbose, UmcgEventSource.Keywords.Blocking))
        {
            Events.WorkerUnblocked(worker.Tid, worker.ServerIndex, byDetector ? BlockDetector.Detector : BlockDetector.Explicit, micros);
        }
    }
}
