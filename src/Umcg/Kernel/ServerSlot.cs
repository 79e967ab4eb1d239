namespace Umcg.Kernel;

/// <summary>
/// The kernel half's own record of which worker a server runs: the authority behind "at most one worker per
/// server runs user code". The server's <c>next_tid</c> with <see cref="Abi.UmcgConstants.TidRunning"/> is
/// only its user-visible mirror; user code may overwrite that word, never this one.
/// </summary>
/// <remarks>
/// <para>One 64-bit word, changed only by CAS: the low 32 bits hold the worker's TID, the high 32 bits the
/// <see cref="SlotKind"/>. Every change is a CAS from the exact value the caller expects, so only the
/// worker the record names (or a kernel path acting for it: a detector's block, the reaper, a removal) can
/// move or clear it, and a late release by a worker that was already replaced fails instead of wiping out
/// the record of its successor. A new kind (a worker running in the background) fits beside Running.</para>
/// <para>Memory ordering: each CAS is a full fence, so a waker that changed the record before its wake
/// (<c>Interlocked</c> on the state word) is seen by the woken task's re-read.</para>
/// </remarks>
internal sealed class ServerSlot
{
    private long _word;

    /// <summary>What the record says the server is doing with the worker it names.</summary>
    public enum SlotKind
    {
        /// <summary>No worker runs for the server: its Wait may start the one its next_tid names.</summary>
        Empty = 0,

        /// <summary>The named worker runs (or is on its way out and will clear the record).</summary>
        Running = 1,
    }

    /// <summary>The kind of the current record.</summary>
    public SlotKind Kind
    {
        get
        {
            long word = Volatile.Read(ref _word);
            var kind = (SlotKind)(word >> 32);

            // Only this class writes the word, and only 0 or Running(tid).
            ProtocolBug.Check(kind == SlotKind.Running || word == 0, "a server's record is empty or names a running worker");
            return kind;
        }
    }

    /// <summary>The TID of the worker the record names, or 0 when it is empty.</summary>
    public int Worker => (int)(uint)Volatile.Read(ref _word);

    /// <summary>Empty → <paramref name="tid"/> running. False if a worker already runs.</summary>
    public bool TryStart(int tid) => Interlocked.CompareExchange(ref _word, Running(tid), 0) == 0;

    /// <summary>A direct switch: <paramref name="from"/> running → <paramref name="to"/> running. False unless the record names <paramref name="from"/>.</summary>
    public bool TryMove(int from, int to)
    {
        // A worker that switched to itself would hold the record twice over; Wait refuses next_tid == self first.
        ProtocolBug.Check(from != to, "a direct switch moves the record to another worker");
        return Interlocked.CompareExchange(ref _word, Running(to), Running(from)) == Running(from);
    }

    /// <summary><paramref name="tid"/> stops running: → empty. False unless the record names <paramref name="tid"/>.</summary>
    public bool TryRelease(int tid) => Interlocked.CompareExchange(ref _word, 0, Running(tid)) == Running(tid);

    /// <summary>Whether the record names <paramref name="tid"/> as running.</summary>
    public bool Holds(int tid) => Volatile.Read(ref _word) == Running(tid);

    private static long Running(int tid)
    {
        // A TID from the OS, never 0 (the empty record) and never wider than next_tid's TID part.
        ProtocolBug.Check(tid > 0 && (uint)tid <= Abi.UmcgConstants.TidMask, "a server's record names a TID in 1..TidMask");
        return ((long)SlotKind.Running << 32) | (uint)tid;
    }

    public override string ToString() => Kind == SlotKind.Empty ? "empty" : $"{Kind} {Worker}";
}
