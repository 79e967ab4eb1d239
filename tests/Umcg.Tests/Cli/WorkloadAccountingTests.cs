using Umcg.Cli.Reporting;
using Umcg.Cli.Workloads;

namespace Umcg.Tests.Cli;

/// <summary>Each workload's own accounting on a short, small run: figures in range and counts that add up.</summary>
[Collection(CliCollection.Name)]
public class WorkloadAccountingTests
{
    private static readonly WorkloadSettings Short = new() { Duration = TimeSpan.FromSeconds(0.25), Servers = 2 };

    private static WorkloadResult Run(string workload, string system, WorkloadSettings? settings = null) =>
        WorkloadCatalog.Find(workload)!.Run(system, settings ?? Short, NoProgress.Instance);

    /// <summary>
    /// Some compute was accounted, and never more than the servers' CPUs. No lower bound beyond zero: beside a
    /// CPU hog a quarter-second run on threads was measured at 0.00045.
    /// </summary>
    private static void AssertUtilization(WorkloadResult r) =>
        Assert.True(r.Utilization is > 0 and <= 1.0, $"utilization {r.Utilization}");

    [Fact]
    public void Mixed_on_umcg_never_runs_more_compute_than_servers()
    {
        var r = Run("mixed", "umcg", Short with { Workers = 8 });
        AssertUtilization(r);
        Assert.InRange(r.MaxRunning!.Value, 1, 2);
        Assert.True(r.Extra["tasks"] == 8);

        // Every iteration is one blocking op, one compute section and one latency sample.
        long iterations = (long)Math.Round(r.ThroughputPerSecond * r.WallSeconds);
        Assert.True(iterations > 0);
        Assert.Equal(r.Extra["compute_sections"], r.Extra["blocking_ops"]);
        Assert.Equal((long)r.Extra["compute_sections"], r.Latency!.Count);
        Assert.Equal(iterations, r.Latency.Count);
        Assert.Equal(r.Extra["blocking_ops"], r.Extra["umcg_blocks"]);

        // The pipe device answered some reads and the sampler ran: the harness's share is above 0, within the process's.
        Assert.InRange(r.Extra["harness_cpu_share"], double.Epsilon, r.Extra["process_cpu_share"]);
        Assert.True(r.Latency.P50Us <= r.Latency.P99Us && r.Latency.P99Us <= r.Latency.P999Us && r.Latency.P999Us <= r.Latency.MaxUs);
        Assert.NotEmpty(r.UtilizationSeries);
        Assert.All(r.UtilizationSeries, s => Assert.All(s.PerCpu, u => Assert.InRange(u, 0, 1.5)));
    }

    [Fact]
    public void Mixed_on_threads_counts_sections_the_os_preempts()
    {
        var r = Run("mixed", "threads", Short with { Workers = 6 });
        AssertUtilization(r);
        Assert.InRange(r.MaxRunning!.Value, 1, 6);
        Assert.Equal((long)r.Extra["compute_sections"], r.Latency!.Count);
    }

    [Fact]
    public void Colocation_completes_every_request_it_offers()
    {
        var r = Run("colocation", "umcg", Short with { Workers = 2 });
        Assert.True(r.Extra["requests_offered"] > 0);
        Assert.Equal(r.Extra["requests_offered"], r.Extra["requests_done"]);
        Assert.Equal((long)r.Extra["requests_done"], r.Latency!.Count);
        AssertUtilization(r);
        string marks = $"max running {r.MaxRunning}, sections open at once {r.Extra["max_sections_open"]}, detector marks {r.Extra["umcg_detector_marks"]}";
        Assert.True(r.MaxRunning is >= 1 and <= 2, marks);
        Assert.True(r.Extra["batch_cpu_per_s"] > 0);

        // The capacity is the machine's in the batch's unit (two CPUs' worth and under, give or take the calibration), and
        // the share is the batch's over what the requests leave of it.
        double capacity = r.Extra["batch_capacity_per_s"];
        double left = capacity - (r.Extra["requests_done"] * r.Extra["request_compute_us"] / 1e6 / r.WallSeconds);
        Assert.True(capacity > 0 && capacity < 1.5 * Environment.ProcessorCount, $"capacity {capacity}");
        Assert.Equal(Math.Round(r.Extra["batch_cpu_per_s"] / left, 3), r.Extra["batch_share_of_left"]);
    }

