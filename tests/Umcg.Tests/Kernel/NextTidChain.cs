namespace Umcg.Tests.Kernel;

/// <summary>
/// Ten workers of one server pass the CPU round and round by next_tid for fifty laps, never through the
/// server: each lap runs in order, with the server asleep in its Wait and its slot naming the worker that
/// runs. Then the chain ends, either by next_tid as well (each worker unregisters naming its successor, and
/// only the last one wakes the server) or through the server (each worker's thread ends and unregisters).
/// </summary>
internal static unsafe class NextTidChain
{
    private const int Workers = 10;
    private const int Laps = 50;
    private const uint TidRunning = UmcgConstants.TidRunning;

    public static void Run(string parker, bool leaveByNextTid)
    {
        var kernel = Parkers.NewKernel(parker);
        var errors = new ConcurrentQueue<Exception>();
        var violations = new ConcurrentQueue<string>();
        using var server = new RunQueueServer(kernel);
        var tids = new int[Workers];
        var order = new ConcurrentQueue<int>();
        var left = new ConcurrentQueue<int>();
        int ready = 0, turn = -1, chainStarted = 0, startsAtChainStart = -1, startsAtChainEnd = -1;
        long wakeupsAtChainStart = -1;

        var threads = new Thread[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int i = w;
            threads[i] = RawWorker.Start(kernel, server.Tid, ctx =>
            {
                Volatile.Write(ref tids[i], ctx.Tid);
                Interlocked.Increment(ref ready);
                for (int lap = 0; lap < Laps; lap++)
                {
                    // Until the chain starts every worker yields through the server. Once W0 has started it, only
                    // the predecessor's switch may run a worker: the server is never woken.
                    while (Volatile.Read(ref turn) != i)
                    {
                        if (Volatile.Read(ref chainStarted) == 1)
                        {
                            violations.Enqueue($"W{i} ran out of turn (turn {Volatile.Read(ref turn)}, lap {lap})");
                        }

                        ctx.Yield();
                    }

                    if (i == 0 && lap == 0)
                    {
                        Volatile.Write(ref startsAtChainStart, server.Started.Count);
                        Volatile.Write(ref wakeupsAtChainStart, Interlocked.Read(ref server.Wakeups));
                        Volatile.Write(ref chainStarted, 1);
                    }

                    CheckRunsWithoutTheServer(ctx, $"W{i} lap {lap}");
                    order.Enqueue(i);
                    if (i == Workers - 1 && lap == Laps - 1)
                    {
                        Volatile.Write(ref startsAtChainEnd, server.Started.Count);
                        Volatile.Write(ref turn, -2);
                        break;
                    }

                    int next = Volatile.Read(ref tids[(i + 1) % Workers]);
                    Volatile.Write(ref turn, (i + 1) % Workers);

                    // The RFC's rule for next_tid: take the target off the run queue before waking it.
                    Watchdog.Until(() => server.TryClaim(next), kernel, $"W{(i + 1) % Workers} queued");
                    ctx.SwitchTo(next);
                }

                if (!leaveByNextTid)
                {
                    return; // the thread ends: its unregister hands the CPU back to the server
                }

                // The chain ends the way it ran: each worker leaves by unregistering with next_tid naming its
                // successor (W9 → W0 → ... → W8), and only the last one, W8, hands the CPU back to the server.
                CheckRunsWithoutTheServer(ctx, $"W{i} leaving");
                left.Enqueue(i);
                if (i != Workers - 2)
                {
                    int next = Volatile.Read(ref tids[(i + 1) % Workers]);
                    Watchdog.Until(() => server.TryClaim(next), kernel, $"W{(i + 1) % Workers} queued");
                    Volatile.Write(ref ctx.Task->NextTid, (uint)next);
                }
            }, errors, $"W{i}");
        }

        Watchdog.Until(() => Volatile.Read(ref ready) == Workers, kernel, "all workers registered");
        Volatile.Write(ref turn, 0);
        Watchdog.Join(kernel, threads);

        Assert.Empty(errors);
        Assert.Empty(violations);
        int[] expected = [.. Enumerable.Range(0, Laps).SelectMany(_ => Enumerable.Range(0, Workers))];
        Assert.Equal(expected, order);

        // The server started every worker once before the chain (and more, while they yielded), none during it.
        Assert.True(startsAtChainStart >= Workers, $"the server started {startsAtChainStart} workers before the chain");
        Assert.Equal(startsAtChainStart, startsAtChainEnd);
        if (leaveByNextTid)
        {
            // None while leaving either; it was woken again only by the last worker's unregister.
            Assert.Equal([9, 0, 1, 2, 3, 4, 5, 6, 7, 8], left);
            Assert.Equal(startsAtChainStart, server.Started.Count);
            server.AssertWokenWithSlotCleared(kernel, Volatile.Read(ref wakeupsAtChainStart), "server woken by the last unregister");
            Assert.Equal(1, kernel.TaskCount);
        }

        void CheckRunsWithoutTheServer(RawWorkerContext ctx, string where)
        {
            uint slot = Volatile.Read(ref server.Task->NextTid);
            if (slot != ((uint)ctx.Tid | TidRunning))
            {
                violations.Enqueue($"{where}: server next_tid 0x{slot:x8}, expected {ctx.Tid}|TID_RUNNING");
            }

            if (StateWord.StateOf(server.Task) != TaskState.Runnable || StateWord.FlagsOf(server.Task) != TaskFlags.None)
            {
                violations.Enqueue($"{where}: server is {StateWord.StateOf(server.Task)} {StateWord.FlagsOf(server.Task)}, not asleep in Wait");
            }
        }
    }
}
