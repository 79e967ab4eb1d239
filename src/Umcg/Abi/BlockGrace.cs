namespace Umcg.Abi;

/// <summary>
/// The grace period that decides when a control block's memory may be freed: every kernel-half path that
/// dereferences a block it reached through the task table or a runnable list does so inside a read section
/// (<see cref="Enter"/>), and a block is freed only after it was unpublished (no longer in the task table
/// nor in the set of live blocks) and every section that was open at that moment has ended
/// (<see cref="WaitForReaders"/>). A path that starts later cannot find the block any more.
/// </summary>
/// <remarks>
/// <para>Sections are short and never sleep: a task leaves its section before it parks. So a grace period
/// is bounded by the longest non-sleeping kernel-half path, and <see cref="WaitForReaders"/> just spins.</para>
/// <para>Two reader counters, one per epoch parity. A reader counts itself in the current parity and then
/// checks that the epoch did not move meanwhile (else it counts itself again in the new one): so a reader
/// that passed its check before a flip is counted in the old parity, which the flip then waits to drain.
/// Sections nest on one thread (only the outermost counts).</para>
/// </remarks>
internal static class BlockGrace
{
    // Counters on separate cache lines: index 0 and Stride.
    private const int Stride = 16;
    private static readonly long[] s_readers = new long[2 * Stride];
    private static readonly Lock s_flip = new();
    private static long s_epoch;

    [ThreadStatic]
    private static int t_depth;

    [ThreadStatic]
    private static int t_parity;

    /// <summary>Opens a read section on the calling thread; dispose the result to close it.</summary>
    public static Section Enter()
    {
        if (t_depth++ > 0)
        {
            return default;
        }

        while (true)
        {
            long epoch = Volatile.Read(ref s_epoch);
            int parity = (int)(epoch & 1);

            // Full fence: the count is visible before anything the section reads.
            Interlocked.Increment(ref s_readers[parity * Stride]);
            if (Volatile.Read(ref s_epoch) == epoch)
            {
                t_parity = parity;
                return default;
            }

            Interlocked.Decrement(ref s_readers[parity * Stride]);
        }
    }

    /// <summary>Whether the calling thread is inside a read section (a grace period must not be awaited there).</summary>
    public static bool InSection => t_depth > 0;

    /// <summary>
    /// Returns once every read section open at the time of the call has closed. Call it after the block was
    /// unpublished and before its memory is freed; never from inside a section.
    /// </summary>
    public static void WaitForReaders()
    {
        if (t_depth > 0)
        {
            throw new InvalidOperationException("A grace period cannot be awaited inside a read section.");
        }

        lock (s_flip)
        {
            long old = Interlocked.Increment(ref s_epoch) - 1;
            int parity = (int)(old & 1);
            var spin = default(SpinWait);
            while (Volatile.Read(ref s_readers[parity * Stride]) != 0)
            {
                spin.SpinOnce();
            }
        }
    }

    private static void Exit()
    {
        if (--t_depth == 0)
        {
            Interlocked.Decrement(ref s_readers[t_parity * Stride]);
        }
    }

    /// <summary>An open read section; <see cref="Dispose"/> closes it.</summary>
    public readonly struct Section : IDisposable
    {
        /// <summary>Closes the section.</summary>
        public void Dispose() => Exit();
    }
}
