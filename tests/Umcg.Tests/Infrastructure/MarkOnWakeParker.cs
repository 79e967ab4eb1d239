using Umcg.Kernel.Parking;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// A parker that lets a test put a detector's mark exactly where a real detector can only land by bad luck:
/// between the wake that makes a waiting worker RUNNING and the worker's thread getting back from its park.
/// Armed for one state word, its next <see cref="Unpark"/> of that word first calls
/// <see cref="UmcgKernel.MarkBlocked"/> for the worker, then wakes it.
/// </summary>
public sealed unsafe class MarkOnWakeParker(IParker inner) : IParker
{
    private nint _armedWord;
    private int _armedTid;

    /// <summary>The kernel half to mark through (set once it is created over this parker).</summary>
    public UmcgKernel? Kernel { get; set; }

    /// <summary>What the mark returned, once it has happened.</summary>
    public Errno? MarkResult { get; private set; }

    public string Name => $"{inner.Name}, marking on wake";

    /// <summary>Marks worker <paramref name="tid"/> blocked at the next wake of <paramref name="task"/>'s state word.</summary>
    public void Arm(UmcgTask* task, int tid)
    {
        Volatile.Write(ref _armedTid, tid);
        Volatile.Write(ref _armedWord, (nint)(&task->State));
    }

    public ParkResult Park(uint* word, uint expected, long deadlineNs, ClockId clock) => inner.Park(word, expected, deadlineNs, clock);

    public void Unpark(uint* word)
    {
        if (Volatile.Read(ref _armedWord) == (nint)word && Interlocked.CompareExchange(ref _armedWord, 0, (nint)word) == (nint)word)
        {
            MarkResult = Kernel!.MarkBlocked(Volatile.Read(ref _armedTid));
        }

        inner.Unpark(word);
    }
}
