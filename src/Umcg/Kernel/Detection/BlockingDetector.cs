using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Umcg.Kernel.Parking;
using Umcg.Kernel.Native;

namespace Umcg.Kernel.Detection;

/// <summary>
/// Notices workers that block without saying so — a plain <see cref="Thread.Sleep(int)"/>, <c>lock</c>
/// contention, a synchronous read, a page fault — and blocks them on their behalf with
/// <see cref="UmcgKernel.MarkBlocked"/>, so that their server runs another worker: the emulation of the
/// hook a UMCG kernel has in <c>schedule()</c>. A marked worker takes the unblock path at its next safepoint.
/// </summary>
/// <remarks>
/// <para>One thread per detector polls only the workers that are RUNNING (the ones the servers' slots name),
/// so its cost does not grow with the number of workers. See docs/detection.md.</para>
/// <para>Threads to watch are registered by whoever owns them (the scheduler registers its servers once and
/// each worker thread when it starts and leaves).</para>
/// </remarks>
public sealed unsafe partial class BlockingDetector : IDisposable
{
    private const long TimerSlackNs = 5_000;

    private readonly UmcgKernel _kernel;
    private readonly DetectionOptions _options;
    private readonly ConcurrentDictionary<int, WatchedWorker> _workers = new();
    private readonly ConcurrentQueue<WatchedWorker> _retired = new();
    private readonly ConcurrentQueue<string> _diagnostics = new();
    private readonly Lock _lifecycle = new();
    private readonly long _thresholdNs;

    /// <summary>
    /// Told (on the detector's thread) the TID of a worker the detector marked blocked that has since run on, unmanaged,
    /// for a threshold's worth of CPU without reaching a safepoint: it competes with its server's next worker for the
    /// CPU. The scheduler lowers its thread (docs/preemption.md); null: nobody is told. Must not block or throw.
    /// </summary>
    internal Action<int>? MarkedWorkerRunsOn { get; set; }
    private readonly long _activeNs;
    private readonly long _idleNs;
    private readonly long _calmNs;
    private readonly int _maxRings;
    private readonly Thread? _thread;

    // The detector thread sleeps on this word (futex) with a deadline; Wake bumps it. Native memory so that
    // its address is stable; freed under _lifecycle once the thread has ended.
    private uint* _wakeWord;
    private volatile int[] _servers = [];
    private volatile bool _stopping;
    private bool _disposed;
    private int _rings;
    private int _ringRefusalReported;

    /// <summary>
    /// Starts a detector over <paramref name="kernel"/>. What it can run is decided here, once: where the
    /// kernel refuses switch events the monitor takes over, and each refusal is said once in
    /// <see cref="Diagnostics"/> (nothing throws).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Invalid <paramref name="options"/>.</exception>
    public BlockingDetector(UmcgKernel kernel, DetectionOptions options)
    {
        ArgumentNullException.ThrowIfNull(kernel);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _kernel = kernel;
        _options = options;
        _thresholdNs = (long)options.Threshold.TotalNanoseconds;
        _activeNs = (long)options.ActiveInterval.TotalNanoseconds;
        _idleNs = (long)options.IdleInterval.TotalNanoseconds;
        _calmNs = (long)options.CalmInterval.TotalNanoseconds;

        // Never let detection eat the descriptors the application needs: a quarter of the limit for rings,
        // and kept-open /proc files (two per worker) for at most a sixteenth.
        long files = OperatingSystem.IsLinux() ? LinuxSyscalls.OpenFileLimit() : 1024;
        _maxRings = (int)Math.Max(0, files / 4);
        ProcBudget = new ProcFileBudget((int)Math.Clamp(files / 32, 0, 256));

        ActiveMode = Decide(options.Mode);
        if (ActiveMode != BlockingDetection.None)
        {
            _wakeWord = (uint*)NativeMemory.AllocZeroed(sizeof(uint));
            _thread = new Thread(Run) { IsBackground = true, Name = "umcg blocking detector" };
            _thread.UnsafeStart();
        }
    }

