namespace Umcg.Scheduling.Policies;

/// <summary>
/// What a shipped policy tells the kernel half so that an arrival it would not act on does not wake a busy server
/// (quiet arrivals: see docs/scheduling.md). A worker's rank and the server's margin go into the arrival bits of
/// their state words (<see cref="Abi.UmcgConstants.ArrivalMask"/>): an arrival of rank r while worker R runs stays
/// quiet when the margin m is not 0 and r &lt; rank(R) + m − 1. A policy the library does not ship answers through
/// none of this: its server is woken for every arrival, as the RFC does.
/// </summary>
/// <remarks>Called under the server's run-queue lock, like every member of a policy.</remarks>
internal interface IQuietArrivals
{
    /// <summary>The rank of <paramref name="worker"/>'s arrivals (0–255): higher ranks may need the server sooner.</summary>
    byte RankOf(WorkerThread worker);

    /// <summary>
    /// The margin while a worker runs: 0 if every arrival needs the server; 1 if only an arrival that outranks the
    /// running worker does; 2 if an equal rank does not either. <paramref name="sliceArmed"/>: the server wakes within
    /// one slice anyway (its deadline is armed), so an arrival that only asks for round robin can wait for it.
    /// </summary>
    byte QuietMargin(bool sliceArmed);
}
