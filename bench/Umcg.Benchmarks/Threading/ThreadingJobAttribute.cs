using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using Perfolizer.Horology;
using BenchmarkDotNet.Jobs;

namespace Umcg.Benchmarks.Threading;

/// <summary>
/// The job every threading benchmark runs: short (one launch, 2 warm-ups, 8 iterations of 250 ms), with the
/// median and allocations. Short on purpose: the machine is small and shared, and the figures are read as
/// ratios to the BCL rows of the same class.
/// </summary>
[AttributeUsage(AttributeTargets.Class)]
internal sealed class ThreadingJobAttribute : Attribute, IConfigSource
{
    public IConfig Config { get; } = ManualConfig.CreateEmpty()
        .AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(8)
            .WithIterationTime(TimeInterval.FromMilliseconds(250))
            .WithId("Short"))
        .AddColumn(StatisticColumn.Median)
        .AddDiagnoser(MemoryDiagnoser.Default);
}