    /// <summary>The detectors asked for.</summary>
    public BlockingDetection RequestedMode => _options.Mode;

    /// <summary>The detectors that run: <see cref="RequestedMode"/> less what this machine refused.</summary>
    public BlockingDetection ActiveMode { get; }

    /// <summary>What the detector did so far.</summary>
    public DetectionStats Stats { get; } = new();

    /// <summary>Why a detector does not run, or covers fewer workers than asked: one message per cause.</summary>
    public IReadOnlyCollection<string> Diagnostics => _diagnostics;

    internal ProcFileBudget ProcBudget { get; }

    private bool UsesMonitor => (ActiveMode & BlockingDetection.Monitor) != 0;

    private bool UsesSwitchEvents => (ActiveMode & BlockingDetection.SwitchEvents) != 0;

    /// <summary>Watches the workers that server <paramref name="tid"/> runs.</summary>
    public void AddServer(int tid)
    {
        lock (_lifecycle)
        {
            _servers = [.. _servers, tid];
        }
    }

    /// <summary>
    /// Watches worker thread <paramref name="tid"/>. Call it before the thread first runs for a server (on
    /// the thread itself, or any thread of the process): its switch records start here.
    /// </summary>
    /// <param name="tid">The worker thread.</param>
    /// <param name="resumedAtNs">
    /// When the worker last came back from a kernel-half call (Wait, SysExit, NotifyResume, Ctl) to run its
    /// own code, on its registered clock: the emulation's return to user space, which only the caller sees.
    /// The detector never marks a worker that has not come back since its last runnable_ts: it is still
    /// inside its UMCG wait, and between the wake that made it RUNNING and its re-reading that state it can
    /// sleep elsewhere (a garbage collection or runtime suspension at the end of its futex call); a mark
    /// there would break the wait.
    /// </param>
    public void AddWorker(int tid, Func<long> resumedAtNs)
    {
        ArgumentNullException.ThrowIfNull(resumedAtNs);
        AddWorker(tid, new ResumeStampOf(resumedAtNs));
    }

    /// <summary>As <see cref="AddWorker(int, Func{long})"/>, with the stamp read through <paramref name="resumed"/>.</summary>
    internal void AddWorker(int tid, IResumeStamp resumed)
    {
        if (ActiveMode == BlockingDetection.None)
        {
            return;
        }

        SwitchRing? ring = null;
        if (UsesSwitchEvents)
        {
            ring = OpenRing(tid);
        }

        var worker = new WatchedWorker(tid, resumed, ring, new ProcThreadFiles(tid, ProcBudget));
        lock (_lifecycle)
        {
            if (_disposed || !_workers.TryAdd(tid, worker))
            {
                ReleaseRing(worker);
                worker.Dispose();
                return;
            }

            if (_workers.Count == 1)
            {
                Wake();
            }
        }
    }

    /// <summary>Stops watching worker thread <paramref name="tid"/> (before it exits).</summary>
    public void RemoveWorker(int tid)
    {
        lock (_lifecycle)
        {
            if (!_workers.TryRemove(tid, out var worker))
            {
                return;
            }

            worker.Retired = true;
            if (_disposed)
            {
                ReleaseRing(worker);
                worker.Dispose();
            }
            else
            {
                // The detector thread may be reading its ring right now: it disposes the record itself.
                _retired.Enqueue(worker);
            }
        }
    }

    /// <summary>Stops the detector thread and releases every ring and file.</summary>
    public void Dispose()
    {
        _stopping = true;
        lock (_lifecycle)
        {
            if (_disposed)
            {
                return;
            }

            Wake();
        }

        _thread?.Join();
        lock (_lifecycle)
        {
            _disposed = true;
            foreach (var worker in _workers.Values)
            {
                ReleaseRing(worker);
                worker.Dispose();
            }

            _workers.Clear();
            DisposeRetired();
            if (_wakeWord != null)
            {
                NativeMemory.Free(_wakeWord);
                _wakeWord = null;
            }
        }
    }

