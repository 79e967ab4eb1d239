namespace Umcg.Hosting;

/// <summary>The run-queue policy a hosted scheduler's servers use, by name (so that configuration can choose it).</summary>
public enum UmcgPolicyKind
{
    /// <summary>
    /// <see cref="Umcg.Scheduling.Policies.PriorityPolicy"/>: the highest <see cref="Umcg.Scheduling.WorkerOptions.Priority"/>
    /// runs first, and a higher one preempts a lower one. The hosted default, so that a priority given per endpoint
    /// or per call means something.
    /// </summary>
    Priority,

    /// <summary><see cref="Umcg.Scheduling.Policies.FifoPolicy"/>: first come, first served; priorities are ignored.</summary>
    Fifo,

    /// <summary><see cref="Umcg.Scheduling.Policies.FairSharePolicy"/>: CPU shared in proportion to <see cref="Umcg.Scheduling.WorkerOptions.Weight"/>.</summary>
    FairShare,
}
