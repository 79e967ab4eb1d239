using Umcg.Abi;

namespace Umcg.Scheduling;

/// <summary>
/// The kernel half refused an operation of the calling worker: the protocol was broken (a scribbled control
/// block, a server that is gone, a call from the wrong thread). The worker is no longer scheduled; every
/// other worker keeps running.
/// </summary>
public sealed class UmcgProtocolException : Exception
{
    /// <summary>Creates the exception for <paramref name="error"/> returned by <paramref name="operation"/>.</summary>
    public UmcgProtocolException(string operation, Errno error, string? detail = null)
        : base($"UMCG {operation} failed with {error}{(detail is null ? "." : $": {detail}")}")
    {
        Operation = operation;
        Error = error;
    }

    /// <summary>Creates the exception with a message.</summary>
    public UmcgProtocolException(string message)
        : base(message)
    {
        Operation = "";
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    public UmcgProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
        Operation = "";
    }

    /// <summary>Creates the exception.</summary>
    public UmcgProtocolException()
        : this("UMCG protocol error")
    {
    }

    /// <summary>The kernel-half call that failed.</summary>
    public string Operation { get; }

    /// <summary>The errno it returned.</summary>
    public Errno Error { get; }

    internal static void ThrowIfFailed(Errno error, string operation)
    {
        if (error != Errno.Ok)
        {
            throw new UmcgProtocolException(operation, error, Kernel.UmcgKernel.LastKillReason);
        }
    }
}
