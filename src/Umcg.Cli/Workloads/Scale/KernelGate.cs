using System.Runtime.CompilerServices;

namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// The gate every scale body waits on: one word that waiters sleep on in the kernel (futex), opened once for all.
/// A body blocked here holds what a thread blocked in a socket read holds: its own thread and stack, and no
/// user-space lock. (A <see cref="ManualResetEventSlim"/> shared by 25,000 waiters measured the runtime's contended
/// monitor instead: each waiter took the event's lock as it arrived, and the contended path reached one stack page
/// deeper in every worker that met it — docs/benchmarks-workloads.md, "scale".)
/// </summary>
internal sealed unsafe class KernelGate
{
    // 0 closed, 1 open. Waiters re-check it after every wake (a futex wait may return spuriously). Pinned, so its
    // address stays put for the kernel; it lives as long as the gate, which every waiting body holds.
    private readonly uint[] _storage = GC.AllocateArray<uint>(1, pinned: true);

    private uint* Word => (uint*)Unsafe.AsPointer(ref _storage[0]);

    /// <summary>Blocks the calling thread in the kernel until <see cref="Open"/>.</summary>
    public void Wait()
    {
        while (Volatile.Read(ref _storage[0]) == 0)
        {
            LinuxSyscalls.FutexWaitAbsolute(Word, expected: 0, deadlineNs: 0, realtime: false);
        }
    }

    /// <summary>Opens the gate: every waiter, and every later <see cref="Wait"/>, goes through.</summary>
    public void Open()
    {
        // The word first, then the wake: a waiter that reads 0 and sleeps is woken; one that reads 1 never sleeps.
        Volatile.Write(ref _storage[0], 1);
        LinuxSyscalls.FutexWakeWord(Word, int.MaxValue);
    }
}
