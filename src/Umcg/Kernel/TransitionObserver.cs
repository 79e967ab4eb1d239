using Umcg.Abi;

namespace Umcg.Kernel;

/// <summary>
/// Told of every task state transition the kernel half makes (<c>UmcgKernel.UpdateState</c>), right after the
/// transition's CAS succeeded, on the thread that made it. Installed in <see cref="UmcgKernel.Observer"/>;
/// with none installed a transition pays one null check.
/// </summary>
/// <remarks>
/// <para>RUNNABLE → RUNNABLE is <c>Wait</c> committing: the caller had set RUNNABLE | TF_COND_WAIT in user
/// space (unseen by the kernel half) and now gives up its CPU. Every other call changes the state.</para>
/// <para>An observer must not block, throw or call back into the kernel half: it runs in the middle of a
/// handoff, between the state change and the wake that follows it.</para>
/// </remarks>
internal abstract class TransitionObserver
{
    /// <summary>One transition of <paramref name="task"/>.</summary>
    /// <param name="task">The task whose state changed.</param>
    /// <param name="from">The state it left (as the transition expected it).</param>
    /// <param name="to">The state it entered.</param>
    /// <param name="stampNs">The task's clock read before the CAS (the value stamped in blocked_ts/runnable_ts).</param>
    public abstract void OnTransition(KernelTask task, TaskState from, TaskState to, long stampNs);
}
