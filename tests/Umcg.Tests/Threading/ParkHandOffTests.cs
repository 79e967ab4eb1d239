namespace Umcg.Tests.Threading;

/// <summary>
/// A worker that parks takes the next worker out of its server's run queue to switch to it directly. If at
/// that moment it is not RUNNING — a preemption is pending, or a detector marked it BLOCKED — the safepoint
/// that settles that queues it on its server as a parking worker, and the server holds it aside until the park
/// ends: the worker it took must go back to the run queue, or nobody would ever run it.
/// </summary>
[Collection(ThreadingStress.Name)]
public sealed unsafe class ParkHandOffTests
{
    [Fact]
    public void A_worker_marked_blocked_before_it_parks_gives_its_switch_target_back()
    {
        // One server, three workers: a parker and two helpers. Once the parker has marked itself blocked,
        // whichever helper the server runs first holds the server (no safepoint) until the parker is held
        // aside as parked; the other stays in the run queue, becomes the parker's switch target, and releases
        // the permit the parker waits for when it finally runs.
        // Arrivals wake the server: the holder waits, without a safepoint, for the server to see the parker arrive
        // and hold it aside, and a quiet arrival would be seen only once the running worker (the holder) stops.
        var scheduler = SchedulerFixture.Create(servers: 1, options: new UmcgSchedulerOptions { Detection = DetectionOptions.Off, QuietArrivals = false });
        var permit = new UmcgSemaphore(0);
        WorkerThread? parkerThread = null;
        int helpersQueued = 0;
        int marked = 0;
        int roles = 0;
        bool released = false;

        var parker = scheduler.Spawn(() =>
        {
            Volatile.Write(ref parkerThread, Worker.Current);

            // Each helper has run once and queued itself behind us; only we run on this server meanwhile.
            while (Volatile.Read(ref helpersQueued) < 2)
            {
                Worker.Yield();
            }

            // What a detector does when it sees a worker asleep, made here by the worker itself so that it
            // lands exactly before the park: the server runs one helper, the other stays queued.
            Volatile.Write(ref marked, 1);
            Assert.Equal(Errno.Ok, scheduler.Kernel.MarkBlocked(Worker.Current!.Tid));

            // Still BLOCKED, the park takes the queued helper as its switch target, then meets its own state.
            permit.Wait();
            return Volatile.Read(ref released);
        });

        var helpers = Enumerable.Range(0, 2).Select(_ => scheduler.Spawn(() =>
        {
            Interlocked.Increment(ref helpersQueued);
            while (Volatile.Read(ref marked) == 0)
            {
                Worker.Yield();
            }

            if (Interlocked.Increment(ref roles) == 1)
            {
                // The holder: keep the server, with no safepoint, until the parker is held aside as parked.
                var spinner = new SpinWait();
                while (WorkerThread.StateOf(Volatile.Read(ref parkerThread)!.ParkWord) != WorkerThread.ParkState.Parked)
                {
                    spinner.SpinOnce(sleep1Threshold: -1);
                }
            }
            else
            {
                // The switch target: runs only if the park gave it back to the run queue.
                Volatile.Write(ref released, true);
                permit.Release();
            }
        })).ToArray();

        SchedulerFixture.WaitAll(scheduler, [parker, .. helpers]);
        Assert.True(parker.Join());
        Assert.Empty(scheduler.Faults);
        SchedulerFixture.Shutdown(scheduler);
    }

    [Fact]
    public void Workers_marked_blocked_on_a_contended_lock_then_parking_strand_nobody()
    {
        // A hundred workers on two servers hammer one C# lock, which the monitor detector sees them sleep
        // on: a marked worker runs on BLOCKED to the end of its round and parks on the start semaphore,
        // taking a switch target as it goes. Every round must finish.
        const int Workers = 100;
        const int Rounds = 30;
        const int PerWorker = 200;
        var scheduler = SchedulerFixture.Create(servers: 2, options: new UmcgSchedulerOptions
        {
            Detection = new DetectionOptions { Mode = BlockingDetection.Monitor },
        });
        var start = new UmcgSemaphore(0);
        var shared = new object();
        long counter = 0;
        int pending = 0;
        bool stopping = false;
        using var done = new ManualResetEventSlim();

        var handles = Enumerable.Range(0, Workers).Select(_ => scheduler.Spawn(() =>
        {
            while (true)
            {
                start.Wait();
                if (Volatile.Read(ref stopping))
                {
                    return;
                }

                for (int i = 0; i < PerWorker; i++)
                {
                    lock (shared)
                    {
                        counter++;
                    }
                }

                if (Interlocked.Decrement(ref pending) == 0)
                {
                    done.Set();
                }
            }
        })).ToArray();

        for (int round = 0; round < Rounds; round++)
        {
            done.Reset();
            Volatile.Write(ref pending, Workers);
            start.Release(Workers);
            if (!done.Wait(Watchdog.Limit))
            {
                Watchdog.Fail(scheduler.Kernel, $"round {round}: {Volatile.Read(ref pending)} of {Workers} workers did not finish it; marks: {scheduler.Detector?.Stats.Marked}");
            }
        }

        Volatile.Write(ref stopping, true);
        start.Release(Workers);
        SchedulerFixture.WaitAll(scheduler, handles);
        Assert.Equal((long)Workers * PerWorker * Rounds, counter);
        Assert.Empty(scheduler.Faults);
        SchedulerFixture.Shutdown(scheduler);
    }
}
