using Umcg.Kernel.Parking;

namespace Umcg.Tests.Infrastructure;

/// <summary>Theory data: every kernel-half test runs once per parker implementation.</summary>
public static class Parkers
{
    public static TheoryData<string> Both => new() { "futex", "monitor" };

    /// <summary>A fresh kernel half (own task table) over the named parker.</summary>
    public static UmcgKernel NewKernel(string parker) => parker switch
    {
        "futex" => new UmcgKernel(FutexParker.Instance),
        "monitor" => new UmcgKernel(MonitorParker.Instance),
        _ => throw new ArgumentOutOfRangeException(nameof(parker), parker, "unknown parker"),
    };
}
