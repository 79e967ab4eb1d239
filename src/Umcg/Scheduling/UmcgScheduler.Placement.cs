namespace Umcg.Scheduling;

// Placement: which server a body's worker thread goes to.
public sealed partial class UmcgScheduler
{
    // Round-robin start of the next search, so that equal servers share new bodies.
    private int _placement;

    /// <summary>The body's server: the one it names, else <see cref="PlaceNew"/>.</summary>
    private Server ServerFor(WorkItem item) =>
        (item.Options.ServerAffinity ?? item.Options.PreferredServer) is int index ? Servers[index] : PlaceNew();

    /// <summary>
    /// A server other than <paramref name="busy"/> that sleeps with nothing to run, or null. A hint read without a lock:
    /// a server that stops being idle meanwhile simply gets one more worker queued; one that becomes idle later drains
    /// the other servers' lists before it steals (Q2).
    /// </summary>
    internal Server? IdleServerBesides(Server busy)
    {
        foreach (var other in Servers)
        {
            if (!ReferenceEquals(other, busy) && other.IsIdle)
            {
                return other;
            }
        }

        return null;
    }

    /// <summary>Where a new body goes: an idle server first, else the shortest run queue (round robin among equals).</summary>
    private Server PlaceNew()
    {
        int start = (int)((uint)Interlocked.Increment(ref _placement) % (uint)Servers.Length);
        Server best = Servers[start];
        for (int i = 0; i < Servers.Length; i++)
        {
            var s = Servers[(start + i) % Servers.Length];
            if (s.IsIdle)
            {
                return s;
            }

            if (s.QueueLength < best.QueueLength)
            {
                best = s;
            }
        }

        return best;
    }
}
