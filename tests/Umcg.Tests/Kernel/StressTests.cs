using Umcg.Cli.Measurement;
using Umcg.Kernel.Native;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Umcg.Tests.Kernel;

/// <summary>The stress tests run alone: they want every CPU, and timing noise from other tests only slows them.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class StressCollection
{
    public const string Name = "kernel stress";
}

/// <summary>
/// Several servers, each with many workers, doing a seeded random mix of compute, real blocking (nanosleep in a
/// blocking region), yields, direct switches and safepoints while a preempter thread sets TF_PREEMPT and kicks.
/// Invariants are checked all the time, by every worker each time it starts running user code; a stall fails
/// with a dump of every task. Set UMCG_STRESS_SEED to replay a seed.
/// </summary>
[Collection(StressCollection.Name)]
public sealed unsafe class StressTests(ITestOutputHelper output)
{
    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Two_servers_with_fifty_workers_each_keep_every_invariant_under_a_random_mix(string parker) =>
        Run(output, parker, servers: 2, workersPerServer: 50, iterations: 300, waitSlice: null, leaveTogether: true);

    [Theory]
    [Trait("Category", "Stress")]
    [MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]
    public void Server_wait_timeouts_racing_wakes_keep_every_invariant(string parker) =>
        Run(output, parker, servers: 2, workersPerServer: 24, iterations: 400, waitSlice: TimeSpan.FromMilliseconds(0.2), leaveTogether: true);

    /// <summary>
    /// One stress run. With <paramref name="leaveTogether"/> a worker that finished its mix keeps yielding until
    /// every worker of its server has, so that workers leave one after the other through the server, not right
    /// after a switch.
    /// </summary>
    internal static void Run(ITestOutputHelper output, string parker, int servers, int workersPerServer, int iterations, TimeSpan? waitSlice, bool leaveTogether)
    {
        string? fixedSeed = Environment.GetEnvironmentVariable("UMCG_STRESS_SEED");
        int seed = fixedSeed is null ? Random.Shared.Next() : int.Parse(fixedSeed, CultureInfo.InvariantCulture);
        output.WriteLine($"seed {seed} (replay with UMCG_STRESS_SEED={seed})");
        try
        {
            var stopwatch = Stopwatch.StartNew();
            var stats = RunCore(parker, seed, servers, workersPerServer, iterations, waitSlice, leaveTogether);
            output.WriteLine($"{stats} in {stopwatch.Elapsed.TotalSeconds:F1} s");
        }
        catch (Exception e)
        {
            throw new XunitException($"stress run failed (seed {seed}; replay with UMCG_STRESS_SEED={seed}): {e.Message}", e);
        }
    }

