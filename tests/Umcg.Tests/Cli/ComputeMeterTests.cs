using Umcg.Cli.Measurement;
using Umcg.Cli.Systems;

namespace Umcg.Tests.Cli;

/// <summary>What the workloads' meter counts as running on Umcg.</summary>
[Collection(CliCollection.Name)]
public class ComputeMeterTests
{
    /// <summary>
    /// A worker marked blocked inside a section (as a detector does for a sleep of its own) goes on running
    /// unmanaged to its next safepoint, while its server runs the next worker: two sections open on one
    /// server. That is the detector's documented N + 1, not a second worker holding the server, and the meter
    /// must not report it as one (the colocation workload once reported 3 running on 2 servers).
    /// </summary>
    [Fact]
    public void A_section_of_a_worker_marked_blocked_does_not_count_as_running_beside_its_servers_next_worker()
    {
        using var sys = (UmcgSystem)SystemNames.Create(SystemNames.Umcg, new SystemSettings(1));
        var meter = new ComputeMeter(Environment.ProcessorCount) { Servers = sys };
        var group = new TaskGroup(sys);
        int markedTid = 0;
        int nextDone = 0;
        group.Start(TaskKind.Normal, () =>
        {
            var section = meter.Enter();
            Volatile.Write(ref markedTid, Worker.Current!.Tid);
            while (Volatile.Read(ref nextDone) == 0)
            {
                Thread.SpinWait(20); // unmanaged once marked: no safepoint inside the section
            }

            meter.Exit(section);
            Worker.Safepoint(); // takes the unblock path
        });

        var kernel = sys.Scheduler.Kernel;
        Watchdog.Until(() => Volatile.Read(ref markedTid) != 0, kernel, "the first section");
        Assert.Equal(Errno.Ok, kernel.MarkBlocked(markedTid));
        group.Start(TaskKind.Normal, () =>
        {
            meter.Exit(meter.Enter());
            Volatile.Write(ref nextDone, 1);
        });

        Assert.True(group.Wait(Watchdog.Limit), kernel.Dump());
        Assert.Equal(2, meter.MaxOpen);
        Assert.Equal(1, meter.MaxRunning);
    }

    /// <summary>
    /// Two workers on two servers, each inside a section while the other enters: both hold a server, and one of the
    /// two entries sees the other. Thousands of sections came and went before, each freeing its slot for the next.
    /// </summary>
    [Fact]
    public void Sections_of_workers_on_different_servers_count_as_running_together()
    {
        using var sys = (UmcgSystem)SystemNames.Create(SystemNames.Umcg, new SystemSettings(2));
        var meter = new ComputeMeter(Environment.ProcessorCount) { Servers = sys };
        var group = new TaskGroup(sys);
        group.Start(TaskKind.Normal, () =>
        {
            for (int i = 0; i < 5_000; i++)
            {
                meter.Exit(meter.Enter());
            }
        });
        var kernel = sys.Scheduler.Kernel;
        Assert.True(group.Wait(Watchdog.Limit), kernel.Dump());
        Assert.Equal(1, meter.MaxRunning);

        // One on each server, so that neither waits behind the other; each round both are in a section at once. Rounds,
        // not one: on a loaded machine the blocking detector may mark a spinning worker blocked for a sleep of its own
        // (a page fault, the JIT's lock) just as the other enters, and a section counts only while its task holds a
        // server (see ComputeMeter's remarks). A meter that never counts the two together fails every round.
        const int Rounds = 20;
        var entered = new int[Rounds];
        var pair = Enumerable.Range(0, 2).Select(server => sys.Scheduler.Spawn(
            () =>
            {
                for (int round = 0; round < Rounds; round++)
                {
                    var section = meter.Enter();
                    Interlocked.Increment(ref entered[round]);
                    while (Volatile.Read(ref entered[round]) < 2)
                    {
                        Thread.SpinWait(20);
                        Worker.Safepoint();
                    }

                    meter.Exit(section);
                }
            },
            new WorkerOptions { ServerAffinity = server })).ToArray();
        SchedulerFixture.WaitAll(sys.Scheduler, pair);
        Assert.Equal(2, meter.MaxRunning);
        Assert.Equal(5_000 + (2 * Rounds), meter.Sections);
    }
}
