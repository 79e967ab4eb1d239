using System.Diagnostics.Tracing;
using Umcg.Tests.Detection;

namespace Umcg.Tests.Scheduling;

/// <summary>
/// What a worker thread keeps for its whole life beyond what a plain thread keeps (docs/benchmarks-workloads.md,
/// "scale"): objects left behind by its start-up.
/// </summary>
public sealed class WorkerFootprintTests
{
    private const int Threads = 16;

    [Fact]
    public void A_worker_thread_registered_with_the_detector_rents_nothing_from_the_shared_array_pool()
    {
        // A rent on a thread leaves the pool's per-thread cache (and the array returned to it) on that thread for
        // as long as it lives: one of each per worker thread.
        var (scheduler, detector) = DetectionFixture.CreateWithDetector(BlockingDetection.Monitor, servers: 2);
        Assert.True(detector.ActiveMode.HasFlag(BlockingDetection.Monitor), string.Join(" ", detector.Diagnostics));
        using var gate = new ManualResetEventSlim(false);
        using var rents = new ArrayPoolRents(scheduler);
        var workers = new Probe(Threads);
        var handles = new List<WorkerHandle>();
        try
        {
            // All alive at once: each on a new thread, registered with the kernel half and the detector.
            for (int i = 0; i < Threads; i++)
            {
                int slot = i;
                handles.Add(scheduler.Spawn(() => CheckInAndWait(workers, slot, gate)));
            }

            workers.WaitAllCheckedIn(scheduler.Kernel);
        }
        finally
        {
            gate.Set();
            SchedulerFixture.WaitAll(scheduler, [.. handles]);
            SchedulerFixture.Shutdown(scheduler);
        }

        Assert.Equal(0L, scheduler.Stats.ReusedThreads);
        Assert.Equal(0, rents.OnWorkerThreads);
    }

    private static void CheckInAndWait(Probe probe, int slot, ManualResetEventSlim gate)
    {
        probe.CheckIn(slot);
        using (Worker.Blocking())
        {
            gate.Wait();
        }
    }

    /// <summary>Threads that checked in: their TIDs.</summary>
    private sealed class Probe(int count)
    {
        private readonly int[] _tids = new int[count];
        private int _checkedIn;

        public void CheckIn(int slot)
        {
            _tids[slot] = UmcgKernel.CurrentTid;
            Interlocked.Increment(ref _checkedIn);
        }

        public void WaitAllCheckedIn(UmcgKernel kernel) =>
            Watchdog.Until(() => Volatile.Read(ref _checkedIn) == _tids.Length, kernel, "every thread checked in");
    }

    /// <summary>Counts rents from the shared array pools made on worker threads of one scheduler.</summary>
    private sealed class ArrayPoolRents : EventListener
    {
        private readonly UmcgScheduler _scheduler;
        private int _onWorkerThreads;

        public ArrayPoolRents(UmcgScheduler scheduler) => _scheduler = scheduler;

        public int OnWorkerThreads => Volatile.Read(ref _onWorkerThreads);

        protected override void OnEventSourceCreated(EventSource eventSource)
        {
            if (eventSource.Name == "System.Buffers.ArrayPoolEventSource")
            {
                EnableEvents(eventSource, EventLevel.Verbose);
            }
        }

        // Raised on the renting thread itself.
        protected override void OnEventWritten(EventWrittenEventArgs eventData)
        {
            if (eventData.EventName == "BufferRented" && WorkerThread.Current is { } worker && ReferenceEquals(worker.Scheduler, _scheduler))
            {
                Interlocked.Increment(ref _onWorkerThreads);
            }
        }
    }
}
