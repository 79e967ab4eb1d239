using Umcg.Diagnostics;
using Umcg.Kernel;
using Umcg.Kernel.Detection;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

/// <summary>Settings of a <see cref="UmcgScheduler"/>.</summary>
public sealed record UmcgSchedulerOptions
{
    /// <summary>
    /// How many servers (one OS thread each), 1 to <see cref="OptionsValidation.MaxServers"/>. Null: one per CPU the process may run on.
    /// </summary>
    public int? Servers { get; init; }

    /// <summary>Pin server <c>i</c> to the <c>i</c>-th CPU of the process's affinity (workers follow their server). Default true.</summary>
    public bool PinServers { get; init; } = true;

    /// <summary>
    /// Creates one run-queue policy per server (it must not return null). Default: <see cref="FifoPolicy"/>. A
    /// policy of your own is contained: if it throws or answers impossibly, its server reports the fault and goes
    /// on with a FIFO queue (see docs/scheduling.md).
    /// </summary>
    public Func<IRunQueuePolicy> Policy { get; init; } = () => new FifoPolicy();

    /// <summary>The kernel half to run on. Default: <see cref="UmcgKernel.Default"/> (futex parking).</summary>
    public UmcgKernel? Kernel { get; init; }

    /// <summary>How many finished worker threads are kept blocked for reuse (not negative). Default 1024.</summary>
    public int MaxIdleWorkers { get; init; } = 1024;

    /// <summary>Let idle servers take runnable workers from busy ones. Default true.</summary>
    public bool Balance { get; init; } = true;

    /// <summary>
    /// Detection of blocking that nobody announced (a plain Thread.Sleep, lock contention, synchronous I/O, a
    /// page fault): which detectors run and how. Default: see <see cref="DetectionOptions"/>.
    /// </summary>
    public DetectionOptions Detection { get; init; } = new();

    /// <summary>A name prefix for the scheduler's threads.</summary>
    public string Name { get; init; } = "umcg";

    /// <summary>Record the scheduler into this recorder from the start (see <see cref="TraceRecorder"/>). Default null: no tracing.</summary>
    public TraceRecorder? Trace { get; init; }

    /// <summary>
    /// Every rule these settings break (see <see cref="OptionsValidation"/>), each naming the setting and its
    /// value; empty when a scheduler can start with them.
    /// </summary>
    public IReadOnlyList<string> Validate() => OptionsValidation.Validate(this);
}
