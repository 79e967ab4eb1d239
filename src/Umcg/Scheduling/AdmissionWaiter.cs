namespace Umcg.Scheduling;

/// <summary>
/// A caller waiting for room to admit its body (<see cref="AdmissionMode.Wait"/>, both bounds reached). In the
/// scheduler's waiter list only under the pool lock; completed once, outside it: with the handle when the body is
/// admitted or canceled before admission, with an exception when the scheduler shuts down first.
/// </summary>
internal sealed class AdmissionWaiter
{
    private readonly TaskCompletionSource<WorkerHandle> _admitted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public AdmissionWaiter(WorkItem item)
    {
        Item = item;
        Node = new LinkedListNode<AdmissionWaiter>(this);
        item.Waiter = this;
    }

    public WorkItem Item { get; }

    public LinkedListNode<AdmissionWaiter> Node { get; }

    /// <summary>Completes with the body's handle once it is admitted (or canceled before it was).</summary>
    public Task<WorkerHandle> Admitted => _admitted.Task;

    public void Complete() => _admitted.TrySetResult(Item.Handle);

    public void Refuse(Exception error) => _admitted.TrySetException(error);
}
