namespace Umcg.Kernel.Detection;

/// <summary>What <c>/proc/self/task/TID/syscall</c> says about a thread at one moment.</summary>
/// <param name="Asleep">Off the CPU in the kernel (in a system call, or in a fault); false while it runs or waits for a CPU.</param>
/// <param name="SyscallNumber">The system call it sleeps in; -1 outside one (a page fault).</param>
/// <param name="FirstArgument">The call's first argument (for futex: the word it waits on).</param>
internal readonly record struct ThreadSample(bool Asleep, long SyscallNumber, ulong FirstArgument)
{
    private const long SysFutex = 202;

    /// <summary>Asleep in futex on <paramref name="word"/>: for a worker's own state word, its own UMCG park.</summary>
    public bool IsFutexWaitOn(ulong word) => Asleep && SyscallNumber == SysFutex && FirstArgument == word;
}
