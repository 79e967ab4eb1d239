using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Diagnostics;

/// <summary>Several observers of one kernel half (e.g. two schedulers tracing on the default kernel), told in turn.</summary>
internal sealed class ObserverChain(TransitionObserver[] observers) : TransitionObserver
{
    public TransitionObserver[] Observers => observers;

    public override void OnTransition(KernelTask task, TaskState from, TaskState to, long stampNs)
    {
        foreach (var observer in observers)
        {
            observer.OnTransition(task, from, to, stampNs);
        }
    }

    /// <summary>Installs <paramref name="observer"/> beside any already there.</summary>
    public static void Add(UmcgKernel kernel, TransitionObserver observer)
    {
        // Copy-on-write: a chain is never changed once installed, so a transition that read the old one
        // walks a complete list. The CAS retries when another installer got in between.
        while (true)
        {
            var current = Volatile.Read(ref kernel.Observer);
            TransitionObserver updated = current switch
            {
                null => observer,
                ObserverChain chain => new ObserverChain([.. chain.Observers, observer]),
                _ => new ObserverChain([current, observer]),
            };
            if (kernel.TrySwapObserver(current, updated))
            {
                return;
            }
        }
    }

    /// <summary>Removes <paramref name="observer"/>; the kernel half is back to a null observer once none is left.</summary>
    public static void Remove(UmcgKernel kernel, TransitionObserver observer)
    {
        while (true)
        {
            var current = Volatile.Read(ref kernel.Observer);
            TransitionObserver[] left = current switch
            {
                null => [],
                ObserverChain chain => [.. chain.Observers.Where(o => !ReferenceEquals(o, observer))],
                _ when ReferenceEquals(current, observer) => [],
                _ => [current],
            };
            TransitionObserver? updated = left.Length switch
            {
                0 => null,
                1 => left[0],
                _ => new ObserverChain(left),
            };
            if (ReferenceEquals(updated, current) || kernel.TrySwapObserver(current, updated))
            {
                return;
            }
        }
    }
}
