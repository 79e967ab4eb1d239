namespace Umcg.Scheduling.Policies;

/// <summary>
/// One server's run queue: which runnable worker runs next, and when the running one should give way.
/// </summary>
/// <remarks>
/// <para>A server owns one policy instance and calls it only under its run-queue lock, so an implementation
/// needs no synchronisation of its own. Calls are short and must not block or throw.</para>
/// <para>To write one: keep runnable workers in a structure of your choice (a <see cref="WorkerQueue"/> per
/// class of worker is the usual), return the next one from <see cref="Dequeue"/>, and say through
/// <see cref="ShouldPreempt"/> and <see cref="TimeSlice"/> when the running worker must yield; the server
/// enforces that with TF_PREEMPT and a kick, and the worker yields at its next safepoint.</para>
/// </remarks>
public interface IRunQueuePolicy
{
    /// <summary>How many workers are queued.</summary>
    int Count { get; }

    /// <summary>A worker became runnable on this server (new, unblocked, yielded, preempted, woken, or moved here).</summary>
    void Enqueue(WorkerThread worker);

    /// <summary>Removes and returns the worker to run next, or null if none is queued.</summary>
    WorkerThread? Dequeue();

    /// <summary>Removes a specific queued worker (a direct switch to it, or a steal). False if it is not queued here.</summary>
    bool Remove(WorkerThread worker);

    /// <summary>Removes and returns a worker another server may take (one whose body allows migration), or null.</summary>
    WorkerThread? Steal();

    /// <summary>Whether <paramref name="running"/> should give way now to a queued worker (e.g. a higher priority arrived).</summary>
    bool ShouldPreempt(WorkerThread running);

    /// <summary>How long <paramref name="running"/> may run before it gives way to the queued workers; null: until it yields.</summary>
    TimeSpan? TimeSlice(WorkerThread running);

    /// <summary>Accounts CPU time a worker ran (reported when it comes back to the server).</summary>
    void Charge(WorkerThread worker, long ranNs);
}
