using System.Runtime.InteropServices;

namespace Umcg.Abi;

/// <summary>
/// The control block shared by a UMCG task and the kernel half: the exact 64-byte layout of
/// <c>struct umcg_task</c>. It lives in unmanaged memory aligned to <see cref="UmcgConstants.TaskAlign"/>
/// (see <see cref="TaskBlock"/>) so that it never moves and fits one cache line.
/// </summary>
/// <remarks>
/// <see cref="State"/> and <see cref="RunnableWorkersPtr"/> are read and written concurrently by
/// user code and the kernel half; touch them only through <see cref="System.Threading.Volatile"/> or
/// <see cref="System.Threading.Interlocked"/>. The kernel half writes the timestamps and, under the
/// <see cref="UmcgConstants.TidRunning"/> scheme, a server's <see cref="NextTid"/>.
/// </remarks>
[StructLayout(LayoutKind.Explicit, Size = UmcgConstants.TaskSize)]
public struct UmcgTask
{
    /// <summary>Bits 0–7: <see cref="TaskState"/>; bits 8–15: <see cref="TaskFlags"/>; bits 16–31: user space's own.</summary>
    [FieldOffset(0)] public uint State;

    /// <summary>The TID to switch to in Wait (zero: the server). For a server, the worker it runs, with <see cref="UmcgConstants.TidRunning"/> once running.</summary>
    [FieldOffset(4)] public uint NextTid;

    /// <summary>The TID of the server that hosts this task; a server names itself.</summary>
    [FieldOffset(8)] public uint ServerTid;

    /// <summary>Reserved; must be zero at registration.</summary>
    [FieldOffset(12)] public uint Hole;

    /// <summary>When the task last became BLOCKED, in nanoseconds on its registered clock.</summary>
    [FieldOffset(16)] public ulong BlockedTs;

    /// <summary>When the task last became RUNNABLE, in nanoseconds on its registered clock.</summary>
    [FieldOffset(24)] public ulong RunnableTs;

    /// <summary>A server's runnable list head (the kernel half pushes, the server drains); in a worker, the link to the next entry.</summary>
    [FieldOffset(32)] public ulong RunnableWorkersPtr;

    /// <summary>Reserved; must be zero at registration.</summary>
    [FieldOffset(40)] public ulong Zero0;

    /// <summary>Reserved; must be zero at registration.</summary>
    [FieldOffset(48)] public ulong Zero1;

    /// <summary>Reserved; must be zero at registration.</summary>
    [FieldOffset(56)] public ulong Zero2;
}
