namespace Umcg.Threading;

/// <summary>
/// What a send does for a receiver that was already waiting, when sender and receiver are workers of the same
/// server. Either way the item goes straight to the receiver and the CPU goes from sender to receiver in one
/// next_tid switch, never through the server; the modes differ in when.
/// </summary>
public enum ReceiverHandOff
{
    /// <summary>
    /// The sender switches to the receiver at once and goes on when its server next picks it: the lowest latency
    /// for the receiver, and what a synchronous request/response wants. A producer that sends item after item
    /// then switches once per item.
    /// </summary>
    SwitchNow,

    /// <summary>
    /// The receiver becomes runnable and the sender keeps its CPU; the next time the sender waits, it switches
    /// straight to that receiver (ahead of the rest of the run queue) if it is still waiting to run. A producer
    /// then fills the channel before it gives way, and the consumer drains it in one go.
    /// </summary>
    RunNext,
}
