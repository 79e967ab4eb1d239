using System.Runtime;

namespace Umcg.Tests.Detection;

/// <summary>
/// A stretch of time in which the runtime itself put no worker thread to sleep: no garbage collection, no
/// method compiled anywhere in the process and, for a thread that never parks on purpose, no voluntary
/// context switch of that thread. Only in such a window does "never marked" say something about the
/// detector.
/// </summary>
/// <remarks>
/// On a loaded machine a CPU-bound worker still sleeps now and then, and for real: the JIT compiling code
/// for it waits in <c>mprotect</c> for the process's memory-map lock (state D, 8 ms seen beside
/// <c>stress-ng --cpu 4</c>), a thread woken after a collection waits for a mutex whose holder was
/// preempted, a tier-up waits for a lock the tiering thread holds. A UMCG kernel would block such a worker
/// too, and so does the detector. Those sleeps are not preemptions; a window that contains one proves
/// nothing either way and is looked at again.
/// </remarks>
internal readonly record struct QuietWindow(long Marks, int Collections, long Compiled, long VoluntarySwitches)
{
    /// <summary>
    /// Where things stand now: the detector's marks, collections, compiled methods and, with
    /// <paramref name="switchesOfThisThread"/>, the calling thread's own sleeps. Two snapshots bound a window.
    /// </summary>
    public static QuietWindow Take(BlockingDetector detector, bool switchesOfThisThread) => new(
        detector.Stats.Marked, // first: a sleep that ends in a mark is then sure to be seen by the reads after it
        GC.CollectionCount(0),
        JitInfo.GetCompiledMethodCount(currentThread: false),
        switchesOfThisThread ? VoluntarySwitchesOfThisThread() : 0);

    /// <summary>Whether nothing but preemption can have taken a watched thread off its CPU between the two snapshots.</summary>
    public bool QuietUntil(QuietWindow later) =>
        later.Collections == Collections && later.Compiled == Compiled && later.VoluntarySwitches == VoluntarySwitches;

    /// <summary>
    /// How many times the calling thread went to sleep (<c>voluntary_ctxt_switches</c>); a preemption counts
    /// as involuntary and is not in it.
    /// </summary>
    public static long VoluntarySwitchesOfThisThread()
    {
        foreach (string line in File.ReadLines("/proc/thread-self/status"))
        {
            if (line.StartsWith("voluntary_ctxt_switches:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan("voluntary_ctxt_switches:".Length).Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("/proc/thread-self/status has no voluntary_ctxt_switches");
    }
}

/// <summary>
/// Counts the detector's marks over back-to-back windows, keeping only windows that were quiet and followed a
/// quiet one: a real sleep just before a window can be marked early in it (the detector marks it up to one
/// threshold plus one poll after it began), never after a whole quiet window of polls has gone by.
/// </summary>
internal sealed class QuietWindows(BlockingDetector detector, bool switchesOfThisThread)
{
    private QuietWindow _last = QuietWindow.Take(detector, switchesOfThisThread);
    private bool _lastQuiet;

    /// <summary>Windows looked at.</summary>
    public int Windows { get; private set; }

    /// <summary>Windows that counted: quiet, after a quiet one.</summary>
    public int Counted { get; private set; }

    /// <summary>Marks made during the windows that counted.</summary>
    public long MarksInCounted { get; private set; }

    /// <summary>Ends the current window and starts the next one at the same instant.</summary>
    public void Next()
    {
        var now = QuietWindow.Take(detector, switchesOfThisThread);
        bool quiet = _last.QuietUntil(now);
        if (quiet && _lastQuiet)
        {
            Counted++;
            MarksInCounted += now.Marks - _last.Marks;
        }

        Windows++;
        _lastQuiet = quiet;
        _last = now;
    }

    public override string ToString() =>
        $"{MarksInCounted} marks in {Counted} quiet windows of {Windows}; all told {detector.Stats.Marked} marks, {detector.Stats.Rejected} rejected, {detector.Stats.Polls} polls";
}
