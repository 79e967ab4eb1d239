using Umcg.Scheduling.Demotion;

namespace Umcg.Scheduling;

// D1's grace on the alarm (Demotion/GraceAlarm.Linux.cs) instead of in the server's Wait. Most give-ways come in time:
// the worker reaches a safepoint and switches straight to its successor, and a worker's drain takes it off our list.
// With the grace's end in our Wait we woke for it anyway whenever nothing else woke us first — a turn, two switches
// and a preempted worker on our CPU, for nothing. On the alarm, the drain that sees the give-way clears it.
//
//   G1 the server sets it (SetGraceAlarm, from NextDeadline): publishes the deadline, sets the timer, then reads the
//      ask again; found taken meanwhile, it clears the timer itself.
//   G2 a drain that takes the give-way off our list (its CAS on _askedToGiveWay) exchanges the published deadline for 0
//      and, if it found one, clears the timer.
//   Either the drain's CAS comes before G1's read, and G1 clears, or after, and then G1's set came before G2's
//      exchange, whose clear comes after that set. Each is an interlocked step or a syscall, so neither side's order
//      can be reordered.
//   G3 what the two do not cover: a drain that stalls between its exchange and its clear while the server asks again
//      and sets the timer for that new give-way; the late clear then takes it. So the Wait keeps a backstop, the
//      grace's end plus GraceBackstopGraces graces: a demotion is never lost, only late in that race. The alarm's ring
//      wakes us only while a give-way is still asked for.
internal sealed unsafe partial class Server
{
    // How much later than the grace's end the Wait's own deadline is, in graces (G3).
    private const int GraceBackstopGraces = 8;

    // The deadline the alarm is set to for this server (G1, G2), 0 for none.
    private long _graceAlarmNs;

    private GraceAlarm? Alarm => _scheduler.GraceAlarm;

    /// <summary>
    /// G1 for the coming Wait: the alarm carries <paramref name="graceEnd"/> (0: no grace pending). Returns the
    /// deadline the Wait must keep for it: the grace's end itself without an alarm, else the backstop (G3).
    /// </summary>
    private long SetGraceAlarm(WorkerThread running, long graceEnd)
    {
        if (Alarm is not { } alarm)
        {
            return graceEnd;
        }

        if (graceEnd == 0)
        {
            ClearGraceAlarm();
            return 0;
        }

        if (Interlocked.Exchange(ref _graceAlarmNs, graceEnd) != graceEnd)
        {
            alarm.Set(Index, graceEnd);
        }

        if (Volatile.Read(ref _askedToGiveWay) != running.Tid)
        {
            // Given way since we read the ask (G1): the drain may have exchanged before our set.
            Interlocked.Exchange(ref _graceAlarmNs, 0);
            alarm.Set(Index, 0);
            return 0;
        }

        return graceEnd + (GraceBackstopGraces * GraceNs);
    }

    /// <summary>G2, after a drain took the asked worker's give-way off our list: on any thread.</summary>
    private void ClearGraceAlarm()
    {
        if (Alarm is { } alarm && Interlocked.Exchange(ref _graceAlarmNs, 0) != 0)
        {
            alarm.Set(Index, 0);
        }
    }

    /// <summary>The alarm rang for this server (on the alarm's thread): a turn, if a give-way is still asked for.</summary>
    internal void OnGraceAlarm()
    {
        try
        {
            if (Volatile.Read(ref _askedToGiveWay) != 0)
            {
                Wake();
            }
        }
#pragma warning disable CA1031 // On the alarm's thread, which every server shares: reported, and the alarm rings on.
        catch (Exception e)
        {
            _scheduler.ReportFault(e);
        }
#pragma warning restore CA1031
    }

    /// <summary>Whether this server's grace alarm is set: for tests.</summary>
    internal bool GraceAlarmSetForTests => Alarm?.IsSetForTests(Index) == true;
}
