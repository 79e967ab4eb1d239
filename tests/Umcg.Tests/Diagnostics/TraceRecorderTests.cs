using Umcg.Diagnostics;

namespace Umcg.Tests.Diagnostics;

public sealed class TraceRecorderTests
{
    private const int ServersPid = 1;
    private const int WorkersPid = 2;

    [Theory, BothParkers]
    public void A_worker_that_yields_k_times_has_k_plus_one_running_slices_on_its_track_and_its_servers(string parker)
    {
        const int K = 5;
        var recorder = new TraceRecorder(4096);
        // Every yield through the server (the RFC's path), even with nobody else to run: each one is a new run.
        var scheduler = SchedulerFixture.Create(parker, servers: 1, options: new UmcgSchedulerOptions { Trace = recorder, DirectSuccessor = false });
        var h = scheduler.Spawn(
            () =>
            {
                for (int i = 0; i < K; i++)
                {
                    Worker.Yield();
                }

                return Worker.Current!.Tid;
            },
            new WorkerOptions { Name = "yielder" });
        SchedulerFixture.WaitAll(scheduler, h);
        int worker = h.Join();
        int server = scheduler.SampleServers()[0].Tid;

        // Stopped before shutdown: the worker thread, fresh, ran once to start and once after each yield.
        Assert.Same(recorder, scheduler.StopTrace());
        Assert.Equal(0, recorder.Dropped);

        var timeline = recorder.BuildTimeline();
        var runs = timeline.Runs.Where(r => r.WorkerTid == worker).ToList();
        Assert.Equal(K + 1, runs.Count);
        Assert.All(runs, r => Assert.Equal(server, r.ServerTid));
        Assert.All(runs, r => Assert.Equal("yielder", r.Name));
        Assert.All(runs, r => Assert.True(r.DurationNs >= 0));
        Assert.Equal(K, runs.Count(r => r.EndedIn == TaskState.Runnable));
        Assert.Equal(TaskState.Blocked, runs[^1].EndedIn); // the body finished: the thread waits in the pool

        using var trace = ChromeTrace.Of(recorder);
        var workerSlices = trace.Slices(WorkersPid, worker);
        Assert.Equal(K + 1, workerSlices.Count(s => s.Name == "RUNNING"));
        Assert.Equal(K + 1, workerSlices.Count(s => s.Name == "RUNNABLE")); // queued when it registered, then after each yield
        Assert.Equal("IDLE", workerSlices[^1].Name);

        var serverSlices = trace.Slices(ServersPid, server);
        Assert.Equal(K + 1, serverSlices.Count);
        Assert.All(serverSlices, s => Assert.Equal("yielder", s.Name));

        // The server's slices are the worker's RUNNING slices.
        var running = workerSlices.Where(s => s.Name == "RUNNING").Select(s => (s.Ts, s.Dur)).ToList();
        Assert.Equal(running, serverSlices.Select(s => (s.Ts, s.Dur)).ToList());

        Assert.Equal($"worker {worker}", trace.TrackName(WorkersPid, worker));
        Assert.Contains("server 0", trace.TrackName(ServersPid, server), StringComparison.Ordinal);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Every_event_of_the_export_has_the_fields_of_the_trace_event_format()
    {
        var recorder = new TraceRecorder(4096);
        var scheduler = SchedulerFixture.Create(servers: 2, options: new UmcgSchedulerOptions { Trace = recorder });
        var handles = Enumerable.Range(0, 4).Select(_ => scheduler.Spawn(() =>
        {
            Worker.Yield();
            using (Worker.Blocking())
            {
            }
        })).ToArray();
        SchedulerFixture.WaitAll(scheduler, handles);
        SchedulerFixture.Shutdown(scheduler);

        using var trace = ChromeTrace.Of(recorder);
        Assert.Equal("ns", trace.Root.GetProperty("displayTimeUnit").GetString());
        Assert.Equal(recorder.Count, trace.Root.GetProperty("otherData").GetProperty("events").GetInt64());
        Assert.NotEmpty(trace.Events);
        foreach (var e in trace.Events)
        {
            string ph = e.GetProperty("ph").GetString()!;
            Assert.Contains(ph, new[] { "M", "X", "i" });
            Assert.False(string.IsNullOrEmpty(e.GetProperty("name").GetString()));
            e.GetProperty("pid").GetInt32();
            e.GetProperty("tid").GetInt32();
            if (ph == "M")
            {
                Assert.Equal(System.Text.Json.JsonValueKind.Object, e.GetProperty("args").ValueKind);
                continue;
            }

            Assert.True(e.GetProperty("ts").GetDouble() >= 0);
            if (ph == "X")
            {
                Assert.True(e.GetProperty("dur").GetDouble() >= 0);
            }
        }

        // Every track that has slices is named, and both servers are there.
        var tracks = trace.Events.Where(e => e.GetProperty("ph").GetString() == "X")
            .Select(e => (Pid: e.GetProperty("pid").GetInt32(), Tid: e.GetProperty("tid").GetInt32())).Distinct();
        Assert.All(tracks, t => Assert.NotNull(trace.TrackName(t.Pid, t.Tid)));
        Assert.Equal(2, recorder.Servers.Count);
        Assert.All(recorder.Servers, s => Assert.NotNull(trace.TrackName(ServersPid, s.Tid)));
    }

    [Fact]
    public void A_recorder_that_is_not_attached_records_nothing_and_the_kernel_has_no_observer()
    {
        var recorder = new TraceRecorder(1024);
        var scheduler = SchedulerFixture.Create(servers: 1);
        Assert.Null(scheduler.Kernel.Observer);
        Assert.Null(scheduler.CurrentTrace());
        var h = scheduler.Spawn(Worker.Yield);
        SchedulerFixture.WaitAll(scheduler, h);
        SchedulerFixture.Shutdown(scheduler);

        Assert.Equal(0, recorder.Count);
        Assert.Empty(recorder.Snapshot());
        Assert.Empty(recorder.BuildTimeline().Runs);
        Assert.Null(scheduler.Kernel.Observer);
    }

    [Fact]
    public void Stopping_a_trace_detaches_it_and_nothing_more_is_recorded()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var recorder = scheduler.StartTrace(1024);
        Assert.Same(recorder, scheduler.CurrentTrace());
        Assert.Throws<InvalidOperationException>(() => scheduler.StartTrace(new TraceRecorder(8)));
        SchedulerFixture.WaitAll(scheduler, scheduler.Spawn(Worker.Yield));
        Assert.Same(recorder, scheduler.StopTrace());
        Assert.Null(scheduler.Kernel.Observer);
        long count = recorder.Count;
        Assert.True(count > 0);

        SchedulerFixture.WaitAll(scheduler, scheduler.Spawn(Worker.Yield));
        Assert.Equal(count, recorder.Count);
        Assert.Null(scheduler.StopTrace());
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_full_recorder_drops_and_counts_without_failing()
    {
        var recorder = new TraceRecorder(capacity: 4);
        // Every yield through the server (the RFC's path), even with nobody else to run: each one is a new run.
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Trace = recorder, DirectSuccessor = false });
        var h = scheduler.Spawn(() =>
        {
            for (int i = 0; i < 20; i++)
            {
                Worker.Yield();
            }
        });
        SchedulerFixture.WaitAll(scheduler, h);
        SchedulerFixture.Shutdown(scheduler);

