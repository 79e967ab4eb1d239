namespace Umcg.Benchmarks.Detection;

/// <summary>How a worker of the utilization workload blocks, never announcing it.</summary>
internal enum BlockingKind
{
    /// <summary>No blocking at all: only compute and the safepoint. What a detector costs when there is nothing to detect.</summary>
    None,

    /// <summary>Thread.Sleep(2).</summary>
    Sleep,

    /// <summary>A <c>lock</c> shared by half the workers (across servers), held for two compute chunks.</summary>
    Lock,

    /// <summary>A synchronous read of a pipe that a feeder thread answers two to three milliseconds later.</summary>
    Pipe,

    /// <summary>A page fault on a freshly mapped range of a file just dropped from the page cache.</summary>
    PageFault,
}
