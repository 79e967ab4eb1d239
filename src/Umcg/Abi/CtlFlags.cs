namespace Umcg.Abi;

/// <summary>Flags of <c>Ctl</c> (<c>enum umcg_ctl_flag</c>).</summary>
[Flags]
public enum CtlFlags : uint
{
    /// <summary>No flag (invalid on its own).</summary>
    None = 0,

    /// <summary>Register the calling thread as a UMCG task.</summary>
    Register = 0x0_0001,

    /// <summary>Unregister the calling thread.</summary>
    Unregister = 0x0_0002,

    /// <summary>With Register/Unregister: the task is a worker (otherwise a server).</summary>
    Worker = 0x1_0000,
}
