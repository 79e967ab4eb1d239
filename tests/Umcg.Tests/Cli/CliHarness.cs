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
}

/// <summary>A fresh folder path under the temp directory for a command's output, deleted (with what is in it) on dispose.</summary>
internal sealed class ScratchFolder : IDisposable
{
    /// <summary>The folder's path; the folder itself exists only once something creates it.</summary>
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"umcg-cli-test-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(Path))
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
