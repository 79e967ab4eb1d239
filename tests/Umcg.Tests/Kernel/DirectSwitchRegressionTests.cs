// Regression tests for two kernel-half bugs: a worker switching by next_tid must be queued before the
// worker it switches to can run (else a server may drain, sleep, and never see it), and an unregistering
// worker must not hand its server's slot to a worker of another server.

using Xunit.Abstractions;

namespace Umcg.Tests.Kernel;

public sealed unsafe class DirectSwitchRegressionTests(ITestOutputHelper output)
{
    private const uint TidRunning = UmcgConstants.TidRunning;

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Switch_by_next_tid_puts_the_switcher_on_the_runnable_list_before_the_target_runs(string parker)
    {
        const int Switches = 20_000;
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        var violations = new ConcurrentQueue<string>();
        using var server = new RunQueueServer(kernel);
        var tids = new int[2];
        int ready = 0, started = 0, switches = 0;

        var w0 = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            Volatile.Write(ref tids[0], ctx.Tid);
            Interlocked.Increment(ref ready);
            while (Volatile.Read(ref ready) < 2)
            {
                ctx.Yield();
            }

            int other = Volatile.Read(ref tids[1]);
            Watchdog.Until(() => server.TryClaim(other), kernel, "W1 queued");
            Volatile.Write(ref started, 1);
            Interlocked.Increment(ref switches);
            ctx.SwitchTo(other);
            PingPong(ctx, other);
        }, errors, "W0");

        var w1 = RawWorker.Start(kernel, server.Tid, ctx =>
        {
            Volatile.Write(ref tids[1], ctx.Tid);
            Interlocked.Increment(ref ready);
            while (Volatile.Read(ref started) == 0)
            {
                ctx.Yield();
            }

            PingPong(ctx, Volatile.Read(ref tids[0]));
        }, errors, "W1");

        Watchdog.Join(kernel, () => server.Describe(), w0, w1);
        Assert.Empty(errors);
        Assert.True(violations.IsEmpty, $"{violations.Count} switches ran the target before the switcher was queued; first: {violations.FirstOrDefault()}");
        Assert.Equal(Switches, switches);

        void PingPong(RawWorkerContext ctx, int other)
        {
            // Each time we run here the other worker has just switched to us: it must already be queued (the
            // kernel half pushes it before it wakes us), so claiming it succeeds at once.
            while (Volatile.Read(ref switches) < Switches)
            {
                if (!server.TryClaim(other))
                {
                    violations.Enqueue($"switch {Volatile.Read(ref switches)}: {other} switched to {ctx.Tid} but was not queued when {ctx.Tid} ran");
                    Watchdog.Until(() => server.TryClaim(other), kernel, "switcher queued");
                }

                Interlocked.Increment(ref switches);
                ctx.SwitchTo(other);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Chain_of_ten_workers_switching_by_next_tid_then_leaving_through_the_server(string parker) =>
        NextTidChain.Run(parker, leaveByNextTid: false);

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Two_servers_at_once_each_run_only_their_own_workers_leaving_one_by_one(string parker) =>
        ScenarioTests.RunTwoServers(parker, leaveTogether: false);

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Two_servers_with_fifty_workers_each_leaving_one_by_one_keep_every_invariant(string parker) =>
        StressTests.Run(output, parker, servers: 2, workersPerServer: 50, iterations: 200, waitSlice: null, leaveTogether: false);

    [Theory]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Unregister_with_next_tid_naming_a_worker_of_another_server_does_not_run_it_there(string parker)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        var violations = new ConcurrentQueue<string>();
        using var s0 = new RunQueueServer(kernel, name: "server 0");
        using var s1 = new RunQueueServer(kernel, name: "server 1");
        var check1 = new RunningCheck(s1.Task, s1.Tid, violations);
        int release = 0;
        long s0Wakeups = -1;

        // C holds server 1, so that B waits RUNNABLE in server 1's run queue.
        var c = RawWorker.Start(kernel, s1.Tid, ctx =>
        {
            check1.Enter(ctx);
            Watchdog.Until(() => Volatile.Read(ref release) == 1, kernel, "release");
            check1.Leave(ctx);
        }, errors, "C");
        Watchdog.Until(() => s1.Started.Count == 1, kernel, "C runs");
        var b = RawWorker.Start(kernel, s1.Tid, ctx =>
        {
            check1.Enter(ctx);
            check1.Leave(ctx);
        }, errors, "B");
        int bTid = 0;
        Watchdog.Until(() => s1.Queued() is [int only] && (bTid = only) != 0, kernel, "B queued on server 1");

        var a = RawWorker.Start(kernel, s0.Tid, ctx =>
        {
            Watchdog.Until(() => Volatile.Read(ref s0.Task->State) == (uint)TaskState.Runnable, kernel, "server 0 asleep in Wait");
            Volatile.Write(ref s0Wakeups, Interlocked.Read(ref s0.Wakeups));

            // A names B, a worker of the other server, and leaves (RawWorker unregisters it): the kernel half
            // must not run B for server 0 (Wait answers EINVAL for such a next_tid); it wakes server 0 instead.
            Volatile.Write(ref ctx.Task->NextTid, (uint)bTid);
        }, errors, "A");
        Watchdog.Join(kernel, a);
        s0.AssertWokenWithSlotCleared(kernel, Volatile.Read(ref s0Wakeups), "server 0 woken by A's unregister");
        Assert.Equal(TaskState.Runnable, StateWord.StateOf(kernel.BlockOf(bTid)));
        Volatile.Write(ref release, 1);
        Watchdog.Join(kernel, c, b);
        Assert.Empty(errors);
        Assert.Empty(violations);
        Assert.Equal(2, kernel.TaskCount);
    }
}
