using System.Globalization;
using Umcg.Kernel.Detection;
using Umcg.Scheduling;

// Runs inside a cgroup whose pids.max leaves room for only a few more threads. Protocol with the test:
//   1. start a scheduler, print "ready", wait for a line on stdin (meanwhile the test moves us into the cgroup
//      and sets its pids.max);
//   2. spawn workers that stay blocked until the OS refuses a thread;
//   3. release them, check every accepted body completed, that a new body still runs (on a reused thread),
//      and that disposing completes;
//   4. print one line "OK accepted=N completed=N" then the exception's message, exit 0. Anything else: a line
//      saying what went wrong and a non-zero exit code.
const int MaxWorkers = 500;

var scheduler = new UmcgScheduler(new UmcgSchedulerOptions { Servers = 1, Detection = DetectionOptions.Off, Name = "probe" });
Console.WriteLine("ready");
if (Console.ReadLine() != "go")
{
    return 2;
}

using var gate = new ManualResetEventSlim();
var accepted = new List<WorkerHandle>();
int completed = 0;
UmcgThreadLimitException? refused = null;
for (int i = 0; i < MaxWorkers && refused is null; i++)
{
    try
    {
        accepted.Add(scheduler.Spawn(() =>
        {
            using (Worker.Blocking())
            {
                gate.Wait();
            }

            Interlocked.Increment(ref completed);
        }));
    }
    catch (UmcgThreadLimitException e)
    {
        refused = e;
    }
#pragma warning disable CA1031 // Any other exception is the failure this probe reports.
    catch (Exception e)
    {
        Console.WriteLine($"WRONG {e.GetType().FullName}: {e.Message}");
        return 3;
    }
#pragma warning restore CA1031
}

if (refused is null)
{
    Console.WriteLine($"NOLIMIT {accepted.Count} workers spawned and none refused");
    return 4;
}

gate.Set();
if (!Task.WaitAll([.. accepted.Select(h => h.Completion)], TimeSpan.FromSeconds(60)))
{
    Console.WriteLine($"HUNG {accepted.Count(h => !h.IsCompleted)} of {accepted.Count} accepted bodies did not complete");
    return 5;
}

int after = scheduler.Spawn(() => 42).Join();
scheduler.Dispose();
Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"OK accepted={accepted.Count} completed={completed} after={after} refusals={scheduler.Stats.ThreadLimitRefusals}"));
Console.WriteLine(refused.Message.ReplaceLineEndings(" "));
return 0;
