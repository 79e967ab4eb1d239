using System.Globalization;
using System.Text;
using Umcg.Abi;

namespace Umcg.Scheduling;

// For a test's stall report: where this server's workers wait, read without its locks' help where taking them
// could hang the report on the very stall it describes (the run-queue lock is taken: it is never held for long).
internal sealed unsafe partial class Server
{
    /// <summary>
    /// One line for a stall report: the server's state word and slot, what waits in its run queue, inbox, runnable
    /// list and timer heap, and the loop's own marks. A snapshot of fields that move while it is taken.
    /// </summary>
    internal string DescribeForTests()
    {
        int queued;
        lock (_queueLock)
        {
            queued = QueueLength;
        }

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"server {Index} tid={Tid} state={StateWord.StateOf(Self)} flags={StateWord.FlagsOf(Self)} slot={Slot}");
        text.Append(CultureInfo.InvariantCulture, $" queue={queued} inbox=[{string.Join(',', _inbox.Select(w => w.Tid))}]");
        text.Append(CultureInfo.InvariantCulture, $" listed={ListedForTests}");
        text.Append(CultureInfo.InvariantCulture, $" timers={_timers.Count} timerInbox={_timerInbox.Count} idle={_idle} sliceArmed={_sliceArmed}");
        text.Append(CultureInfo.InvariantCulture, $" askedToGiveWay={Volatile.Read(ref _askedToGiveWay)} stopping={_stopping}");
        return text.ToString();
    }

    /// <summary>Q2's zeroing of this server's margin, as an idle server does it from its own thread.</summary>
    internal void RevokeMarginForTests() => StateWord.SetArrival(Self, 0);

    /// <summary>Q4's hint: the margin this server last published for a running worker (0 until it first did).</summary>
    internal byte MarginHintForTests => Volatile.Read(ref _marginHint);

    /// <summary>The server's next_tid now: whom it picked or runs, or whether it sleeps open.</summary>
    internal RunningSlot SlotForTests => Slot;

    /// <summary>Whether <paramref name="worker"/>'s block waits on this server's runnable list (not drained yet).</summary>
    internal bool ListsForTests(WorkerThread worker) => Volatile.Read(ref worker.Block.QueuedOn) == (ulong)Self;
}
