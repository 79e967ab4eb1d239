using System.Diagnostics;
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
// With the argument "start", step 2 instead starts a second scheduler with more servers than the cgroup allows
// threads, and steps 3–4 check that its constructor failed with every server it had started gone, while the
// first scheduler still runs bodies: "OK leftover=N after=N", then the message.
const int MaxWorkers = 500;

var scheduler = new UmcgScheduler(new UmcgSchedulerOptions { Servers = 1, Detection = DetectionOptions.Off, Name = "probe" });
Console.WriteLine("ready");
if (Console.ReadLine() != "go")
{
    return 2;
}

if (args is ["start"])
{
    return StartRefused(scheduler);
}

using var gate = new ManualResetEventSlim();
var accepted = new List<WorkerHandle>();
int completed = 0;
UmcgThreadLimitException? refused = null;
for (int i = 0; i < MaxWorkers && refused is null; i++)
{
    refused = Refusal(() => accepted.Add(scheduler.Spawn(() =>
    {
        using (Worker.Blocking())
        {
            gate.Wait();
        }

        Interlocked.Increment(ref completed);
    })), out bool wrong);
    if (wrong)
    {
        return 3;
    }
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

static int StartRefused(UmcgScheduler first)
{
    var refused = Refusal(() => new UmcgScheduler(new UmcgSchedulerOptions { Servers = 64, PinServers = false, Detection = DetectionOptions.Off, Name = "sp" }).Dispose(), out bool wrong);
    if (wrong)
    {
        return 3;
    }

    if (refused is null)
    {
        Console.WriteLine("NOLIMIT a scheduler with 64 servers started");
        return 4;
    }

    // The failed scheduler's server threads ("sp server N") were joined before the constructor threw; an OS
    // thread may outlive its managed Join by a moment, so wait (bounded) for the last of them to leave.
    static bool IsServer(string task)
    {
        try
        {
            return File.ReadAllText(Path.Combine(task, "comm")).StartsWith("sp server", StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false; // the thread left while we looked
        }
    }

    static int Leftover() => Directory.GetDirectories("/proc/self/task").Count(IsServer);
    var waited = Stopwatch.StartNew();
    int leftover;
    while ((leftover = Leftover()) != 0 && waited.Elapsed < TimeSpan.FromSeconds(60))
    {
        Thread.Yield();
    }

    int after = first.Spawn(() => 42).Join();
    first.Dispose();
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"OK leftover={leftover} after={after}"));
    Console.WriteLine(refused.Message.ReplaceLineEndings(" "));
    return 0;
}

// Runs an attempt the OS may refuse a thread for: the refusal, or null if it went through. Any other exception is
// the failure this probe reports: printed as WRONG, with wrong set.
static UmcgThreadLimitException? Refusal(Action attempt, out bool wrong)
{
    wrong = false;
    try
    {
        attempt();
        return null;
    }
    catch (UmcgThreadLimitException e)
    {
        return e;
    }
#pragma warning disable CA1031 // Any other exception is the failure this probe reports.
    catch (Exception e)
    {
        Console.WriteLine($"WRONG {e.GetType().FullName}: {e.Message}");
        wrong = true;
        return null;
    }
#pragma warning restore CA1031
}
