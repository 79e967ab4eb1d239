namespace Umcg.Scheduling;

/// <summary>
/// What a spawn does when both admission bounds are reached: <see cref="UmcgSchedulerOptions.MaxWorkers"/> worker
/// threads exist and <see cref="UmcgSchedulerOptions.MaxQueuedBodies"/> bodies already wait for one.
/// </summary>
public enum AdmissionMode
{
    /// <summary>
    /// Back-pressure: <c>SpawnAsync</c> awaits room (honouring its token), <c>Spawn</c> blocks its caller until
    /// there is room (inside a blocking region when the caller is a worker). Callers are admitted oldest first.
    /// </summary>
    Wait,

    /// <summary>The spawn is refused at once with an <see cref="UmcgAdmissionRejectedException"/>.</summary>
    Reject,
}
