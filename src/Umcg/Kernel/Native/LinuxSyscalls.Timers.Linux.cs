using System.Runtime.InteropServices;

namespace Umcg.Kernel.Native;

/// <summary>Timer descriptors and poll(2): an alarm any thread can set or clear without waking the one that waits for it.</summary>
internal static unsafe partial class LinuxSyscalls
{
    private const int TfdNonblock = 0x800;
    private const int TfdCloexec = 0x80000;
    private const short PollIn = 1;

    [LibraryImport(Libc, EntryPoint = "timerfd_create", SetLastError = true)]
    private static partial int TimerfdCreate(int clock, int flags);

    [LibraryImport(Libc, EntryPoint = "timerfd_settime", SetLastError = true)]
    private static partial int TimerfdSettime(int fd, int flags, ItimerSpec* value, ItimerSpec* old);

    [LibraryImport(Libc, EntryPoint = "timerfd_gettime", SetLastError = true)]
    private static partial int TimerfdGettime(int fd, ItimerSpec* value);

    [LibraryImport(Libc, EntryPoint = "poll", SetLastError = true)]
    private static partial int PollFds(PollFd* fds, nuint count, int timeoutMs);

    /// <summary>struct itimerspec.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ItimerSpec
    {
        public Timespec Interval;
        public Timespec Value;
    }

    /// <summary>struct pollfd.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Returned;

        /// <summary>Waits for input on <paramref name="fd"/>.</summary>
        public static PollFd ForInput(int fd) => new() { Fd = fd, Events = PollIn };

        /// <summary>Whether poll found input (or an error or hang-up, which a read then reports).</summary>
        public readonly bool IsReady => Returned != 0;
    }

    /// <summary>A non-blocking, close-on-exec timer descriptor on CLOCK_MONOTONIC, disarmed. Returns it or a negated errno.</summary>
    public static int CreateMonotonicTimer()
    {
        int fd = TimerfdCreate(ClockMonotonic, TfdNonblock | TfdCloexec);
        return fd >= 0 ? fd : -Marshal.GetLastPInvokeError();
    }

    /// <summary>
    /// Arms <paramref name="fd"/> to expire once at <paramref name="deadlineNs"/> (CLOCK_MONOTONIC, absolute), or disarms it
    /// for 0. Any thread may call it; a thread waiting on the descriptor is not woken by it. 0 or a negated errno.
    /// </summary>
    public static int SetTimer(int fd, long deadlineNs)
    {
        var spec = new ItimerSpec { Value = Timespec.FromNanoseconds(Math.Max(0, deadlineNs)) };
        return TimerfdSettime(fd, deadlineNs > 0 ? TimerAbsolute : 0, &spec, null) == 0 ? 0 : -Marshal.GetLastPInvokeError();
    }

    /// <summary>Whether <paramref name="fd"/> is armed (its expiry still ahead).</summary>
    public static bool IsTimerArmed(int fd)
    {
        ItimerSpec spec;
        return TimerfdGettime(fd, &spec) == 0 && (spec.Value.Seconds | spec.Value.Nanoseconds) != 0;
    }

    /// <summary>Takes an expired timer's count off <paramref name="fd"/> (non-blocking: 0 if it had not expired).</summary>
    public static long TakeExpirations(int fd)
    {
        ulong count = 0;
        return ReadFd(fd, (byte*)&count, sizeof(ulong)) == sizeof(ulong) ? (long)count : 0;
    }

    /// <summary>poll(2) with no timeout: the number of ready descriptors, or a negated errno (EINTR included).</summary>
    public static int Poll(Span<PollFd> fds)
    {
        fixed (PollFd* p = fds)
        {
            int n = PollFds(p, (nuint)fds.Length, -1);
            return n >= 0 ? n : -Marshal.GetLastPInvokeError();
        }
    }
}
