using System.Globalization;
using Umcg.Abi;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

// For a test's stall report: where this worker stands on each of its levels (see WorkerThread.Parking.cs).
public sealed unsafe partial class WorkerThread
{
    /// <summary>
    /// One line for a stall report: the kernel half's state word, the park word, whose run queue or runnable list
    /// holds the worker, and its blocking depth, demotion and pool marks. A snapshot of fields that move while it is taken.
    /// </summary>
    internal string DescribeForTests()
    {
        var task = Block.Task;
        var listedOn = Scheduler.Servers.FirstOrDefault(s => s.ListsForTests(this));
        return string.Create(
            CultureInfo.InvariantCulture,
            $"worker {Tid} '{Name}' server={Server.Index} state={StateWord.StateOf(task)} flags={StateWord.FlagsOf(task)} next={task->NextTid} "
            + $"park=({ParkWord}) deadline={ParkDeadlineNs} runQueue={WorkerQueue.IsQueued(this)} listedOn={listedOn?.Index.ToString(CultureInfo.InvariantCulture) ?? "-"} "
            + $"blocking={BlockingDepth} demoted={IsDemoted} pool={Volatile.Read(ref _idleHandshake)} body={Item is not null}");
    }
}
