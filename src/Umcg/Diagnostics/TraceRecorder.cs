using System.Collections.Concurrent;
using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Diagnostics;

/// <summary>
/// Records what a scheduler does — every worker state transition of the kernel half (TID, old and new state,
/// monotonic timestamp, server) and the scheduler's own decisions (picks, direct switches, steals, hand-overs,
/// preemption requests) — into a buffer of fixed size, for export as a Chrome/Perfetto trace
/// (<see cref="WriteChromeTrace(Stream)"/>) or as intervals (<see cref="BuildTimeline"/>).
/// </summary>
/// <remarks>
/// <para>Nothing is recorded until the recorder is attached: <c>UmcgSchedulerOptions.Trace</c>,
/// <see cref="SchedulerDiagnostics.StartTrace(Umcg.Scheduling.UmcgScheduler, TraceRecorder)"/>, or
/// <see cref="Record(UmcgKernel)"/> for a bare kernel half. Detached, it costs nothing.</para>
/// <para>Recording is lock-free: each event claims the next slot with one interlocked increment and writes it.
/// A full recorder never blocks and never overwrites: it drops new events and counts them
/// (<see cref="Dropped"/>). Memory is <see cref="Capacity"/> × 32 bytes, allocated up front.</para>
/// </remarks>
public sealed class TraceRecorder
{
    /// <summary>The capacity of <see cref="TraceRecorder()"/>: 262,144 events (8 MiB).</summary>
    public const int DefaultCapacity = 1 << 18;

    /// <summary>How many distinct body names are kept; events of further names record no name.</summary>
    internal const int MaxNames = 1 << 16;

    private readonly TraceSlot[] _slots;
    private readonly ConcurrentDictionary<string, int> _nameIds = new(StringComparer.Ordinal);
    private readonly List<string> _names = [];
    private readonly List<TraceServer> _servers = [];
    private readonly Lock _lock = new();

    // Slots claimed so far, including those claimed past the end (the drops). Only ever incremented.
    private long _claimed;

    /// <summary>Creates a recorder of <see cref="DefaultCapacity"/> events.</summary>
    public TraceRecorder()
        : this(DefaultCapacity)
    {
    }

    /// <summary>Creates a recorder that keeps up to <paramref name="capacity"/> events.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not positive.</exception>
    public TraceRecorder(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _slots = new TraceSlot[capacity];
    }

    /// <summary>How many events the recorder keeps.</summary>
    public int Capacity => _slots.Length;

    /// <summary>Events kept so far (at most <see cref="Capacity"/>).</summary>
    public long Count => Math.Min(Volatile.Read(ref _claimed), _slots.Length);

    /// <summary>Events dropped because the recorder was full.</summary>
    public long Dropped => Math.Max(0, Volatile.Read(ref _claimed) - _slots.Length);

    /// <summary>Whether every slot is taken (further events are dropped).</summary>
    public bool IsFull => Volatile.Read(ref _claimed) >= _slots.Length;

    /// <summary>The servers of the schedulers this recorder was attached to.</summary>
    public IReadOnlyList<TraceServer> Servers
    {
        get
        {
            lock (_lock)
            {
                return [.. _servers];
            }
        }
    }

