namespace Umcg.Scheduling;

/// <summary>What one server did; written by the server's own thread only (read racily for reports).</summary>
internal sealed class ServerCounters
{
    public long Switches;
    public long Preemptions;
    public long TimerWakes;
    public long RemoteWakes;
    public long HandedOver;
    public long Steals;

    /// <summary>Time a worker ran for the server (its slot named one), in ns, up to <see cref="BusySinceNs"/>.</summary>
    public long BusyNs;

    /// <summary>When the slot was last seen naming a worker (monotonic ns), or 0 if it was empty then.</summary>
    public long BusySinceNs;

    /// <summary>Called once per loop turn at <paramref name="now"/>: whether the slot names a worker from now on.</summary>
    public void AccountBusy(long now, bool busy)
    {
        long since = BusySinceNs;

        // The new start is published before the total that counts up to it: a reader that reads BusyNs first
        // and BusySinceNs second can then miss a moment, never count one twice.
        Volatile.Write(ref BusySinceNs, busy ? now : 0);
        if (since != 0)
        {
            Volatile.Write(ref BusyNs, BusyNs + (now - since));
        }
    }
}
