namespace Umcg.Tests.Cli;

/// <summary>
/// The pinned JSON schema of each workload's result: every field name (nested ones as <c>parent.child</c>) and
/// its JSON type, as the tool wrote them before its JSON moved to typed records. A consumer of <c>--json</c>
/// reads these names and types; a change here is a change for every such consumer.
/// </summary>
internal static class JsonSchemaPins
{

    /// <summary>Fields of every result, run or bench.</summary>
    private static readonly string[] Every =
    [
        "gc_collections: number",
        "gc_pause_ms: number",
        "harness_cpu_share: number",
        "involuntary_ctx_switches: number",
        "involuntary_ctx_switches_per_s: number",
        "jit_methods: number",
        "jit_ms: number",
        "latency: string",
        "latency_samples: number",
        "latency_samples_dropped: number",
        "machine.cpu_model: string",
        "machine.cpus: number",
        "machine.date_utc: string",
        "machine.kernel: string",
        "machine.runtime: string",
        "machine.servers: number",
        "machine: object",
        "max_us: number",
        "mean_us: number",
        "notes: array",
        "other_processes_cpu_share: number",
        "p50_us: number",
        "p999_us: number",
        "p99_us: number",
        "process_cpu_share: number",
        "servers: number",
        "system: string",
        "throughput_per_s: number",
        "throughput_unit: string",
        "voluntary_ctx_switches: number",
        "wall_s: number",
        "workload: string",
    ];

    /// <summary>Fields of <c>umcg run</c> only.</summary>
    private static readonly string[] Run =
    [
        "seconds_asked: number",
    ];

    /// <summary>Fields of <c>umcg bench</c> only.</summary>
    private static readonly string[] Bench =
    [
        "p99_ratio_vs_reference: number",
        "reference: string",
        "rep_p50_us: array",
        "rep_p999_us: array",
        "rep_p99_us: array",
        "rep_throughput_per_s: array",
        "rep_utilization: array",
        "reps: number",
        "seconds_per_rep: number",
        "throughput_ratio_vs_reference: number",
    ];

    /// <summary>The scheduler's counters, in the results of workloads that run on the task systems.</summary>
    private static readonly string[] UmcgCounters =
    [
        "umcg_adoptions: number",
        "umcg_arrivals_moved_to_idle: number",
        "umcg_blocks: number",
        "umcg_blocks_left_open: number",
        "umcg_demotions: number",
        "umcg_demotions_deferred: number",
        "umcg_detector_calm_polls: number",
        "umcg_detector_cpu_s: number",
        "umcg_detector_marks: number",
        "umcg_detector_polls: number",
        "umcg_direct_starts: number",
        "umcg_direct_switches: number",
        "umcg_grace_alarms: number",
        "umcg_os_slice_changes: number",
        "umcg_os_slice_us_at_end: number",
        "umcg_preemptions: number",
        "umcg_remote_wakes: number",
        "umcg_restorations: number",
        "umcg_reused_threads: number",
        "umcg_server_switches: number",
        "umcg_spawned: number",
        "umcg_spawns_queued_asleep: number",
        "umcg_steals: number",
        "umcg_successor_steals: number",
        "umcg_successor_switches: number",
        "umcg_switches_per_block: number",
        "umcg_timer_wakes: number",
        "umcg_yields: number",
    ];

    /// <summary>The mixed workload's own fields (and the types of the figures it may not have).</summary>
    private static readonly string[] Mixed =
    [
        "blocked_us_file: number",
        "blocked_us_pipe: number",
        "blocked_us_sleep: number",
        "blocking_ops: number",
        "compute_cpu_s: number",
        "compute_sections: number",
        "cpu_per_iteration_us: number",
        "max_running: number",
        "tasks: number",
        "utilization: number",
    ];

    /// <summary>The colocation workload's own fields (and the types of the figures it may not have).</summary>
    private static readonly string[] Colocation =
    [
        "batch_capacity_per_s: number",
        "batch_cpu_per_s: number",
        "batch_share_of_left: number",
        "batch_workers: number",
        "max_running: number",
        "max_sections_open: number",
        "offered_rate_per_s: number",
        "request_compute_us: number",
        "requests_done: number",
        "requests_offered: number",
        "utilization: number",
    ];

    /// <summary>The pingpong workload's own fields (and the types of the figures it may not have).</summary>
    private static readonly string[] PingPong =
    [
        "cpu: number",
        "max_running: null",
        "utilization: null",
    ];

    /// <summary>The pipeline workload's own fields (and the types of the figures it may not have).</summary>
    private static readonly string[] Pipeline =
    [
        "max_running: number",
        "queue_waits: number",
        "stages: number",
        "tasks_per_stage: number",
        "utilization: number",
    ];

    /// <summary>The scale workload's own fields (and the types of the figures it may not have).</summary>
    private static readonly string[] Scale =
    [
        "c_heap_trimmed_first: number",
        "cold_spawn_p50_us: number",
        "cold_spawn_p99_us: number",
        "gc_committed_per_worker_bytes: number",
        "managed_per_worker_bytes: number",
        "mappings_before: number",
        "max_running: null",
        "native_heap_per_worker_bytes: number",
        "rss_per_worker_bytes: number",
        "spawn_per_s: number",
        "spawn_s: number",
        "teardown_per_s: number",
        "teardown_s: number",
        "threads_at_peak: number",
        "threads_on_machine_before: number",
        "utilization: null",
        "warm_pool_threads: number",
        "warm_spawn_per_s: number",
        "warm_spawns: number",
        "warm_threads_created: number",
        "workers: number",
        "workers_requested: number",
    ];

    /// <summary>The gcpause workload's own fields (and the types of the figures it may not have).</summary>
    private static readonly string[] GcPause =
    [
        "demoted_cpu_share: number",
        "gcs: number",
        "gcs_by_demoted: number",
        "max_running: null",
        "pause_max_us: number",
        "pauses_seen: number",
        "suspend_max_us: number",
        "suspend_p99_us: number",
        "total_pause_ms: number",
        "utilization: null",
    ];

    /// <summary>The whole schema of each pinned invocation.</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> ByInvocation { get; } = new Dictionary<string, IReadOnlyList<string>>(StringComparer.Ordinal)
    {
        ["mixed"] = [.. Every, .. Run, .. UmcgCounters, .. Mixed],
        ["colocation"] = [.. Every, .. Run, .. UmcgCounters, .. Colocation],
        ["colocation-nosafepoints"] = [.. Every, .. Run, .. UmcgCounters, .. Colocation],
        ["pingpong"] = [.. Every, .. Run, .. PingPong],
        ["pipeline"] = [.. Every, .. Run, .. UmcgCounters, .. Pipeline],
        ["scale"] = [.. Every, .. Run, .. UmcgCounters, .. Scale],
        ["gcpause"] = [.. Every, .. Run, .. GcPause],
        ["bench-pingpong"] = [.. Every, .. Bench, .. PingPong],
    };
}
