using Umcg.Cli.Workloads;
using Umcg.Cli.Workloads.GcPause;
using Umcg.Kernel.Native;
using Umcg.Tests.Cli;

namespace Umcg.Tests.Demotion;

/// <summary>The GC-pause experiment: its listener pairs the runtime's events into pauses, and each of its systems runs to the end.</summary>
[Collection(CliCollection.Name)]
public sealed class GcPauseTests
{
    [Fact]
    public void The_listener_sees_each_induced_collection_as_one_pause_set_off_by_its_thread()
    {
        const int Collections = 5;
        using var listener = new GcPauseListener();
        DateTime from = DateTime.UtcNow;
        for (int i = 0; i < Collections; i++)
        {
            GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        }

        DateTime to = DateTime.UtcNow;

        // One more, after the window: once its events have arrived, so have the window's (they come in order).
        GC.Collect(0, GCCollectionMode.Forced, blocking: true);
        var waited = Stopwatch.StartNew();
        while (!listener.HasSeenPast(to))
        {
            Assert.True(waited.Elapsed < Watchdog.Limit, "the runtime's GC events did not arrive");
            Thread.Yield();
        }

        var pauses = listener.Between(from, to);
        Assert.Equal(Collections, pauses.Length);
        int tid = LinuxSyscalls.Gettid();
        Assert.All(pauses, p =>
        {
            Assert.Equal(tid, p.SuspendingThread);
            Assert.InRange(p.SuspendNs, 0, p.PauseNs);
            Assert.True(p.PauseNs > 0, $"pause {p.PauseNs} ns");
        });
    }

    [Theory]
    [InlineData(GcPauseWorkload.SchedIdle)]
    [InlineData(GcPauseWorkload.Nice19 + GcPauseWorkload.HogsSuffix)]
    public void A_run_beside_a_demoted_thread_ends_and_accounts_every_pause_it_saw(string system)
    {
        var r = WorkloadCatalog.Find("gcpause")!.Run(system, new WorkloadSettings { Duration = TimeSpan.FromSeconds(0.5), Servers = 2 }, NoProgress.Instance);
        Assert.Equal(r.Extra["pauses_seen"], r.Latency?.Count ?? 0);
        Assert.InRange(r.Extra["gcs_by_demoted"], 0, r.Extra["pauses_seen"]);
        Assert.InRange(r.Extra["demoted_cpu_share"], 0, 1.01);
        Assert.True(r.ThroughputPerSecond > 0, "the busy threads did no work");
    }

    [Fact]
    public void An_unknown_system_is_refused_by_name() =>
        Assert.Contains("sched-idle", Assert.Throws<ArgumentException>(() => new GcPauseWorkload().Run("idle", new WorkloadSettings(), NoProgress.Instance)).Message, StringComparison.Ordinal);
}
