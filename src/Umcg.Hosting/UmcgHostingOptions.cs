using Umcg.Kernel.Detection;
using Umcg.Scheduling.Demotion;
using Umcg.Scheduling;
using Umcg.Scheduling.Policies;

namespace Umcg.Hosting;

/// <summary>
/// The settings of the scheduler a host runs, bindable from the configuration section <c>Umcg</c>
/// (<see cref="UmcgServiceCollectionExtensions.SectionName"/>): each property is the
/// <see cref="UmcgSchedulerOptions"/> setting of the same name, except that a policy is chosen by name
/// (<see cref="Policy"/>) and the hosted default is <see cref="UmcgPolicyKind.Priority"/>. Checked at host start by
/// the library's own <see cref="OptionsValidation"/>: bad settings stop the host with every error listed.
/// </summary>
/// <remarks>
/// <para>The hosted default policy is <see cref="PriorityPolicy"/>, not the library's FIFO: a priority given to an
/// endpoint or a spawn (<see cref="WorkerOptions.Priority"/>) only means something under a priority policy.</para>
/// <para>Settings that configuration cannot express (a policy of your own, a kernel half, a trace recorder) go
/// through <see cref="Customize"/>.</para>
/// </remarks>
public sealed class UmcgHostingOptions
{
    /// <summary>How many servers (one OS thread each); null (the default) for one per CPU the process may run on.</summary>
    public int? Servers { get; set; }

    /// <summary>Pin each server to one CPU of the process's affinity. Default true.</summary>
    public bool PinServers { get; set; } = true;

    /// <summary>The run-queue policy of every server. Default <see cref="UmcgPolicyKind.Priority"/> (see the remarks of <see cref="UmcgHostingOptions"/>).</summary>
    public UmcgPolicyKind Policy { get; set; } = UmcgPolicyKind.Priority;

    /// <summary>The policy's time slice: a running worker is preempted after this much CPU when another waits. Null (the default): none.</summary>
    public TimeSpan? TimeSlice { get; set; }

    /// <summary>
    /// The time slice asked of the OS for the scheduler's threads (see <see cref="UmcgSchedulerOptions.OsTimeSlice"/>):
    /// null (the default) for the library's 500 µs, <see cref="TimeSpan.Zero"/> for the OS's own slice.
    /// </summary>
    public TimeSpan? OsTimeSlice { get; set; }

    /// <summary>
    /// When the threads ask for that slice (see <see cref="UmcgSchedulerOptions.OsTimeSliceMode"/>):
    /// <see cref="Scheduling.OsTimeSliceMode.WhenContended"/> (the default) while other processes keep the CPUs busy,
    /// or <see cref="Scheduling.OsTimeSliceMode.Always"/>.
    /// </summary>
    public OsTimeSliceMode OsTimeSliceMode { get; set; } = OsTimeSliceMode.WhenContended;

    /// <summary>The most worker threads at once, blocked ones included; null (the default) for no bound. See <see cref="UmcgSchedulerOptions.MaxWorkers"/> and docs/aspnetcore.md for sizing.</summary>
    public int? MaxWorkers { get; set; }

    /// <summary>The most admitted bodies waiting for a worker thread; null (the default) for no bound. Needs <see cref="MaxWorkers"/>. See <see cref="UmcgSchedulerOptions.MaxQueuedBodies"/>.</summary>
    public int? MaxQueuedBodies { get; set; }

    /// <summary>Past both bounds: wait for room (<see cref="AdmissionMode.Wait"/>, the default) or refuse (<see cref="AdmissionMode.Reject"/>).</summary>
    public AdmissionMode Admission { get; set; } = AdmissionMode.Wait;

    /// <summary>Finished worker threads kept for reuse (they count towards <see cref="MaxWorkers"/>). Default 1024.</summary>
    public int MaxIdleWorkers { get; set; } = 1024;

    /// <summary>Let idle servers take runnable workers from busy ones. Default true.</summary>
    public bool Balance { get; set; } = true;