    [Theory]
    [InlineData("umcg-switch")]
    [InlineData("umcg-server")]
    [InlineData("umcg-yield")]
    [InlineData("futex")]
    [InlineData("monitor")]
    public void Pingpong_times_every_round_trip(string system)
    {
        var r = Run("pingpong", system, Short with { Duration = TimeSpan.FromSeconds(0.1) });
        Assert.True(r.Latency!.Count > 0);
        Assert.True(r.ThroughputPerSecond > 0);
        Assert.Equal(0, r.Latency.Dropped);
        Assert.True(r.Latency.P50Us > 0);
    }

    [Fact]
    public void Pipeline_delivers_what_its_sinks_count()
    {
        var r = Run("pipeline", "umcg", Short with { Workers = 1 });
        long delivered = (long)Math.Round(r.ThroughputPerSecond * r.WallSeconds);
        Assert.Equal(delivered, r.Latency?.Count ?? 0);
        Assert.InRange(r.MaxRunning!.Value, 0, 2);
        Assert.InRange(r.Utilization!.Value, 0, 1);
    }

    [Fact]
    public void Scale_spawns_and_tears_down_every_worker()
    {
        var r = Run("scale", "umcg", Short with { Workers = 200 });
        Assert.Equal(200, r.Extra["workers"]);
        Assert.Equal(200, r.Extra["workers_requested"]);
        Assert.True(r.Extra["spawn_per_s"] > 0);
        Assert.True(r.Extra["teardown_per_s"] > 0);
        Assert.True(double.IsFinite(r.Extra["rss_per_worker_bytes"]));
        Assert.True(r.Extra["threads_at_peak"] >= 200);
        Assert.Equal(200, r.Extra["umcg_spawned"]);
        AssertWarmSpawns(r);
    }

    [Fact]
    public void Scale_warm_spawns_on_umcg_create_no_thread()
    {
        var r = Run("scale", "umcg", Short with { Workers = 10 });
        AssertWarmSpawns(r);
        Assert.Equal(0, r.Extra["warm_threads_created"]);
    }

    [Fact]
    public void Scale_on_threads_creates_a_thread_per_warm_spawn()
    {
        var r = Run("scale", "threads", Short with { Workers = 10 });
        AssertWarmSpawns(r);
        Assert.Equal(r.Extra["warm_spawns"], r.Extra["warm_threads_created"]);
        Assert.Equal(10, r.Extra["workers"]);
    }

    [Fact]
    public void Scale_on_the_thread_pool_runs_the_warm_spawns_only_and_says_why()
    {
        var r = Run("scale", "threadpool", Short with { Workers = 10 });
        AssertWarmSpawns(r);
        Assert.False(r.Extra.ContainsKey("workers"));
        Assert.Contains(ScaleWorkload.ThreadPoolCannotHold, r.Notes);
    }

    /// <summary>Every warm spawn ran its body once: one latency sample each, and a rate that counts them all.</summary>
    private static void AssertWarmSpawns(WorkloadResult r)
    {
        Assert.True(r.Extra["warm_spawns"] > 0);
        Assert.Equal((long)r.Extra["warm_spawns"], r.Latency!.Count);
        Assert.Equal(0, r.Latency.Dropped);
        Assert.Equal(r.Extra["warm_spawn_per_s"], r.ThroughputPerSecond);
        Assert.True(r.ThroughputPerSecond > 0);
    }
}
