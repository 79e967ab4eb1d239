using Umcg.Kernel.Native;

namespace Umcg.Scheduling.Demotion;

/// <summary>
/// D1's alarm clock: one timer descriptor per server, set to the end of the grace its running worker was given to
/// reach a safepoint, and one thread that waits on all of them. A give-way in time clears the timer from whichever
/// thread takes it off the server's list, which wakes nobody; a grace that runs out rings the server (see
/// Server.GraceAlarm.cs). Without it the server's own Wait carried the grace's end, and woke for nothing after every
/// give-way that came in time but was followed by nothing else for a grace period.
/// </summary>
/// <remarks>The thread sleeps in poll(2) for as long as no grace runs out, and takes no CPU meanwhile.</remarks>
internal sealed class GraceAlarm : IDisposable
{
    private readonly int[] _timers;
    private readonly Action<int> _ring;
    private readonly (int Read, int Write) _stop;
    private readonly Thread _thread;
    private long _rings;
    private int _stopped;
    private int _disposed;

    private GraceAlarm(int[] timers, Action<int> ring)
    {
        _timers = timers;
        _ring = ring;
        _stop = LinuxSyscalls.Pipe();
        _thread = new Thread(Run) { IsBackground = true, Name = "umcg grace alarm" };
        _thread.UnsafeStart();
    }

    /// <summary>
    /// An alarm for <paramref name="servers"/> servers whose ring calls <paramref name="ring"/> with a server's index, on
    /// the alarm's thread; null where timer descriptors are not to be had (not Linux, or out of descriptors): the
    /// servers then keep the grace's end in their own Wait.
    /// </summary>
    public static GraceAlarm? TryCreate(int servers, Action<int> ring)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var timers = new int[servers];
        for (int i = 0; i < servers; i++)
        {
            int fd = LinuxSyscalls.CreateMonotonicTimer();
            if (fd < 0)
            {
                for (int j = 0; j < i; j++)
                {
                    LinuxSyscalls.Close(timers[j]);
                }

                return null;
            }

            timers[i] = fd;
        }

        return new GraceAlarm(timers, ring);
    }

    /// <summary>Times a grace ran out and the alarm rang its server.</summary>
    public long Rings => Volatile.Read(ref _rings);

    /// <summary>Sets <paramref name="server"/>'s alarm to <paramref name="deadlineNs"/> (CLOCK_MONOTONIC), or clears it for 0. Any thread.</summary>
    public void Set(int server, long deadlineNs) => LinuxSyscalls.SetTimer(_timers[server], deadlineNs);

    /// <summary>Whether <paramref name="server"/>'s alarm is set: for tests.</summary>
    internal bool IsSetForTests(int server) => LinuxSyscalls.IsTimerArmed(_timers[server]);

    /// <summary>Ends the ringing thread and waits for it. Called before the servers stop: a ring wakes a server.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            LinuxSyscalls.WriteByte(_stop.Write);
            _thread.Join();
        }
    }

    /// <summary>
    /// Stops (see <see cref="Stop"/>) and closes every descriptor. Called once no server runs and no worker is left to
    /// drain: until then a server may still set its timer and a drain clear it, and a descriptor closed under them
    /// could be another file's by the time they do.
    /// </summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        Stop();
        foreach (int fd in _timers)
        {
            LinuxSyscalls.Close(fd);
        }

        LinuxSyscalls.Close(_stop.Read);
        LinuxSyscalls.Close(_stop.Write);
    }

    private void Run()
    {
        var fds = new LinuxSyscalls.PollFd[_timers.Length + 1];
        for (int i = 0; i < _timers.Length; i++)
        {
            fds[i] = LinuxSyscalls.PollFd.ForInput(_timers[i]);
        }

        fds[^1] = LinuxSyscalls.PollFd.ForInput(_stop.Read);
        while (true)
        {
            int ready = LinuxSyscalls.Poll(fds);
            if (ready == -LinuxSyscalls.EINTR)
            {
                continue; // a signal for the runtime
            }

            if (ready < 0)
            {
                // Out of kernel memory, say: the servers' waits keep their backstop (Server.GraceAlarm.cs, G3), so a
                // demotion comes late instead of at the grace's end. Not expected: poll's other errors name bad arguments.
                return;
            }

            if (fds[^1].IsReady)
            {
                return;
            }

            for (int i = 0; i < _timers.Length; i++)
            {
                // A timer cleared after it expired and before this read reads nothing: no ring.
                if (fds[i].IsReady && LinuxSyscalls.TakeExpirations(_timers[i]) > 0)
                {
                    Interlocked.Increment(ref _rings);
                    _ring(i);
                }
            }
        }
    }
}
