namespace Umcg.Diagnostics;

/// <summary>
/// How the scheduler learned that a worker blocked: the value of the <see cref="UmcgMetrics.DetectorTag"/> tag
/// and of the events' <c>Detector</c> field.
/// </summary>
public static class BlockDetector
{
    /// <summary>The worker said so: a blocking region (<c>Worker.Blocking()</c>, through <c>UmcgKernel.SysEnter</c>).</summary>
    public const string Explicit = "explicit";

    /// <summary>A detector blocked a RUNNING worker on its behalf (<c>UmcgKernel.MarkBlocked</c>).</summary>
    public const string Detector = "detector";
}
