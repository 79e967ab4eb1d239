using System.Globalization;
using Umcg.Abi;

namespace Umcg.Kernel;

/// <summary>One task's control block and kernel-side facts at one moment.</summary>
/// <param name="Tid">The task's TID.</param>
/// <param name="IsWorker">Worker or server.</param>
/// <param name="State">Bits 0–7 of the state word.</param>
/// <param name="Flags">Bits 8–15 of the state word.</param>
/// <param name="UserBits">Bits 16–31 of the state word.</param>
/// <param name="NextTid">The raw next_tid, with its TID_RUNNING bit.</param>
/// <param name="ServerTid">The server the task names.</param>
/// <param name="BlockedTs">Last BLOCKED timestamp.</param>
/// <param name="RunnableTs">Last RUNNABLE timestamp.</param>
/// <param name="ThreadAlive">Whether the task's thread is still alive.</param>
public readonly record struct TaskSnapshot(
    int Tid, bool IsWorker, TaskState State, TaskFlags Flags, uint UserBits, uint NextTid, uint ServerTid,
    ulong BlockedTs, ulong RunnableTs, bool ThreadAlive)
{
    internal static unsafe TaskSnapshot Of(KernelTask t)
    {
        uint state = Volatile.Read(ref t.Block->State);
        return new TaskSnapshot(
            t.Tid,
            t.IsWorker,
            (TaskState)(state & UmcgConstants.StateMask),
            (TaskFlags)(state & UmcgConstants.FlagsMask),
            (state & UmcgConstants.UserMask) >> 16,
            Volatile.Read(ref t.Block->NextTid),
            Volatile.Read(ref t.Block->ServerTid),
            Volatile.Read(ref t.Block->BlockedTs),
            Volatile.Read(ref t.Block->RunnableTs),
            t.Thread.IsAlive);
    }

    /// <inheritdoc />
    public override string ToString()
    {
        string next = RunningSlot.FromRaw(NextTid).ToString();
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{(IsWorker ? "worker" : "server"),-6} tid={Tid,-7} state={State,-8} flags={Flags,-16} next={next,-16} server={ServerTid,-7} alive={ThreadAlive}");
    }
}
