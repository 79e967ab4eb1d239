using System.Globalization;
using Umcg.Kernel.Native;
using Umcg.Scheduling.Demotion;

// Prints what this process may do to its threads' priorities, then does it, one "key=value ..." line each:
//   detect    mode, mechanism and privilege as ThreadDemotion detected them (SCHED_IDLE first), and the mode
//             detected when only nice 19 is allowed;
//   schedidle a thread of this process demoted through SCHED_IDLE and restored: each outcome, and the policy the
//             kernel reports after each;
//   nice19    the same through nice 19: each outcome and the nice after each;
//   counters  the two demotion objects' counters, summed.
// Exit code 0 when every line was printed; the test judges the figures.
var idle = new ThreadDemotion(DemotionMechanism.SchedIdle);
var nice = new ThreadDemotion(DemotionMechanism.Nice19);
Console.WriteLine(Line("detect", ("mode", idle.Mode), ("mechanism", idle.Mechanism), ("cap", idle.Privilege.CapSysNice), ("limit", idle.Privilege.NiceLimit), ("nice19mode", nice.Mode)));
Console.WriteLine($"reason {idle.Reason}");

RoundTrip("schedidle", idle);
RoundTrip("nice19", nice);
Console.WriteLine(Line(
    "counters",
    ("demotions", idle.Demotions + nice.Demotions),
    ("restorations", idle.Restorations + nice.Restorations),
    ("demotion_failures", idle.DemotionFailures + nice.DemotionFailures),
    ("restoration_failures", idle.RestorationFailures + nice.RestorationFailures)));
return 0;

// Demotes and restores a thread of this process that waits meanwhile, reading the kernel's view after each.
static void RoundTrip(string name, ThreadDemotion demotion)
{
    using var parked = new ManualResetEventSlim();
    int tid = 0;
    using var started = new ManualResetEventSlim();
    var thread = new Thread(() =>
    {
        Volatile.Write(ref tid, LinuxSyscalls.Gettid());
        started.Set();
        parked.Wait();
    })
    { IsBackground = true, Name = $"probe {name}" };
    thread.Start();
    started.Wait();

    var demoted = demotion.Demote(tid);
    var afterDemote = Kernel(tid);
    int restored = demotion.Restore(demoted);
    var afterRestore = Kernel(tid);
    parked.Set();
    thread.Join();
    Console.WriteLine(Line(
        name,
        ("demote", demoted.IsDemoted ? demoted.Mechanism.ToString() : LinuxSyscalls.ErrnoName(demoted.Errno)),
        ("policy_demoted", afterDemote.Policy),
        ("nice_demoted", afterDemote.Nice),
        ("restore", restored == 0 ? "ok" : LinuxSyscalls.ErrnoName(restored)),
        ("policy_restored", afterRestore.Policy),
        ("nice_restored", afterRestore.Nice)));
}

static (int Policy, int Nice) Kernel(int tid)
{
    LinuxSyscalls.GetSchedPolicy(tid, out int policy, out _, out _);
    LinuxSyscalls.GetNice(tid, out int nice);
    return (policy, nice);
}

static string Line(string name, params (string Key, object? Value)[] fields) =>
    name + string.Concat(fields.Select(f => string.Create(CultureInfo.InvariantCulture, $" {f.Key}={f.Value?.ToString() ?? "null"}")));
