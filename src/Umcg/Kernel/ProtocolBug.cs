using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Umcg.Kernel;

/// <summary>
/// Always-on checks of the protocol's invariants over the library's own data (Go's <c>throw("bad g status")</c>):
/// a record, a packed word or a queue that only this library writes is in a state its protocol cannot produce.
/// </summary>
/// <remarks>
/// <para>Not for user input: a value user code wrote into a control block (a scribbled state word, a next_tid
/// naming nobody) is still answered with an <see cref="Abi.Errno"/> at the kernel layer and with
/// <see cref="Scheduling.UmcgProtocolException"/> at the scheduling layer. What fails here is a bug in Umcg
/// itself, and going on would corrupt the schedule (two workers on one server, a lost worker).</para>
/// <para><c>Debug.Assert</c> is compiled out of Release, which is what CI tests; these checks stay in. Each costs
/// one compare and a branch on the hot path: <see cref="Check"/> inlines, and the throw lives in
/// <see cref="Fail"/>, which never does.</para>
/// </remarks>
internal static class ProtocolBug
{
    /// <summary>Fails with <paramref name="invariant"/> unless <paramref name="holds"/>.</summary>
    /// <param name="holds">The invariant's value here.</param>
    /// <param name="invariant">The invariant as a constant sentence (no formatting on the hot path).</param>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check([DoesNotReturnIf(false)] bool holds, string invariant)
    {
        if (!holds)
        {
            Fail(invariant);
        }
    }

    /// <summary>Throws <see cref="ProtocolBugException"/>: <paramref name="invariant"/> does not hold.</summary>
    [DoesNotReturn]
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static void Fail(string invariant) => throw new ProtocolBugException(invariant);
}

/// <summary>An invariant of Umcg's own protocol data was broken: a bug in Umcg, never the caller's input.</summary>
internal sealed class ProtocolBugException : InvalidOperationException
{
    /// <summary>Creates the exception for the broken <paramref name="invariant"/>.</summary>
    public ProtocolBugException(string invariant)
        : base($"Umcg protocol invariant broken: {invariant}. This is a bug in Umcg, not in the calling code.")
    {
        Invariant = invariant;
    }

    /// <summary>The invariant that did not hold.</summary>
    public string Invariant { get; }
}
