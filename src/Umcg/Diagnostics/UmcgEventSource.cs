using System.Diagnostics.CodeAnalysis;
using System.Diagnostics.Tracing;

namespace Umcg.Diagnostics;

/// <summary>
/// The "Umcg" event source, for dotnet-trace (<c>dotnet-trace collect --providers Umcg -p &lt;pid&gt;</c>) and
/// in-process <see cref="EventListener"/>s: servers starting and stopping, bodies spawned and completed, workers
/// blocking and unblocking, preemption requests, steals, hand-overs and protocol faults.
/// </summary>
/// <remarks>
/// Every call site checks <see cref="EventSource.IsEnabled(EventLevel, EventKeywords)"/> first, so a disabled
/// source costs one branch. The per-worker events (blocking, scheduling) are <see cref="EventLevel.Verbose"/>;
/// lifecycle is <see cref="EventLevel.Informational"/>, faults <see cref="EventLevel.Error"/>.
/// </remarks>
[EventSource(Name = SourceName)]
public sealed unsafe class UmcgEventSource : EventSource
{
    /// <summary>The source's name: what dotnet-trace's <c>--providers</c> takes.</summary>
    public const string SourceName = "Umcg";

    /// <summary>The one instance.</summary>
    public static readonly UmcgEventSource Log = new();

    // WriteEventCore is marked as trimming-unsafe because it may serialize object graphs; ours are ints,
    // doubles and strings only.
    private const string PrimitivesOnly = "Only primitive values and strings are written.";

    private UmcgEventSource()
    {
    }

    /// <summary>Event categories, to enable only some.</summary>
    public static class Keywords
    {
        /// <summary>Servers started and stopped, bodies spawned and completed.</summary>
        public const EventKeywords Lifecycle = (EventKeywords)0x1;

        /// <summary>Workers blocking and unblocking.</summary>
        public const EventKeywords Blocking = (EventKeywords)0x2;

        /// <summary>Preemption requests, steals and hand-overs.</summary>
        public const EventKeywords Scheduling = (EventKeywords)0x4;

        /// <summary>Protocol faults the scheduler met.</summary>
        public const EventKeywords Faults = (EventKeywords)0x8;
    }

    /// <summary>A server registered and entered its loop.</summary>
    [Event(1, Level = EventLevel.Informational, Keywords = Keywords.Lifecycle, Message = "server {0} started (tid {1}, cpu {2})")]
    internal void ServerStarted(int ServerIndex, int Tid, int Cpu) => WriteEvent(1, ServerIndex, Tid, Cpu);

    /// <summary>A server left its loop.</summary>
    [Event(2, Level = EventLevel.Informational, Keywords = Keywords.Lifecycle, Message = "server {0} stopped (tid {1})")]
    internal void ServerStopped(int ServerIndex, int Tid) => WriteEvent(2, ServerIndex, Tid);

    /// <summary>A body was handed to a worker thread (<paramref name="Reused"/>: an idle pooled one, else a new thread).</summary>
    [Event(3, Level = EventLevel.Informational, Keywords = Keywords.Lifecycle, Message = "body '{0}' spawned on server {1} (reused thread: {2})")]
    [UnconditionalSuppressMessage("ReflectionAnalysis", "IL2026:RequiresUnreferencedCode", Justification = PrimitivesOnly)]
    internal void WorkerSpawned(string Name, int ServerIndex, bool Reused)
    {
        Name ??= string.Empty;
        fixed (char* name = Name)
        {
            int reused = Reused ? 1 : 0;
            var data = stackalloc EventData[3];
            data[0] = String(name, Name);
            data[1] = Int32(&ServerIndex);
            data[2] = Int32(&reused);
            WriteEventCore(3, 3, data);
        }
    }

    /// <summary>A body finished: <paramref name="Outcome"/> is RanToCompletion, Faulted or Canceled.</summary>
    [Event(4, Level = EventLevel.Informational, Keywords = Keywords.Lifecycle, Message = "worker {0} completed body '{1}': {2}")]
    [UnconditionalSuppressMessage("ReflectionAnalysis", "IL2026:RequiresUnreferencedCode", Justification = PrimitivesOnly)]
    internal void WorkerCompleted(int Tid, string Name, string Outcome)
    {
        Name ??= string.Empty;
        Outcome ??= string.Empty;
        fixed (char* name = Name)
        fixed (char* outcome = Outcome)
        {
            var data = stackalloc EventData[3];
            data[0] = Int32(&Tid);
            data[1] = String(name, Name);
            data[2] = String(outcome, Outcome);
            WriteEventCore(4, 3, data);
        }
    }

