namespace Umcg.Tests.Threading;

/// <summary>A worker that locks a mutex and keeps it until the test lets it go: a lock others must queue for.</summary>
internal sealed class LockHolder
{
    private readonly UmcgSemaphore _letGo = new(0);

    /// <summary>Spawns the holder and returns once it holds <paramref name="mutex"/>.</summary>
    public LockHolder(UmcgScheduler scheduler, UmcgMutex mutex)
    {
        Handle = scheduler.Spawn(() =>
        {
            mutex.Lock();
            _letGo.Wait();
            mutex.Unlock();
        });
        ThreadingFixture.Until(scheduler, () => mutex.IsHeld, "holder locks");
    }

    /// <summary>The holder's body: it completes once the holder has unlocked.</summary>
    public WorkerHandle Handle { get; }

    /// <summary>Lets the holder unlock (which hands the lock to the oldest waiter, if any).</summary>
    public void LetGo() => _letGo.Release();
}
