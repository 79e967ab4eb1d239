namespace Umcg.Abi;

/// <summary>
/// The results of the kernel half: zero or one of the Linux errno values its calls can return.
/// The kernel half returns these as values and never throws.
/// </summary>
#pragma warning disable CA1008, CA1028 // Mirrors errno: Ok is 0, values are the Linux numbers.
public enum Errno
{
    /// <summary>Success.</summary>
    Ok = 0,

    /// <summary>No such task: the TID is not a UMCG task of this process (or not a server where one is needed).</summary>
    ESRCH = 3,

    /// <summary>The wait was interrupted.</summary>
    EINTR = 4,

    /// <summary>The state was not what the call needs (a concurrent change); try again.</summary>
    EAGAIN = 11,

    /// <summary>The control block is not memory the kernel half knows (never allocated, or already freed).</summary>
    EFAULT = 14,

    /// <summary>The task is busy (a server that still runs a worker cannot unregister).</summary>
    EBUSY = 16,

    /// <summary>Invalid argument: flags, alignment, clock, state or registration.</summary>
    EINVAL = 22,

    /// <summary>Out of range: a worker may not wait with a timeout at this layer.</summary>
    ERANGE = 34,

    /// <summary>The timeout expired.</summary>
    ETIMEDOUT = 110,
}
#pragma warning restore CA1008, CA1028
