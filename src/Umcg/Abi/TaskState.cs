namespace Umcg.Abi;

/// <summary>The state of a UMCG task, bits 0–7 of <see cref="UmcgTask.State"/>.</summary>
/// <remarks>
/// RUNNING →(blocks)→ BLOCKED →(unblocks)→ RUNNABLE →(woken by a server or a worker's next_tid)→ RUNNING;
/// RUNNING →(Wait, or TF_PREEMPT at a safepoint)→ RUNNABLE.
/// </remarks>
public enum TaskState : uint
{
    /// <summary>Not a UMCG task (or unregistered).</summary>
    None = 0,

    /// <summary>Running user code; for a worker, on behalf of its server.</summary>
    Running = 1,

    /// <summary>Ready to run; a worker in this state is queued on a runnable list or named by a next_tid.</summary>
    Runnable = 2,

    /// <summary>Blocked in the kernel (a blocking region); its server has been told.</summary>
    Blocked = 3,
}

/// <summary>State flags, bits 8–15 of <see cref="UmcgTask.State"/>.</summary>
[Flags]
public enum TaskFlags : uint
{
    /// <summary>No flag.</summary>
    None = 0,

    /// <summary>User space asks that this RUNNING worker be preempted at its next safepoint (after a Kick).</summary>
    Preempt = 0x0100,

    /// <summary>The task set RUNNABLE and <em>will</em> call Wait: a safepoint in between must not block it.</summary>
    CondWait = 0x0200,

    /// <summary>
    /// A RUNNING worker its server demoted to the background (an extension of the RFC, see docs/preemption.md): it
    /// still runs, but no server's record names it, and its next safepoint, block, wait or exit takes it off the
    /// CPU without a successor. Set and cleared by the kernel half only (user space's PrepareWait keeps it).
    /// </summary>
    Background = 0x0400,
}