    /// <summary>
    /// Records every worker transition of <paramref name="kernel"/> (of any scheduler, or of code driving the
    /// kernel half directly) until the returned handle is disposed. Scheduler events come only from a
    /// scheduler the recorder is attached to.
    /// </summary>
    public IDisposable Record(UmcgKernel kernel)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        return Attach(kernel, serverTids: null);
    }

    /// <summary>The events recorded so far, in time order (ties in the order they were recorded).</summary>
    /// <remarks>Safe while recording goes on: an event still being written is left out.</remarks>
    public IReadOnlyList<TraceEvent> Snapshot()
    {
        string[] names;
        lock (_lock)
        {
            names = [.. _names];
        }

        long count = Count;
        var events = new List<TraceEvent>((int)count);
        for (long i = 0; i < count; i++)
        {
            ref var slot = ref _slots[i];

            // Acquire: pairs with the writer's release store of Kind, so the fields read below are complete.
            byte kind = Volatile.Read(ref slot.Kind);
            if (kind == 0)
            {
                continue;
            }

            int nameId = slot.NameId;
            events.Add(new TraceEvent(
                slot.Timestamp,
                (TraceEventKind)kind,
                slot.Tid,
                slot.ServerTid,
                slot.Other,
                (TaskState)slot.From,
                (TaskState)slot.To,
                nameId > 0 && nameId <= names.Length ? names[nameId - 1] : null));
        }

        // List.Sort is not stable; order by (time, recording order) explicitly.
        var indexed = events.Select((e, i) => (e, i)).ToArray();
        Array.Sort(indexed, static (a, b) => a.e.TimestampNs != b.e.TimestampNs ? a.e.TimestampNs.CompareTo(b.e.TimestampNs) : a.i.CompareTo(b.i));
        return [.. indexed.Select(x => x.e)];
    }

    /// <summary>Turns the events recorded so far into per-server and per-worker intervals.</summary>
    public TraceTimeline BuildTimeline() => TraceTimeline.Build(Snapshot(), Servers, Dropped);

    /// <summary>Writes the trace in the Chrome/Perfetto Trace Event Format (JSON) to <paramref name="stream"/>.</summary>
    /// <remarks>Open it in https://ui.perfetto.dev or chrome://tracing: one track per server, one per worker.</remarks>
    public void WriteChromeTrace(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ChromeTraceWriter.Write(stream, BuildTimeline(), Capacity);
    }

    /// <summary>Writes the trace in the Chrome/Perfetto Trace Event Format to the file <paramref name="path"/> (replaced if it exists).</summary>
    public void WriteChromeTrace(string path)
    {
        using var file = File.Create(path);
        WriteChromeTrace(file);
    }

    /// <summary>Starts recording the workers of one kernel half (all, or those of <paramref name="serverTids"/>).</summary>
    internal Attachment Attach(UmcgKernel kernel, int[]? serverTids)
    {
        var observer = new KernelTraceObserver(this, serverTids);
        ObserverChain.Add(kernel, observer);
        return new Attachment(kernel, observer);
    }

    internal void AddServer(TraceServer server)
    {
        lock (_lock)
        {
            if (!_servers.Contains(server))
            {
                _servers.Add(server);
            }
        }
    }

    /// <summary>The id an event stores for <paramref name="name"/>: 0 for none (or once <see cref="MaxNames"/> are taken).</summary>
    internal int NameIdOf(string? name)
    {
        if (name is null)
        {
            return 0;
        }

        if (_nameIds.TryGetValue(name, out int id))
        {
            return id;
        }

        lock (_lock)
        {
            if (_nameIds.TryGetValue(name, out id))
            {
                return id;
            }

            if (_names.Count >= MaxNames)
            {
                return 0;
            }

            // Listed before it is published: a snapshot that sees the id in an event also sees the name.
            _names.Add(name);
            id = _names.Count;
            _nameIds[name] = id;
            return id;
        }
    }

    /// <summary>Records one event; drops it (counted) when the recorder is full. Never blocks.</summary>
    internal void Write(TraceEventKind kind, long timestampNs, int tid, int serverTid, int other, int nameId, TaskState from, TaskState to)
    {
        // The one atomic per event: claim a slot. Claims past the end are the drops, counted by the same word.
        long index = Interlocked.Increment(ref _claimed) - 1;
        if (index >= _slots.Length)
        {
            return;
        }

        ref var slot = ref _slots[index];
        slot.Timestamp = timestampNs;
        slot.Tid = tid;
        slot.ServerTid = serverTid;
        slot.Other = other;
        slot.NameId = nameId;
        slot.From = (byte)from;
        slot.To = (byte)to;

        // Release: every field above is visible to a reader that sees the kind (see Snapshot).
        Volatile.Write(ref slot.Kind, (byte)kind);
    }

    /// <summary>A recorder attached to a kernel half; disposing it detaches.</summary>
    internal sealed class Attachment(UmcgKernel kernel, TransitionObserver observer) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0)
            {
                ObserverChain.Remove(kernel, observer);
            }
        }
    }
}
