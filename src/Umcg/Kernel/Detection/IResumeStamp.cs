namespace Umcg.Kernel.Detection;

/// <summary>
/// Where a watched worker keeps the time it last came back from a kernel-half call to run its own code (see
/// <see cref="BlockingDetector.AddWorker(int, Func{long})"/>). Read by the detector thread only. The scheduler's
/// worker threads are their own stamp, so registering one allocates no delegate.
/// </summary>
internal interface IResumeStamp
{
    /// <summary>On the worker's registered clock (ns).</summary>
    long ResumedAtNs { get; }
}
