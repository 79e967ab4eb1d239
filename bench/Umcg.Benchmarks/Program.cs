using System.Globalization;
using BenchmarkDotNet.Running;
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

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