    /// <summary>
    /// A server with nothing to run lets the first request's worker start itself on its CPU, with no round trip through
    /// the server (see <see cref="UmcgSchedulerOptions.OpenIdleServers"/>). Default true.
    /// </summary>
    public bool OpenIdleServers { get; set; } = true;

    /// <summary>Which detectors watch for blocking nobody announced. Default <see cref="BlockingDetection.Monitor"/>; <see cref="BlockingDetection.None"/> turns detection off.</summary>
    public BlockingDetection Detection { get; set; } = BlockingDetection.Monitor;

    /// <summary>How long a worker must be asleep in the kernel before a detector marks it blocked; null (the default) for the library's default.</summary>
    public TimeSpan? DetectionThreshold { get; set; }

    /// <summary>
    /// Preempt workers that reach no safepoint by demoting their threads (see <see cref="DemotionOptions"/>). Default
    /// true; the scheduler logs at start whether the OS allows it and whether a demoted thread can be restored.
    /// </summary>
    public bool Demotion { get; set; } = true;

    /// <summary>How long a worker asked to give way may run on before it is demoted; null (the default) for the library's 1 ms.</summary>
    public TimeSpan? DemotionGracePeriod { get; set; }

    /// <summary>The most demoted workers per server; null (the default) for the library's 4.</summary>
    public int? MaxDemotedPerServer { get; set; }

    /// <summary>How a thread is demoted: <see cref="DemotionMechanism.SchedIdle"/> (the default) or <see cref="DemotionMechanism.Nice19"/> (see <see cref="DemotionOptions.Mechanism"/>).</summary>
    public DemotionMechanism DemotionMechanism { get; set; } = DemotionMechanism.SchedIdle;

    /// <summary>A name prefix for the scheduler's threads. Default <c>umcg</c>.</summary>
    public string Name { get; set; } = "umcg";

    /// <summary>
    /// Applied last to the scheduler options built from the settings above, for what configuration cannot say:
    /// <c>o =&gt; o with { Policy = () =&gt; new MyPolicy() }</c>. Null (the default): nothing. The result is validated like the rest.
    /// </summary>
    public Func<UmcgSchedulerOptions, UmcgSchedulerOptions>? Customize { get; set; }

    /// <summary>The library's options these settings stand for (not yet validated: see <see cref="OptionsValidation"/>).</summary>
    public UmcgSchedulerOptions ToSchedulerOptions()
    {
        var detection = new DetectionOptions { Mode = Detection };
        if (DetectionThreshold is { } threshold)
        {
            detection = detection with { Threshold = threshold };
        }

        var demotion = DemotionOptions.Off;
        if (Demotion)
        {
            demotion = new DemotionOptions { Mechanism = DemotionMechanism };
            if (DemotionGracePeriod is { } grace)
            {
                demotion = demotion with { GracePeriod = grace };
            }

            if (MaxDemotedPerServer is { } max)
            {
                demotion = demotion with { MaxDemotedPerServer = max };
            }
        }

        var slice = TimeSlice;
        Func<IRunQueuePolicy> policy = Policy switch
        {
            UmcgPolicyKind.Fifo => () => new FifoPolicy(slice),
            UmcgPolicyKind.FairShare => () => new FairSharePolicy(slice),
            _ => () => new PriorityPolicy(slice),
        };

        var options = new UmcgSchedulerOptions
        {
            Servers = Servers,
            PinServers = PinServers,
            Policy = policy,
            MaxIdleWorkers = MaxIdleWorkers,
            MaxWorkers = MaxWorkers,
            MaxQueuedBodies = MaxQueuedBodies,
            Admission = Admission,
            Balance = Balance,
            OpenIdleServers = OpenIdleServers,
            Detection = detection,
            Demotion = demotion,
            OsTimeSlice = OsTimeSlice switch
            {
                null => UmcgSchedulerOptions.DefaultOsTimeSlice,
                { } zero when zero == TimeSpan.Zero => null,
                { } asked => asked,
            },
            OsTimeSliceMode = OsTimeSliceMode,
            Name = Name,
        };
        return Customize is { } customize ? customize(options) : options;
    }
}
