namespace Umcg.Tests.Kernel;

/// <summary>
/// Threads whose TIDs name no task of a rig's kernel half although a thread has them: a plain thread of this
/// process and a server registered with another kernel half.
/// </summary>
internal sealed class Outsiders
{
    public Outsiders(Rig rig)
    {
        Plain = rig.NewParty("plain");
        Foreign = rig.ForeignServer();
    }

    /// <summary>A thread of this process that is not a UMCG task.</summary>
    public Party Plain { get; }

    /// <summary>A RUNNING server of another kernel half.</summary>
    public Party Foreign { get; }

    /// <summary>TIDs that are not tasks of the rig: one no thread can have, <see cref="Plain"/>, init's, <see cref="Foreign"/>.</summary>
    public int[] Tids => [Rig.NoSuchTid, Plain.Tid, 1, Foreign.Tid];

    /// <summary>Unregisters the foreign server and ends both threads.</summary>
    public void Leave(Rig rig)
    {
        rig.Stop(Foreign);
        rig.Retire(Plain);
    }
}
