namespace Umcg.Scheduling;

/// <summary>What one server did; written by the server's own thread only (read racily for reports).</summary>
internal sealed class ServerCounters
{
    public long Switches;
    public long Preemptions;
    public long TimerWakes;
    public long RemoteWakes;
    public long HandedOver;
    public long Steals;
}