    private static string RunCore(string parker, int seed, int serverCount, int workersPerServer, int iterations, TimeSpan? waitSlice, bool leaveTogether)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        var violations = new ConcurrentQueue<string>();
        int[] cpus = LinuxSyscalls.GetAffinity(0);
        var servers = new RunQueueServer[serverCount];
        try
        {
            for (int s = 0; s < serverCount; s++)
            {
                int? cpu = cpus.Length >= 2 ? cpus[s % cpus.Length] : null;
                servers[s] = new RunQueueServer(kernel, cpu: cpu, name: $"server {s}", waitSlice: waitSlice);
            }

            var checks = servers.Select(s => new RunningCheck(s.Task, s.Tid, violations)).ToArray();
            int total = serverCount * workersPerServer;
            var completed = new int[total];
            var finishedMix = new int[serverCount];
            var done = new int[total];
            var tids = new int[total];
            var blocks = new nint[total];
            var alive = new bool[total];
            var locks = Enumerable.Range(0, total).Select(_ => new object()).ToArray();
            long switches = 0, blockings = 0, yields = 0, safepoints = 0, preemptionsSeen = 0, preemptionsAwaited = 0, preemptRequests = 0;
            int finished = 0;

            var threads = new Thread[total];
            for (int k = 0; k < total; k++)
            {
                int worker = k;
                int s = k % serverCount;
                threads[k] = RawWorker.Start(kernel, servers[s].Tid, ctx =>
                {
                    var server = servers[s];
                    var check = checks[s];
                    var random = new Random(HashCode.Combine(seed, worker));
                    ushort userBits = (ushort)(worker + 1);
                    StateWord.SetUserBits(ctx.Task, userBits);
                    lock (locks[worker])
                    {
                        tids[worker] = ctx.Tid;
                        blocks[worker] = (nint)ctx.Task;
                        alive[worker] = true;
                    }

                    try
                    {
                        Enter();
                        for (int i = 0; i < iterations; i++)
                        {
                            int op = random.Next(100);
                            if (op < 15)
                            {
                                Compute(random.Next(0, 2_000));
                            }
                            else if (op < 35)
                            {
                                long ns = random.Next(0, 100_001);
                                check.Leave(ctx);
                                ctx.Blocking(() => LinuxSyscalls.Nanosleep(ns));
                                Enter();
                                Interlocked.Increment(ref blockings);
                            }
                            else if (op < 55)
                            {
                                check.Leave(ctx);
                                ctx.Yield();
                                Enter();
                                Interlocked.Increment(ref yields);
                            }
                            else if (op < 75)
                            {
                                // The RFC's rule for next_tid: take the target off the run queue before waking it.
                                if (server.TryClaimAny(random, out int target))
                                {
                                    check.Leave(ctx);
                                    ctx.SwitchTo(target);
                                    Enter();
                                    Interlocked.Increment(ref switches);
                                }
                                else
                                {
                                    Compute(100);
                                }
                            }
                            else if (op < 97)
                            {
                                int rounds = random.Next(1, 30);
                                for (int r = 0; r < rounds; r++)
                                {
                                    Compute(random.Next(0, 200));
                                    if (Safepoint())
                                    {
                                        Interlocked.Increment(ref preemptionsSeen);
                                    }
                                }
                            }
                            else
                            {
                                // Spin at safepoints until the preempter gets us: a preemption that must happen.
                                Interlocked.Increment(ref preemptionsAwaited);
                                while (!Safepoint())
                                {
                                    Compute(50);
                                }

                                Interlocked.Increment(ref preemptionsSeen);
                            }

                            Interlocked.Increment(ref done[worker]);
                        }

                        Interlocked.Increment(ref finishedMix[s]);
                        while (leaveTogether && Volatile.Read(ref finishedMix[s]) < workersPerServer)
                        {
                            check.Leave(ctx);
                            ctx.Yield();
                            Enter();
                        }
                    }
                    finally
                    {
                        // Also when the body fails: the preempter reads a block only while its worker is alive, and a failed
                        // worker's block is freed as its thread ends.
                        lock (locks[worker])
                        {
                            alive[worker] = false;
                        }
                    }

                    Interlocked.Increment(ref completed[worker]);
                    Interlocked.Increment(ref finished);
                    check.Leave(ctx);

                    void Enter()
                    {
                        check.Enter(ctx);
                        uint user = Volatile.Read(ref ctx.Task->State) >> 16;
                        if (user != userBits)
                        {
                            violations.Enqueue($"worker {ctx.Tid}: user bits 0x{user:x4}, expected 0x{userBits:x4}");
                        }

                        if (server.Cpu >= 0 && (LinuxSyscalls.GetAffinity(0) is not [int only] || only != server.Cpu))
                        {
                            violations.Enqueue($"worker {ctx.Tid} is not confined to its server's CPU {server.Cpu}");
                        }
                    }

                    // A safepoint; true if it parked us (TF_PREEMPT): runnable_ts moves only when we go RUNNABLE.
                    bool Safepoint()
                    {
                        ulong before = Volatile.Read(ref ctx.Task->RunnableTs);
                        check.Leave(ctx);
                        ctx.Safepoint();
                        Enter();
                        Interlocked.Increment(ref safepoints);
                        return Volatile.Read(ref ctx.Task->RunnableTs) != before;
                    }
                }, errors, $"worker {k} of server {s}");
            }

            var preempter = TestThread.Start("preempter", () =>
            {
                var random = new Random(seed);
                while (Volatile.Read(ref finished) < total)
                {
                    int k = random.Next(total);
                    lock (locks[k])
                    {
                        if (alive[k] && StateWord.RequestPreempt((UmcgTask*)blocks[k]))
                        {
                            Interlocked.Increment(ref preemptRequests);
                            var r = kernel.Kick(0, tids[k]);
                            if (r != Errno.Ok)
                            {
                                violations.Enqueue($"kick of live worker {tids[k]}: {r}");
                            }
                        }
                    }

                    // Pacing so that the preempter does not take a whole CPU; not synchronisation.
                    if (k % 8 == 0)
                    {
                        LinuxSyscalls.Nanosleep(20_000);
                    }
                }
            }, errors);

            string Describe() => string.Join(Environment.NewLine, servers.Select(s => s.Describe()));

            // Thousands of switches: on a loaded machine (and with the monitor parker) the run is slow, not stuck.
            // The watchdog counts from the last worker a server started, so only a real stall fails it.
            long Progress() => servers.Sum(s => (long)s.Started.Count);
            Watchdog.JoinWhileProgressing(kernel, Progress, Describe, threads);
            Watchdog.JoinWhileProgressing(kernel, Progress, Describe, preempter);

            Assert.True(errors.IsEmpty, $"{errors.Count} worker failure(s); first: {errors.FirstOrDefault()}");
            Assert.True(violations.IsEmpty, $"{violations.Count} violation(s); first ones:{Environment.NewLine}{string.Join(Environment.NewLine, violations.Take(10))}");
            Assert.All(completed, n => Assert.Equal(1, n));
            Assert.All(done, n => Assert.Equal(iterations, n));
            Assert.True(Interlocked.Read(ref preemptionsSeen) >= Interlocked.Read(ref preemptionsAwaited));
            Assert.Equal(serverCount, kernel.TaskCount);
            foreach (var server in servers)
            {
                Assert.Empty(server.Queued());
            }

            long timeouts = servers.Sum(s => Interlocked.Read(ref s.Timeouts));
            if (waitSlice is null)
            {
                Assert.Equal(0, timeouts);
            }

            return string.Create(
                CultureInfo.InvariantCulture,
                $"{total} workers on {serverCount} servers ({kernel.Parker.Name}): {total * iterations} ops, {switches} switches, {blockings} blocking regions, {yields} yields, {safepoints} safepoints, {preemptRequests} preempt requests, {preemptionsSeen} preemptions ({preemptionsAwaited} awaited), {checks.Sum(c => c.Entries)} runs, {timeouts} server timeouts");
        }
        finally
        {
            foreach (var server in servers)
            {
                server?.Dispose();
            }
        }
    }

    /// <summary>User code between protocol steps: the workloads' own unit of CPU work.</summary>
    private static void Compute(int rounds) => Spin.Run(rounds);
}
