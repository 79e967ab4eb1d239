namespace Umcg.Cli.Measurement;

/// <summary>
/// A system whose tasks run only while they hold one of N servers (Umcg): which task the calling thread is,
/// and whether a task holds its server right now.
/// </summary>
internal interface IServerView
{
    /// <summary>The calling thread's task (its thread id), or 0 if it is not one of the system's tasks.</summary>
    int CurrentTask();

    /// <summary>Whether <paramref name="task"/> holds its server now (UMCG state RUNNING).</summary>
    bool HoldsServer(int task);
}
