using Umcg.Cli;
using Umcg.Cli.Reporting;

namespace Umcg.Tests.Cli;

/// <summary>Runs the umcg tool in-process, without a terminal, and keeps what it printed.</summary>
internal static class CliHarness
{
    public static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var ui = new ConsoleUi(TextWriter.Synchronized(output), TextWriter.Synchronized(error), interactive: false);
        int code = CliApp.Run(args, ui);
        return (code, output.ToString(), error.ToString());
    }

    public static string TempFolder()
    {
        string path = Path.Combine(Path.GetTempPath(), $"umcg-cli-test-{Guid.NewGuid():N}");
        return path;
    }
}