    /// <summary>A worker went BLOCKED (<paramref name="Detector"/>: "explicit" for a blocking region).</summary>
    [Event(5, Level = EventLevel.Verbose, Keywords = Keywords.Blocking, Message = "worker {0} of server {1} blocked ({2})")]
    [UnconditionalSuppressMessage("ReflectionAnalysis", "IL2026:RequiresUnreferencedCode", Justification = PrimitivesOnly)]
    internal void WorkerBlocked(int Tid, int ServerIndex, string Detector)
    {
        Detector ??= string.Empty;
        fixed (char* detector = Detector)
        {
            var data = stackalloc EventData[3];
            data[0] = Int32(&Tid);
            data[1] = Int32(&ServerIndex);
            data[2] = String(detector, Detector);
            WriteEventCore(5, 3, data);
        }
    }

    /// <summary>A blocked worker runs again, after <paramref name="BlockedMicroseconds"/> blocked (blocked_ts → runnable_ts).</summary>
    [Event(6, Level = EventLevel.Verbose, Keywords = Keywords.Blocking, Message = "worker {0} of server {1} unblocked ({2}) after {3} us")]
    [UnconditionalSuppressMessage("ReflectionAnalysis", "IL2026:RequiresUnreferencedCode", Justification = PrimitivesOnly)]
    internal void WorkerUnblocked(int Tid, int ServerIndex, string Detector, double BlockedMicroseconds)
    {
        Detector ??= string.Empty;
        fixed (char* detector = Detector)
        {
            var data = stackalloc EventData[4];
            data[0] = Int32(&Tid);
            data[1] = Int32(&ServerIndex);
            data[2] = String(detector, Detector);
            data[3] = new EventData { DataPointer = (nint)(&BlockedMicroseconds), Size = sizeof(double) };
            WriteEventCore(6, 4, data);
        }
    }

    /// <summary>A server asked its running worker to give way.</summary>
    [Event(7, Level = EventLevel.Verbose, Keywords = Keywords.Scheduling, Message = "server {1} asked worker {0} to give way")]
    internal void PreemptRequested(int Tid, int ServerIndex) => WriteEvent(7, Tid, ServerIndex);

    /// <summary>An idle server took a queued worker from a busy one.</summary>
    [Event(8, Level = EventLevel.Verbose, Keywords = Keywords.Scheduling, Message = "server {2} stole worker {0} from server {1}")]
    internal void WorkerStolen(int Tid, int FromServer, int ToServer) => WriteEvent(8, Tid, FromServer, ToServer);

    /// <summary>A busy server handed a queued worker to an idle one.</summary>
    [Event(9, Level = EventLevel.Verbose, Keywords = Keywords.Scheduling, Message = "server {1} handed worker {0} to server {2}")]
    internal void WorkerHandedOver(int Tid, int FromServer, int ToServer) => WriteEvent(9, Tid, FromServer, ToServer);

    /// <summary>A server demoted its running worker to the background (it reached no safepoint in its grace period).</summary>
    [Event(11, Level = EventLevel.Verbose, Keywords = Keywords.Scheduling, Message = "server {1} demoted worker {0} to the background")]
    internal void WorkerDemoted(int Tid, int ServerIndex) => WriteEvent(11, Tid, ServerIndex);

    /// <summary>A server took its background worker back into the foreground.</summary>
    [Event(12, Level = EventLevel.Verbose, Keywords = Keywords.Scheduling, Message = "server {1} adopted background worker {0}")]
    internal void WorkerAdopted(int Tid, int ServerIndex) => WriteEvent(12, Tid, ServerIndex);

    /// <summary>The scheduler met a protocol fault (see <c>UmcgScheduler.Faults</c>).</summary>
    [Event(10, Level = EventLevel.Error, Keywords = Keywords.Faults, Message = "protocol fault: {0}")]
    internal void ProtocolFault(string Message) => WriteEvent(10, Message);

    private static EventData Int32(int* value) => new() { DataPointer = (nint)value, Size = sizeof(int) };

    // The string is null-terminated in memory (a pinned System.String always is); the terminator is part of the payload.
    private static EventData String(char* chars, string value) => new() { DataPointer = (nint)chars, Size = (value.Length + 1) * sizeof(char) };
}