    /// <summary>What can run here, with one diagnostic per thing refused.</summary>
    private BlockingDetection Decide(BlockingDetection requested)
    {
        if (requested == BlockingDetection.None)
        {
            return requested;
        }

        if (!OperatingSystem.IsLinux())
        {
            Say("Blocking detection needs Linux (/proc and perf events); it is off.");
            return BlockingDetection.None;
        }

        if (_kernel.Parker is not FutexParker)
        {
            Say($"Blocking detection needs the futex parker, to tell a worker's own UMCG wait from blocking; this kernel half parks with '{_kernel.Parker.Name}', so it is off.");
            return BlockingDetection.None;
        }

        // Every mark is confirmed on the thread's /proc syscall file; without it nothing can be marked safely.
        var self = new ProcThreadFiles(UmcgKernel.CurrentTid, new ProcFileBudget(0));
        using (self)
        {
            if (!self.TryReadSyscall(out _) || !self.TryReadSchedstat(out _, out _))
            {
                Say("Blocking detection needs /proc/self/task/TID/syscall and schedstat, which cannot be read here; it is off.");
                return BlockingDetection.None;
            }
        }

        if ((requested & BlockingDetection.SwitchEvents) == 0)
        {
            return requested;
        }

        // Try the real thing once, on the calling thread: containers with seccomp and perf_event_paranoid 3
        // refuse perf_event_open (EACCES, EPERM, ENOSYS); the memory-lock limit can refuse the mapping.
        int error = SwitchRing.TryOpen(UmcgKernel.CurrentTid, _options.RingDataPages, _options.OpenSwitchEvents, out var probe, out string call);
        probe?.Dispose();
        if (error == 0)
        {
            return requested;
        }

        Say($"Kernel switch events are unavailable: {call} failed with {LinuxSyscalls.ErrnoName(error)}; the monitor detector is used instead.");
        return (requested & ~BlockingDetection.SwitchEvents) | BlockingDetection.Monitor;
    }

    private SwitchRing? OpenRing(int tid)
    {
        int error;
        string call;
        SwitchRing? ring = null;
        if (Interlocked.Increment(ref _rings) > _maxRings)
        {
            error = LinuxSyscalls.EMFILE;
            call = "the detector's file-descriptor budget";
        }
        else
        {
            error = SwitchRing.TryOpen(tid, _options.RingDataPages, _options.OpenSwitchEvents, out ring, out call);
        }

        if (ring is not null)
        {
            return ring;
        }

        Interlocked.Decrement(ref _rings);
        Stats.CountWorkerWithoutSwitchEvents();
        if (Interlocked.Exchange(ref _ringRefusalReported, 1) == 0)
        {
            Say($"Kernel switch events could not be opened for some workers ({call}: {LinuxSyscalls.ErrnoName(error)}); the monitor watches those.");
        }

        return null;
    }

    private void ReleaseRing(WatchedWorker worker)
    {
        if (worker.Ring is not null)
        {
            Interlocked.Decrement(ref _rings);
        }
    }

    private void Say(string message)
    {
        _diagnostics.Enqueue(message);
        Trace.TraceWarning(message);
    }

    private sealed class ResumeStampOf(Func<long> read) : IResumeStamp
    {
        public long ResumedAtNs => read();
    }

    /// <summary>Wakes the detector thread early. Called under _lifecycle, which keeps the word allocated.</summary>
    private void Wake()
    {
        if (_wakeWord == null)
        {
            return;
        }

        Interlocked.Increment(ref *_wakeWord);
        Native.LinuxSyscalls.FutexWakeWord(_wakeWord, 1);
    }
}
