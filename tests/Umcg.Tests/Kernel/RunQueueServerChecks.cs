namespace Umcg.Tests.Kernel;

/// <summary>
/// What the raw-API kernel tests check about a <see cref="RunQueueServer"/> that waits without a deadline: once
/// it sleeps in Wait, only something its running worker does can wake it, and the wake-up counter shows that
/// it happened.
/// </summary>
internal static unsafe class RunQueueServerChecks
{
    /// <summary>
    /// Called on the worker running in <paramref name="server"/>'s slot (asserted): waits until the server sleeps
    /// in Wait, and returns the server's wake-up count at that point.
    /// </summary>
    public static long WaitUntilAsleep(this RunQueueServer server, UmcgKernel kernel, int runningTid)
    {
        Assert.Equal((uint)runningTid | UmcgConstants.TidRunning, Volatile.Read(ref server.Task->NextTid));
        Watchdog.Until(() => Volatile.Read(ref server.Task->State) == (uint)TaskState.Runnable, kernel, "server asleep in Wait");
        return Interlocked.Read(ref server.Wakeups);
    }

    /// <summary>
    /// The server was woken again after <paramref name="wakeupsBefore"/> (the watchdog waits for that, reporting
    /// <paramref name="what"/>), and its slot is clear.
    /// </summary>
    public static void AssertWokenWithSlotCleared(this RunQueueServer server, UmcgKernel kernel, long wakeupsBefore, string what)
    {
        Watchdog.Until(() => Interlocked.Read(ref server.Wakeups) > wakeupsBefore, kernel, what);
        Assert.Equal(0u, Volatile.Read(ref server.Task->NextTid));
    }
}
