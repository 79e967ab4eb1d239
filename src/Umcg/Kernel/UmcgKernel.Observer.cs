namespace Umcg.Kernel;

// The one instrumentation point of the kernel half: who is told of state transitions (see UpdateState).
public sealed partial class UmcgKernel
{
    /// <summary>
    /// Told of every state transition, or null (the default): then a transition pays one null check and no
    /// clock read it would not make anyway. Installed and removed by Umcg.Diagnostics with
    /// <see cref="TrySwapObserver"/>.
    /// </summary>
    /// <remarks>
    /// Read without a fence on the transition path: a transition racing an install or removal may miss the
    /// new observer or reach the old one once more, so an observer must stay usable after its removal.
    /// </remarks>
    internal TransitionObserver? Observer;

    /// <summary>Replaces the observer if it is still <paramref name="expected"/> (a CAS: installers never lose each other's updates).</summary>
    internal bool TrySwapObserver(TransitionObserver? expected, TransitionObserver? value) =>
        ReferenceEquals(Interlocked.CompareExchange(ref Observer, value, expected), expected);
}