        Assert.True(recorder.IsFull);
        Assert.Equal(4, recorder.Count);
        Assert.True(recorder.Dropped >= 20, $"dropped {recorder.Dropped}");
        Assert.Equal(4, recorder.Snapshot().Count);
        using var trace = ChromeTrace.Of(recorder);
        Assert.Equal(recorder.Dropped, trace.Root.GetProperty("otherData").GetProperty("dropped").GetInt64());
    }

    [Fact]
    public void Blocking_regions_show_as_blocked_and_a_finished_body_as_idle()
    {
        var recorder = new TraceRecorder(4096);
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Trace = recorder });
        var h = scheduler.Spawn(() =>
        {
            using (Worker.Blocking())
            {
            }

            return Worker.Current!.Tid;
        });
        SchedulerFixture.WaitAll(scheduler, h);
        int worker = h.Join();
        scheduler.StopTrace();

        var states = recorder.BuildTimeline().StatesOf(worker).Select(s => (s.State, s.IsIdle)).ToList();
        Assert.Equal(
            [
                (TaskState.Runnable, false), // registered, queued
                (TaskState.Running, false),
                (TaskState.Blocked, false), // the region
                (TaskState.Runnable, false),
                (TaskState.Running, false),
                (TaskState.Blocked, true), // finished: waits in the pool
            ],
            states);
        Assert.Single(recorder.BuildTimeline().BlockedMicroseconds());
        Assert.Equal(2, recorder.BuildTimeline().RunQueueLatenciesMicroseconds().Length);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public async Task A_finished_body_is_recorded_before_its_handle_completes()
    {
        // Whoever awaits a handle may stop the trace at once: the body's end must already be in it.
        var recorder = new TraceRecorder(1024);
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Trace = recorder });
        var h = scheduler.Spawn(() => Worker.Current!.Tid);
        var seen = h.Completion.ContinueWith(
            t => recorder.Snapshot().Any(e => e.Kind == TraceEventKind.BodyFinished && e.Tid == t.Result),
            TaskScheduler.Default);
        Watchdog.Wait(scheduler.Kernel, seen, "the handle's continuation");
        Assert.True(await seen);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_block_made_by_a_detector_is_marked_as_made_on_the_workers_behalf()
    {
        // The test marks the worker itself, standing in for a detector; a real one stays off, because beside a
        // CPU hog it can rightly mark the same worker for a sleep of its own (the JIT waiting for the memory-map
        // lock), and this test counts marks.
        var recorder = new TraceRecorder(4096);
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Trace = recorder, Detection = DetectionOptions.Off });
        int tid = SchedulerFixture.RunWorkerMarkedBlocked(scheduler);
        scheduler.StopTrace();

        var blocked = Assert.Single(recorder.BuildTimeline().StatesOf(tid), s => s.State == TaskState.Blocked && !s.IsIdle);
        Assert.True(blocked.IsBlockedOnBehalf);
        Assert.NotEqual(tid, blocked.ActorTid);
        Assert.Equal(1, scheduler.Stats.DetectorBlocks);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Recording_a_bare_kernel_half_sees_every_worker_and_detaches_on_dispose()
    {
        var recorder = new TraceRecorder(4096);
        // Every yield through the server (the RFC's path), even with nobody else to run: each one is a new run.
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { DirectSuccessor = false });
        int tid;
        using (recorder.Record(scheduler.Kernel))
        {
            Assert.NotNull(scheduler.Kernel.Observer);
            var h = scheduler.Spawn(() =>
            {
                Worker.Yield();
                return Worker.Current!.Tid;
            });
            SchedulerFixture.WaitAll(scheduler, h);
            tid = h.Join();
        }

        Assert.Null(scheduler.Kernel.Observer);
        var events = recorder.Snapshot();
        Assert.All(events, e => Assert.Equal(TraceEventKind.Transition, e.Kind)); // no scheduler attached: transitions only
        Assert.Equal(2, recorder.BuildTimeline().Runs.Count(r => r.WorkerTid == tid));
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Two_recorders_on_one_kernel_half_each_see_the_transitions()
    {
        var scheduler = SchedulerFixture.Create(servers: 1);
        var first = new TraceRecorder(1024);
        var second = new TraceRecorder(1024);
        var a = first.Record(scheduler.Kernel);
        var b = second.Record(scheduler.Kernel);
        SchedulerFixture.WaitAll(scheduler, scheduler.Spawn(Worker.Yield));
        a.Dispose();
        Assert.NotNull(scheduler.Kernel.Observer);
        b.Dispose();
        Assert.Null(scheduler.Kernel.Observer);
        Assert.True(first.Count > 0);
        Assert.Equal(first.Count, second.Count);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Timeline_utilization_stays_within_zero_and_one()
    {
        var recorder = new TraceRecorder(8192);
        // Every yield through the server (the RFC's path), even with nobody else to run: each one is a new run.
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Trace = recorder, DirectSuccessor = false });
        var handles = Enumerable.Range(0, 3).Select(_ => scheduler.Spawn(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                Worker.Yield();
            }
        })).ToArray();
        SchedulerFixture.WaitAll(scheduler, handles);
        scheduler.StopTrace();

        var timeline = recorder.BuildTimeline();
        int server = timeline.Servers[0].Tid;
        double total = timeline.Utilization(server);
        Assert.InRange(total, 0.0, 1.0);
        Assert.True(total > 0);
        var buckets = timeline.UtilizationOverTime(server, TimeSpan.FromTicks(Math.Max(1, timeline.Duration.Ticks / 4)));
        Assert.InRange(buckets.Length, 4, 5);
        Assert.All(buckets, u => Assert.InRange(u, 0.0, 1.0));
        var latencies = timeline.RunQueueLatenciesMicroseconds();
        Assert.Equal(latencies.Order(), latencies);
        Assert.True(latencies.Length >= 3 * 11);
        Assert.True(TraceTimeline.Percentile(latencies, 0.5) <= TraceTimeline.Percentile(latencies, 0.99));
        SchedulerFixture.Shutdown(scheduler);
    }
}
