namespace Umcg.Tests.Scheduling;

/// <summary>Helpers for scheduler tests: a scheduler on a fresh kernel half, and watchdog waits on handles.</summary>
internal static class SchedulerFixture
{
    /// <summary>Options with no detector, for tests whose worker must keep its server while it spins (see <see cref="BusyWorker"/>).</summary>
    public static readonly UmcgSchedulerOptions Undetected = new() { Detection = DetectionOptions.Off };

    public static UmcgScheduler Create(string parker = "futex", int servers = 1, UmcgSchedulerOptions? options = null) =>
        new((options ?? new UmcgSchedulerOptions()) with { Servers = servers, Kernel = Parkers.NewKernel(parker) });

    /// <summary>Spawns a body that counts its run in <paramref name="runs"/>[<paramref name="round"/>], waits for it, and returns the TID it ran on.</summary>
    public static int RunCountedBody(UmcgScheduler scheduler, int[] runs, int round)
    {
        var h = scheduler.Spawn(() =>
        {
            Interlocked.Increment(ref runs[round]);
            return Worker.Current!.Tid;
        });
        WaitAll(scheduler, h);
        return h.Join();
    }

    /// <summary>
    /// Waits for <paramref name="handles"/> (whatever their outcome) under the watchdog, which counts from the
    /// scheduler's last visible step (a spawn, a completion, a block, a yield, a switch).
    /// </summary>
    public static void WaitAll(UmcgScheduler scheduler, params WorkerHandle[] handles)
    {
        var all = Task.WhenAll(handles.Select(h => h.Completion));
        var stats = scheduler.Stats;
        Watchdog.WaitWhileProgressing(
            scheduler.Kernel,
            all,
            () => stats.Spawned + stats.Completed + stats.Blocks + stats.Yields + stats.DirectSwitches + stats.SuccessorSwitches,
            () => $"bodies did not finish ({handles.Count(h => !h.IsCompleted)} of {handles.Length} pending); faults: {string.Join(Environment.NewLine, scheduler.Faults)}{Environment.NewLine}Scheduler:{Environment.NewLine}{scheduler.DescribeForTests()}");
    }

    /// <summary>
    /// Spawns a worker that runs safepoints, marks it blocked while it runs (as a detector would, on its behalf),
    /// and waits until it has finished; returns its tid. Its last safepoint takes the unblock path if the loop's
    /// did not already.
    /// </summary>
    public static int RunWorkerMarkedBlocked(UmcgScheduler scheduler)
    {
        int marked = 0;
        int tid = 0;
        var h = scheduler.Spawn(() =>
        {
            Volatile.Write(ref tid, Worker.Current!.Tid);
            while (Volatile.Read(ref marked) == 0)
            {
                Worker.Safepoint();
            }

            Worker.Safepoint();
        });
        Watchdog.Until(() => Volatile.Read(ref tid) != 0, scheduler.Kernel, "worker running");
        Assert.Equal(Errno.Ok, scheduler.Kernel.MarkBlocked(tid));
        Volatile.Write(ref marked, 1);
        WaitAll(scheduler, h);
        return tid;
    }

    /// <summary>
    /// On a one-server scheduler: spawns a CPU-bound worker (<paramref name="cpuBound"/>) that calls safepoints until
    /// a second body (<paramref name="other"/>) has run, then that body, and waits for both. The only server is
    /// held until the second body runs, so only a preemption at a safepoint lets this finish (a stall fails under
    /// the watchdog). Returns the CPU-bound worker's tid.
    /// </summary>
    public static int RunCpuBoundUntilPreempted(UmcgScheduler scheduler, WorkerOptions? cpuBound = null, WorkerOptions? other = null)
    {
        int otherRan = 0;
        int tid = 0;
        var spinner = scheduler.Spawn(
            () =>
            {
                Volatile.Write(ref tid, Worker.Current!.Tid);
                while (Volatile.Read(ref otherRan) == 0)
                {
                    Worker.Safepoint();
                }
            },
            cpuBound);
        Watchdog.Until(() => Volatile.Read(ref tid) != 0, scheduler.Kernel, "the CPU-bound worker runs");
        var second = scheduler.Spawn(() => Volatile.Write(ref otherRan, 1), other);
        WaitAll(scheduler, spinner, second);
        spinner.Join();
        second.Join();
        return tid;
    }

    /// <summary>
    /// On a one-server scheduler without a detector: a busy worker at priority 10 holds the server (no safepoint)
    /// while five bodies at priority 1 and then one at 5 are spawned; once all six wait (<paramref name="beforeRelease"/>
    /// runs then), the busy worker ends. Returns the order the six ran in.
    /// </summary>
    public static IReadOnlyList<string> RunFiveLowOneHighBehindABusyWorker(UmcgScheduler scheduler, Action? beforeRelease = null)
    {
        var order = new ConcurrentQueue<string>();
        var gate = BusyWorker.Occupy(scheduler, new WorkerOptions { Priority = 10 });
        // One at a time: each body starts on a new thread, and threads queue in the order they register, not the
        // order of the Spawn calls; FIFO within a level is the order of queueing.
        var low = Enumerable.Range(0, 5)
            .Select(i =>
            {
                var h = scheduler.Spawn(() => order.Enqueue($"low{i}"), new WorkerOptions { Priority = 1 });
                Watchdog.Until(() => scheduler.QueuedForTests(0) == i + 1, scheduler.Kernel, $"low{i} waiting");
                return h;
            })
            .ToArray();
        var high = scheduler.Spawn(() => order.Enqueue("high"), new WorkerOptions { Priority = 5 });
        Watchdog.Until(() => scheduler.QueuedForTests(0) == 6, scheduler.Kernel, "all bodies waiting");
        beforeRelease?.Invoke();
        gate.Release();
        WaitAll(scheduler, [high, .. low]);
        return [.. order];
    }

    public static void Shutdown(UmcgScheduler scheduler)
    {
        Watchdog.Wait(scheduler.Kernel, scheduler.ShutdownAsync(), $"scheduler shutdown; faults: {string.Join(Environment.NewLine, scheduler.Faults)}");
        Assert.Empty(scheduler.Faults);
    }
}
