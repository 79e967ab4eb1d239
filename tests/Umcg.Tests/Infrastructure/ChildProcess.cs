namespace Umcg.Tests.Infrastructure;

/// <summary>
/// Child processes for tests: the .NET host that runs this test, and a run to the end with both streams read while the
/// child runs (a full pipe would stop it) and the wait bounded by <see cref="Watchdog.Limit"/>.
/// </summary>
internal static class ChildProcess
{
    /// <summary>The .NET host running this test (<c>dotnet test</c> names it), else the one on PATH.</summary>
    public static string DotnetHost => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";

    /// <summary>What a child printed and how it ended.</summary>
    public readonly record struct Outcome(int Id, int ExitCode, string Out, string Err);

    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/> to its end. A child still running after
    /// <see cref="Watchdog.Limit"/> is killed with its descendants, and the test fails naming <paramref name="what"/>.
    /// </summary>
    public static Outcome Run(string file, IEnumerable<string> args, string what)
    {
        var start = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var child = Process.Start(start) ?? throw new InvalidOperationException($"{what} did not start");
        var stdout = child.StandardOutput.ReadToEndAsync();
        var stderr = child.StandardError.ReadToEndAsync();
        if (!child.WaitForExit(Watchdog.Limit))
        {
            child.Kill(entireProcessTree: true);
            Assert.Fail($"{what} did not exit within {Watchdog.Limit.TotalSeconds:0} s");
        }

        return new Outcome(child.Id, child.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }
}
