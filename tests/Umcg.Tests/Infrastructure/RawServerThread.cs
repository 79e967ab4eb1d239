using Umcg.Kernel.Native;
using Umcg.Kernel.Raw;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// What the tests' raw servers share: a thread that pins itself (if asked), registers through the raw kit
/// (<see cref="RawTask"/>), waits to be let in (<see cref="Run"/>), serves with a subclass's loop until
/// <see cref="Dispose"/>, and unregisters. Whatever a loop finds wrong goes to <see cref="Errors"/>, which
/// Dispose asserts empty.
/// </summary>
internal abstract unsafe class RawServerThread : IDisposable
{
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _registered = new();
    private readonly ManualResetEventSlim _go = new();
    private readonly int? _cpu;
    private volatile bool _stop;

    /// <param name="kernel">The kernel half.</param>
    /// <param name="cpu">Pin the server to this CPU before it registers.</param>
    /// <param name="name">The thread's name.</param>
    protected RawServerThread(UmcgKernel kernel, int? cpu, string name)
    {
        Kernel = kernel;
        _cpu = cpu;
        _thread = new Thread(Loop) { IsBackground = true, Name = name };
    }

    public int Tid { get; private set; }

    public UmcgTask* Task => Self!.Task;

    /// <summary>The one CPU the server's affinity allows once registered, or -1 (not pinned, or pinning refused).</summary>
    public int Cpu { get; private set; } = -1;

    /// <summary>Protocol breakage the loop saw (an empty queue means it saw nothing wrong).</summary>
    public ConcurrentQueue<Exception> Errors { get; } = new();

    /// <summary>Every worker the loop picked, in order.</summary>
    public ConcurrentQueue<int> Started { get; } = new();

    /// <summary>Waits that ended with Ok: the server was woken.</summary>
    public long Wakeups;

    /// <summary>Waits that ended with ETIMEDOUT.</summary>
    public long Timeouts;

    /// <summary>Waits that ended with EAGAIN: woken between PrepareWait and Wait.</summary>
    public long Retries;

    protected UmcgKernel Kernel { get; }

    /// <summary>The server's task, once its thread has made it.</summary>
    protected RawTask? Self { get; private set; }

    /// <summary>Whether <see cref="Dispose"/> has asked the loop to leave (once it has nothing to run).</summary>
    protected bool Stopping => _stop;

    /// <summary>Lets a server started with run: false enter its loop.</summary>
    public void Run() => _go.Set();

    public void Dispose()
    {
        _stop = true;
        _go.Set();
        if (Self is not null && _thread.IsAlive)
        {
            WakeToStop();
        }

        if (!_thread.Join(Watchdog.Limit))
        {
            // What the loop found wrong is the likeliest reason it cannot stop: say it with the stall.
            string errors = Errors.IsEmpty ? "" : $"{Environment.NewLine}its loop's errors:{Environment.NewLine}{string.Join(Environment.NewLine, Errors.Take(5))}";
            Watchdog.Fail(Kernel, $"server '{_thread.Name}' did not stop{errors}{Watchdog.EarlierFailureNote()}");
        }

        // A server that failed to unregister keeps its block (the kernel half still references it); Errors says why.
        Self?.Dispose();
        Assert.True(Errors.IsEmpty, string.Join(Environment.NewLine, Errors));
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts the thread and returns once the server has registered; a subclass calls it last in its constructor.</summary>
    protected void Start(bool run)
    {
        _thread.Start();
        if (!_registered.Wait(Watchdog.Limit))
        {
            Watchdog.Fail(Kernel, "server did not register");
        }

        if (Errors.TryPeek(out var e))
        {
            throw new InvalidOperationException("server failed to start", e);
        }

        if (run)
        {
            Run();
        }
    }

    /// <summary>The loop, on the server's thread, registered: returns once <see cref="Stopping"/> and nothing is left to run.</summary>
    protected abstract void ServeUntilStopped(RawTask self);

    /// <summary>Ends a sleep of the loop that only a wake would end (a loop whose Waits have deadlines needs nothing).</summary>
    protected virtual void WakeToStop()
    {
    }

    /// <summary>Counts how a Wait ended; an error goes to <see cref="Errors"/> and drops the pending pick.</summary>
    protected void CountWait(RawTask self, Errno r)
    {
        ArgumentNullException.ThrowIfNull(self);
        switch (r)
        {
            case Errno.Ok:
                Interlocked.Increment(ref Wakeups);
                break;
            case Errno.ETIMEDOUT:
                Interlocked.Increment(ref Timeouts);
                break;
            case Errno.EAGAIN:
                // Woken between PrepareWait and Wait (state already RUNNING), or the picked worker was no longer
                // RUNNABLE: go round again; the pick is re-validated there.
                Interlocked.Increment(ref Retries);
                break;
            default:
                Errors.Enqueue(new InvalidOperationException($"server wait: {r}"));
                self.NextTid = 0;
                break;
        }
    }

    private void Loop()
    {
        try
        {
            if (_cpu is int cpu)
            {
                LinuxSyscalls.PinToCpu(0, cpu);
            }

            var self = RawTask.ForServer(Kernel);
            Tid = self.Tid;
            Self = self;
            var r = self.Register();
            if (r != Errno.Ok)
            {
                Errors.Enqueue(new InvalidOperationException($"server register: {r}"));
                _registered.Set();
                return;
            }

            Cpu = LinuxSyscalls.GetAffinity(0) is [int only] ? only : -1;
            _registered.Set();
            _go.Wait();
            ServeUntilStopped(self);

            r = self.Unregister();
            if (r != Errno.Ok)
            {
                Errors.Enqueue(new InvalidOperationException($"server unregister: {r}"));
            }
        }
        catch (Exception e)
        {
            Errors.Enqueue(e);
            _registered.Set();
        }
    }
}
