using BenchmarkDotNet.Running;
using Umcg.Benchmarks.Detection;

// "--detection [section]": the blocking-detection measurements (see Detection/DetectionReport.cs).
if (args is ["--detection", .. var detection])
{
    DetectionReport.Run(detection);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
