namespace Umcg.Diagnostics;

/// <summary>The schedulers that are running: what the observable instruments report on.</summary>
internal static class SchedulerRegistry
{
    private static readonly Lock s_lock = new();

    // Copy-on-write under the lock; read without it by metric callbacks, which then walk a complete array.
    private static SchedulerTelemetry[] s_live = [];

    public static SchedulerTelemetry[] Live => Volatile.Read(ref s_live);

    public static void Add(SchedulerTelemetry scheduler)
    {
        lock (s_lock)
        {
            Volatile.Write(ref s_live, [.. s_live, scheduler]);
        }
    }

    public static void Remove(SchedulerTelemetry scheduler)
    {
        lock (s_lock)
        {
            Volatile.Write(ref s_live, [.. s_live.Where(s => !ReferenceEquals(s, scheduler))]);
        }
    }
}
