using System.Diagnostics.Tracing;
using System.Runtime.CompilerServices;
using Umcg.Tests.Detection;

namespace Umcg.Tests.Scheduling;

/// <summary>
/// What a worker thread keeps for its whole life beyond what a plain thread keeps (docs/benchmarks-workloads.md,
/// "scale"): stack pages its own path touched, and objects left behind by its start-up.
/// </summary>
public sealed class WorkerFootprintTests
{
    private const int Threads = 16;
    private const long FutexSyscall = 202;

    [Fact]
    public void A_worker_waiting_in_its_body_has_touched_no_more_stack_pages_than_a_plain_thread()
    {
        // The same body on both: note where its frame is, check in, wait on a monitor. The deepest path is that
        // wait's runtime frames on top of the frames under the body. Each thread waits on its own event: one event
        // shared by all makes them contend for its monitor, whose contended enter reaches about 0.9 KB deeper in
        // whichever threads meet it (more often workers, which a blocking region starts one right after another).
        var gates = Enumerable.Range(0, 2 * Threads).Select(_ => new ManualResetEventSlim(false)).ToArray();
        var plain = new Probe(Threads);
        var workers = new Probe(Threads);
        var scheduler = SchedulerFixture.Create(servers: 2);
        var threads = new List<Thread>();
        var handles = new List<WorkerHandle>();
        try
        {
            for (int i = 0; i < Threads; i++)
            {
                int slot = i;
                var thread = new Thread(() => CheckInAndWait(plain, slot, gates[slot], blocking: false)) { IsBackground = true };
                thread.Start();
                threads.Add(thread);
                handles.Add(scheduler.Spawn(() => CheckInAndWait(workers, slot, gates[Threads + slot], blocking: true)));
            }

            plain.WaitAllAsleep(scheduler.Kernel);
            workers.WaitAllAsleep(scheduler.Kernel);
            int plainPages = plain.MedianStackPages();
            int workerPages = workers.MedianStackPages();

            Assert.True(workerPages <= plainPages, $"a worker thread touched {workerPages} stack pages (median), a plain thread {plainPages}");
        }
        finally
        {
            foreach (var gate in gates)
            {
                gate.Set();
            }

            Watchdog.Join(scheduler.Kernel, [.. threads]);
            SchedulerFixture.WaitAll(scheduler, [.. handles]);
            SchedulerFixture.Shutdown(scheduler);
            foreach (var gate in gates)
            {
                gate.Dispose();
            }
        }
    }

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
                handles.Add(scheduler.Spawn(() => CheckInAndWait(workers, slot, gate, blocking: true)));
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

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe void CheckInAndWait(Probe probe, int slot, ManualResetEventSlim gate, bool blocking)
    {
        int frame = 0;
        probe.CheckIn(slot, (nint)(&frame));
        if (blocking)
        {
            using (Worker.Blocking())
            {
                gate.Wait();
            }
        }
        else
        {
            gate.Wait();
        }
    }

    /// <summary>Threads that checked in: their TIDs and an address in each one's stack.</summary>
    private sealed class Probe(int count)
    {
        private readonly int[] _tids = new int[count];
        private readonly nint[] _frames = new nint[count];
        private int _checkedIn;

        public void CheckIn(int slot, nint frame)
        {
            _frames[slot] = frame;
            _tids[slot] = UmcgKernel.CurrentTid;
            Interlocked.Increment(ref _checkedIn);
        }

        public void WaitAllCheckedIn(UmcgKernel kernel) =>
            Watchdog.Until(() => Volatile.Read(ref _checkedIn) == _tids.Length, kernel, "every thread checked in");

        /// <summary>Until every thread sleeps in a futex: inside the monitor wait, its deepest path taken.</summary>
        public void WaitAllAsleep(UmcgKernel kernel)
        {
            WaitAllCheckedIn(kernel);
            foreach (int tid in _tids)
            {
                Watchdog.Until(() => ProcTask.CurrentSyscall(tid) == FutexSyscall, kernel, $"thread {tid} asleep in its wait");
            }
        }

        /// <summary>The median count of resident pages of the threads' stacks (the median: the first threads also ran the JIT).</summary>
        public int MedianStackPages()
        {
            var pages = _frames.Select(StackPages).Order().ToArray();
            return pages[pages.Length / 2];
        }

        /// <summary>The resident pages ("Rss" in /proc/self/smaps) of the mapping that holds <paramref name="address"/>.</summary>
        private static int StackPages(nint address)
        {
            bool inside = false;
            foreach (string line in File.ReadLines("/proc/self/smaps"))
            {
                int dash = line.IndexOf('-', StringComparison.Ordinal);
                int space = line.IndexOf(' ', StringComparison.Ordinal);
                if (dash > 0 && space > dash
                    && ulong.TryParse(line.AsSpan(0, dash), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong start)
                    && ulong.TryParse(line.AsSpan(dash + 1, space - dash - 1), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out ulong end))
                {
                    inside = start <= (ulong)address && (ulong)address < end;
                }
                else if (inside && line.StartsWith("Rss:", StringComparison.Ordinal))
                {
                    return int.Parse(line.AsSpan(4).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) / 4;
                }
            }

            throw new InvalidOperationException($"No mapping in /proc/self/smaps holds {address:x}.");
        }
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
