using System.Diagnostics.Tracing;

namespace Umcg.Cli.Workloads.GcPause;

/// <summary>
/// Every stop-the-world pause of this process's GC, from the runtime's own events: a pause runs from
/// GCSuspendEEBegin (the GC starts stopping managed threads) to GCRestartEEEnd (they run again), and its
/// suspension part ends at GCSuspendEEEnd, once every thread has reached a safe point — the part a thread that
/// gets no CPU stretches. The runtime hands the events over on a thread of its own, late but in order.
/// </summary>
internal sealed class GcPauseListener : EventListener
{
    private const string RuntimeSource = "Microsoft-Windows-DotNETRuntime";
    private const long GcKeyword = 0x1;

    private readonly Lock _gate = new();
    private readonly List<Pause> _pauses = [];
    private DateTime _suspendBegin;
    private DateTime _suspendEnd;
    private long _suspendingThread;
    private DateTime _latest;

    /// <summary>One pause: when it began (UTC), how long it lasted and how long suspending took (ns), and the OS thread that suspended the others.</summary>
    public readonly record struct Pause(DateTime Begin, long PauseNs, long SuspendNs, long SuspendingThread);

    /// <summary>The pauses that began in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public Pause[] Between(DateTime from, DateTime to)
    {
        lock (_gate)
        {
            return [.. _pauses.Where(p => p.Begin >= from && p.Begin < to)];
        }
    }

    /// <summary>Whether an event stamped at or after <paramref name="time"/> has arrived: every earlier one has too.</summary>
    public bool HasSeenPast(DateTime time)
    {
        lock (_gate)
        {
            return _latest >= time;
        }
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == RuntimeSource)
        {
            EnableEvents(eventSource, EventLevel.Informational, (EventKeywords)GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        lock (_gate)
        {
            _latest = eventData.TimeStamp;
            switch (eventData.EventName)
            {
                case "GCSuspendEEBegin_V1":
                    _suspendBegin = eventData.TimeStamp;
                    _suspendEnd = default;
                    _suspendingThread = eventData.OSThreadId;
                    break;
                case "GCSuspendEEEnd_V1":
                    _suspendEnd = eventData.TimeStamp;
                    break;
                case "GCRestartEEEnd_V1" when _suspendBegin != default:
                    long pause = (eventData.TimeStamp - _suspendBegin).Ticks * 100;
                    long suspend = _suspendEnd == default ? pause : (_suspendEnd - _suspendBegin).Ticks * 100;
                    _pauses.Add(new Pause(_suspendBegin, pause, suspend, _suspendingThread));
                    _suspendBegin = default;
                    break;
                default:
                    break;
            }
        }
    }
}
