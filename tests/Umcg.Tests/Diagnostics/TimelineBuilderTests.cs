using Umcg.Diagnostics;

namespace Umcg.Tests.Diagnostics;

/// <summary>The timeline built from hand-made events: ordering repairs, gaps, idle intervals, names.</summary>
public sealed class TimelineBuilderTests
{
    private const int W = 100;
    private const int S = 10;

    private static TraceEvent T(long at, TaskState from, TaskState to, int actor = W) =>
        new(at, TraceEventKind.Transition, W, S, actor, from, to, null);

    private static TraceTimeline Build(params TraceEvent[] events) => TraceTimeline.Build(events, [], dropped: 0);

    [Fact]
    public void Transitions_become_state_intervals_and_running_ones_become_runs()
    {
        var timeline = Build(
            T(10, TaskState.Blocked, TaskState.Runnable),
            new TraceEvent(15, TraceEventKind.Pick, W, S, 0, TaskState.None, TaskState.None, "job"),
            T(20, TaskState.Runnable, TaskState.Running, actor: S),
            T(50, TaskState.Running, TaskState.Runnable),
            T(60, TaskState.Runnable, TaskState.Running, actor: S),
            T(90, TaskState.Running, TaskState.Blocked));

        Assert.Equal(
            [
                new StateInterval(W, TaskState.Runnable, 10, 20, S, W, false, false),
                new StateInterval(W, TaskState.Running, 20, 50, S, S, false, false),
                new StateInterval(W, TaskState.Runnable, 50, 60, S, W, false, false),
                new StateInterval(W, TaskState.Running, 60, 90, S, S, false, false),
                new StateInterval(W, TaskState.Blocked, 90, 90, S, W, false, true),
            ],
            timeline.States);
        Assert.Equal(
            [
                new RunInterval(W, S, 20, 50, "job", TaskState.Runnable, false),
                new RunInterval(W, S, 60, 90, "job", TaskState.Blocked, false),
            ],
            timeline.Runs);
        Assert.Equal([0.01, 0.01], timeline.RunQueueLatenciesMicroseconds());
        Assert.Equal(10, timeline.StartNs);
        Assert.Equal(90, timeline.EndNs);
        Assert.Equal(60.0 / 80.0, timeline.Utilization(S), 9);
        Assert.Equal([W], timeline.Workers);
        Assert.Equal(S, Assert.Single(timeline.Servers).Tid);
    }

    [Fact]
    public void Two_transitions_stamped_out_of_order_are_swapped_back()
    {
        // A detector's block (RUNNING → BLOCKED) stamped before the wake that made the worker RUNNING.
        var timeline = Build(
            T(10, TaskState.Blocked, TaskState.Runnable),
            T(21, TaskState.Running, TaskState.Blocked, actor: 7),
            T(22, TaskState.Runnable, TaskState.Running, actor: S),
            T(40, TaskState.Blocked, TaskState.Runnable));

        Assert.Equal(
            [TaskState.Runnable, TaskState.Running, TaskState.Blocked, TaskState.Runnable],
            timeline.States.Select(s => s.State));
        Assert.All(timeline.States, s => Assert.True(s.DurationNs >= 0));
        Assert.True(timeline.States[2].IsBlockedOnBehalf);
    }

    [Fact]
    public void A_transition_that_changes_nothing_is_skipped_and_a_gap_restarts_the_walk()
    {
        var timeline = Build(
            T(10, TaskState.Runnable, TaskState.Running, actor: S),
            T(20, TaskState.Runnable, TaskState.Running), // a refused Wait putting the worker back to RUNNING
            T(30, TaskState.Running, TaskState.Runnable),
            T(40, TaskState.Running, TaskState.Blocked)); // a gap: the events in between were dropped

        Assert.Equal(
            [(TaskState.Running, 10L, 30L), (TaskState.Runnable, 30L, 40L), (TaskState.Blocked, 40L, 40L)],
            timeline.States.Select(s => (s.State, s.StartNs, s.EndNs)));
    }

    [Fact]
    public void A_blocked_interval_in_which_the_body_finished_is_idle_and_ends_the_bodys_name()
    {
        var timeline = Build(
            new TraceEvent(5, TraceEventKind.Pick, W, S, 0, TaskState.None, TaskState.None, "first"),
            T(10, TaskState.Runnable, TaskState.Running, actor: S),
            T(20, TaskState.Running, TaskState.Blocked),
            new TraceEvent(21, TraceEventKind.BodyFinished, W, S, 0, TaskState.None, TaskState.None, null),
            T(30, TaskState.Blocked, TaskState.Runnable),
            new TraceEvent(35, TraceEventKind.Switch, W, S, 200, TaskState.None, TaskState.None, null),
            T(40, TaskState.Runnable, TaskState.Running, actor: 200),
            T(50, TaskState.Running, TaskState.None));

        Assert.True(timeline.States.Single(s => s.State == TaskState.Blocked).IsIdle);
        Assert.Empty(timeline.BlockedMicroseconds());
        Assert.Equal(["first", null], timeline.Runs.Select(r => r.Name));
        Assert.Equal(TaskState.None, timeline.Runs[^1].EndedIn);
        Assert.DoesNotContain(timeline.States, s => s.State == TaskState.None);
    }

    [Fact]
    public void Utilization_over_time_splits_runs_across_windows()
    {
        var timeline = Build(
            T(0, TaskState.Runnable, TaskState.Running, actor: S),
            T(15, TaskState.Running, TaskState.Runnable),
            T(30, TaskState.Runnable, TaskState.Running, actor: S),
            T(40, TaskState.Running, TaskState.Runnable));

        double[] u = timeline.UtilizationOverTime(S, TimeSpan.FromTicks(1)); // 100 ns: one window
        Assert.Equal([25.0 / 40.0], u);
        Assert.Throws<ArgumentOutOfRangeException>(() => timeline.UtilizationOverTime(S, TimeSpan.Zero));
    }

    [Fact]
    public void An_empty_trace_builds_an_empty_timeline()
    {
        var timeline = Build();
        Assert.Empty(timeline.States);
        Assert.Empty(timeline.Runs);
        Assert.Equal(0, timeline.Utilization(S));
        Assert.Empty(timeline.UtilizationOverTime(S, TimeSpan.FromMilliseconds(1)));
        Assert.True(double.IsNaN(TraceTimeline.Percentile([], 0.5)));
    }

    [Fact]
    public void Percentile_takes_the_nearest_rank()
    {
        double[] sorted = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        Assert.Equal(5, TraceTimeline.Percentile(sorted, 0.5));
        Assert.Equal(10, TraceTimeline.Percentile(sorted, 0.99));
        Assert.Equal(1, TraceTimeline.Percentile(sorted, 0));
    }
}
