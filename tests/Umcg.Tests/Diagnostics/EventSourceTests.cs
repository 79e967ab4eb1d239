using System.Diagnostics.Tracing;
using Umcg.Diagnostics;

namespace Umcg.Tests.Diagnostics;

public sealed class EventSourceTests
{
    /// <summary>Listens to every event of the "Umcg" source (of every scheduler in the process: tests filter).</summary>
    private sealed class Listener : EventListener
    {
        // Initialized before the base constructor runs, which already reports existing sources.
        private readonly ConcurrentQueue<EventWrittenEventArgs> _events = new();

        public List<EventWrittenEventArgs> Named(string eventName) => [.. _events.Where(e => e.EventName == eventName)];

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == UmcgEventSource.SourceName)
            {
                EnableEvents(eventSource, EventLevel.Verbose, EventKeywords.All);
            }
        }

        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventSource.Name == UmcgEventSource.SourceName)
            {
                _events.Enqueue(eventData);
            }
        }
    }

    private static object? Payload(EventWrittenEventArgs e, string name) => e.Payload![e.PayloadNames!.IndexOf(name)];

    [Fact]
    public void The_source_is_named_Umcg_and_built_without_errors()
    {
        Assert.Equal("Umcg", UmcgEventSource.Log.Name);
        Assert.Null(UmcgEventSource.Log.ConstructionException);
        Assert.False(string.IsNullOrEmpty(EventSource.GenerateManifest(typeof(UmcgEventSource), string.Empty)));
    }

    [Fact]
    public void A_listener_sees_servers_start_and_stop_and_bodies_spawn_block_unblock_and_complete()
    {
        using var listener = new Listener();
        string body = $"body-{Guid.NewGuid():N}";
        var scheduler = SchedulerFixture.Create(servers: 1);
        int server = scheduler.SampleServers()[0].Tid;
        var h = scheduler.Spawn(
            () =>
            {
                using (Worker.Blocking())
                {
                }

                return Worker.Current!.Tid;
            },
            new WorkerOptions { Name = body });
        SchedulerFixture.WaitAll(scheduler, h);
        int worker = h.Join();
        SchedulerFixture.Shutdown(scheduler);

        var started = Assert.Single(listener.Named(nameof(UmcgEventSource.ServerStarted)), e => (int)Payload(e, "Tid")! == server);
        Assert.Equal(0, Payload(started, "ServerIndex"));
        Assert.Single(listener.Named(nameof(UmcgEventSource.ServerStopped)), e => (int)Payload(e, "Tid")! == server);

        var spawned = Assert.Single(listener.Named(nameof(UmcgEventSource.WorkerSpawned)), e => (string?)Payload(e, "Name") == body);
        Assert.Equal(0, Payload(spawned, "ServerIndex"));
        Assert.Equal(false, Payload(spawned, "Reused"));

        var blocked = Assert.Single(listener.Named(nameof(UmcgEventSource.WorkerBlocked)), e => (int)Payload(e, "Tid")! == worker);
        Assert.Equal(BlockDetector.Explicit, Payload(blocked, "Detector"));
        var unblocked = Assert.Single(listener.Named(nameof(UmcgEventSource.WorkerUnblocked)), e => (int)Payload(e, "Tid")! == worker);
        Assert.Equal(BlockDetector.Explicit, Payload(unblocked, "Detector"));
        Assert.True((double)Payload(unblocked, "BlockedMicroseconds")! >= 0);

        var completed = Assert.Single(listener.Named(nameof(UmcgEventSource.WorkerCompleted)), e => (string?)Payload(e, "Name") == body);
        Assert.Equal(worker, Payload(completed, "Tid"));
        Assert.Equal(nameof(TaskStatus.RanToCompletion), Payload(completed, "Outcome"));
    }

    [Fact]
    public void A_listener_sees_a_time_slice_preemption()
    {
        using var listener = new Listener();
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Policy = () => new FifoPolicy(TimeSpan.FromMilliseconds(1)) });
        int spinner = SchedulerFixture.RunCpuBoundUntilPreempted(scheduler);
        SchedulerFixture.Shutdown(scheduler);

        var preempt = listener.Named(nameof(UmcgEventSource.PreemptRequested)).First(e => (int)Payload(e, "Tid")! == spinner);
        Assert.Equal(0, Payload(preempt, "ServerIndex"));
        Assert.Equal(EventLevel.Verbose, preempt.Level);
        Assert.Equal(UmcgEventSource.Keywords.Scheduling, preempt.Keywords & UmcgEventSource.Keywords.Scheduling);
    }
}
