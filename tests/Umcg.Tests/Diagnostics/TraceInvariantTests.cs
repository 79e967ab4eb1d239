using Umcg.Diagnostics;

namespace Umcg.Tests.Diagnostics;

/// <summary>What a trace of a busy scheduler must show: the kernel half's one-worker-per-server rule, and a complete chain of states.</summary>
public sealed class TraceInvariantTests
{
    [Theory, BothParkers]
    public void A_traced_mixed_workload_never_shows_two_workers_running_for_one_server(string parker)
    {
        const int Workers = 40;
        var recorder = new TraceRecorder(1 << 17);
        var scheduler = SchedulerFixture.Create(parker, servers: 2, options: new UmcgSchedulerOptions
        {
            Trace = recorder,
            Policy = () => new FifoPolicy(TimeSpan.FromMilliseconds(1)),
        });
        var handles = Enumerable.Range(0, Workers).Select(id => scheduler.Spawn(
            () =>
            {
                var rng = new Random(id);
                for (int i = 0; i < 20; i++)
                {
                    switch (rng.Next(4))
                    {
                        case 0:
                            Worker.Yield();
                            break;
                        case 1:
                            using (Worker.Blocking())
                            {
                                Thread.Yield();
                            }

                            break;
                        case 2:
                            Worker.Sleep(TimeSpan.FromMicroseconds(rng.Next(0, 500)));
                            break;
                        default:
                            Thread.SpinWait(rng.Next(10, 500));
                            Worker.Safepoint();
                            break;
                    }
                }
            },
            new WorkerOptions { Name = $"w{id}" })).ToArray();

        // Reading while recording goes on is allowed: a slot still being written is left out.
        while (!handles.All(h => h.IsCompleted))
        {
            Assert.All(recorder.Snapshot(), e => Assert.NotEqual(TraceEventKind.None, e.Kind));
            recorder.BuildTimeline();
            Thread.Yield();
        }

        SchedulerFixture.WaitAll(scheduler, handles);
        scheduler.StopTrace();
        Assert.Equal(0, recorder.Dropped);
        var timeline = recorder.BuildTimeline();

        // Stamps are read before each transition's CAS, and a worker starts only after the previous one's CAS
        // took it off the slot: on one server, a run never starts before the previous one ended.
        foreach (var server in timeline.Servers)
        {
            var runs = timeline.RunsOn(server.Tid).ToList();
            Assert.NotEmpty(runs);
            for (int i = 1; i < runs.Count; i++)
            {
                Assert.True(runs[i].StartNs >= runs[i - 1].EndNs, $"server {server.Tid}: {runs[i - 1]} overlaps {runs[i]}");
            }
        }

        // Every worker's states chain up with no gap: each interval starts where the previous one ended.
        foreach (int worker in timeline.Workers)
        {
            var states = timeline.StatesOf(worker).ToList();
            for (int i = 1; i < states.Count; i++)
            {
                Assert.Equal(states[i - 1].EndNs, states[i].StartNs);

                // A demotion splits a RUNNING interval into foreground and background: a state, or its ground, changes.
                Assert.NotEqual((states[i - 1].State, states[i - 1].IsBackground), (states[i].State, states[i].IsBackground));
            }
        }

        // Every body ran and was named on the server tracks.
        Assert.Equal(Workers, timeline.Runs.Select(r => r.Name).Where(n => n is not null).Distinct().Count());
        Assert.DoesNotContain(timeline.States, s => s.State == TaskState.Running && s.IsOpen);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void A_demoted_worker_shows_as_background_and_the_server_runs_one_foreground_worker_at_a_time()
    {
        var recorder = new TraceRecorder(1 << 12);
        var scheduler = SchedulerFixture.Create(servers: 1, options: SchedulerFixture.Undetected with
        {
            Trace = recorder,
            Policy = () => new PriorityPolicy(Timeout.InfiniteTimeSpan),
        });
        Umcg.Tests.Demotion.DemotionScenario.RunSpinnerReleasedByHigher(scheduler);
        scheduler.StopTrace();
        var timeline = recorder.BuildTimeline();

        // The spinner ran in the foreground, then in the background while the high body ran, and its background time
        // is no run of the server's: the server's runs never overlap.
        var background = Assert.Single(timeline.States, s => s.IsBackground);
        Assert.Equal(TaskState.Running, background.State);
        var states = timeline.StatesOf(background.WorkerTid).ToList();
        int at = states.IndexOf(background);
        Assert.True(at > 0 && states[at - 1] is { State: TaskState.Running, IsBackground: false }, string.Join(", ", states));
        var runs = timeline.RunsOn(background.ServerTid).ToList();
        Assert.DoesNotContain(runs, r => r.WorkerTid == background.WorkerTid && r.StartNs >= background.StartNs && r.EndNs <= background.EndNs && r.StartNs < background.EndNs);
        for (int i = 1; i < runs.Count; i++)
        {
            Assert.True(runs[i].StartNs >= runs[i - 1].EndNs, $"{runs[i - 1]} overlaps {runs[i]}");
        }

        Assert.Contains(runs, r => r.WorkerTid != background.WorkerTid && r.StartNs >= background.StartNs && r.StartNs < background.EndNs);
        for (int i = 1; i < states.Count; i++)
        {
            Assert.Equal(states[i - 1].EndNs, states[i].StartNs);
        }

        SchedulerFixture.Shutdown(scheduler);
    }
}
