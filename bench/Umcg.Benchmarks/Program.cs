using BenchmarkDotNet.Running;
using Umcg.Benchmarks.Detection;
using Umcg.Benchmarks.Handoff;

// "--interleaved [SameCpu|Unpinned] [rounds] [case,case...]": the handoff cases interleaved in one process
// (see InterleavedHandoff); anything else goes to BenchmarkDotNet.
if (args is ["--interleaved", .. var rest])
{
    var placement = rest.Length > 0 ? Enum.Parse<Placement>(rest[0], ignoreCase: true) : Placement.SameCpu;
    int rounds = rest.Length > 1 ? int.Parse(rest[1], CultureInfo.InvariantCulture) : 40;
    string[] cases = rest.Length > 2 ? rest[2].Split(',', StringSplitOptions.RemoveEmptyEntries) : [];
    InterleavedHandoff.Run(placement, rounds, cases);
    return;
}

// "--trace-overhead [rounds]": what tracing and metrics cost, interleaved (see TraceOverhead).
if (args is ["--trace-overhead", .. var more])
{
    Umcg.Benchmarks.Diagnostics.TraceOverhead.Run(more.Length > 0 ? int.Parse(more[0], CultureInfo.InvariantCulture) : 20);
    return;
}

// "--detection [section]": the blocking-detection measurements (see Detection/DetectionReport.cs).
if (args is ["--detection", .. var detection])
{
    DetectionReport.Run(detection);
    return;
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
