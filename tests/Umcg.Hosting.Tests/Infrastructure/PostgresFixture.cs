using System.Globalization;
using Xunit.Abstractions;

namespace Umcg.Hosting.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL server of its own for the tests that need one: <c>initdb</c> on a temporary directory, started with
/// <c>pg_ctl</c> on a Unix socket inside that directory (no TCP port, nothing shared with another server), stopped
/// and deleted at the end. PostgreSQL refuses to run as root, so as root it runs as the <c>postgres</c> user, which
/// owns the directory.
/// </summary>
/// <remarks>
/// Where PostgreSQL is not installed (Debian: <c>apt-get install postgresql</c>) the tests that need it pass without
/// running, saying so — except with <c>CI=true</c>, where they fail: xunit 2 cannot skip at run time, and a silent
/// pass in CI would hide a missing install.
/// </remarks>
public sealed class PostgresFixture : IDisposable
{
    private const int Port = 5432;
    private static readonly TimeSpan CommandLimit = TimeSpan.FromMinutes(2);

    private readonly string? _bin;
    private readonly DirectoryInfo? _directory;
    private readonly bool _asPostgresUser;

    public PostgresFixture()
    {
        _bin = FindBin();
        if (_bin is null)
        {
            Unavailable = "PostgreSQL's initdb and pg_ctl were not found (/usr/lib/postgresql/<version>/bin, or on PATH); on Debian: apt-get install -y postgresql.";
            return;
        }

        _asPostgresUser = Environment.UserName == "root";
        _directory = Directory.CreateTempSubdirectory("umcg-pg-");
        if (_asPostgresUser)
        {
            Run("chown", ["postgres:postgres", _directory.FullName], asPostgres: false);
        }

        Run(Path.Combine(_bin, "initdb"), ["-D", DataDirectory, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync"], _asPostgresUser);
        Run(
            Path.Combine(_bin, "pg_ctl"),
            ["-D", DataDirectory, "-l", Path.Combine(_directory.FullName, "server.log"), "-w", "-t", "120", "-o",
             string.Create(CultureInfo.InvariantCulture, $"-p {Port} -k {_directory.FullName} -c listen_addresses='' -c fsync=off -c max_connections=100"), "start"],
            _asPostgresUser);
        ConnectionString = $"Host={_directory.FullName};Port={Port};Username=postgres;Database=postgres;Maximum Pool Size=32";
    }

    /// <summary>A connection string to the server (over its Unix socket), or null when <see cref="Unavailable"/>.</summary>
    public string? ConnectionString { get; }

    /// <summary>Why there is no server, or null.</summary>
    public string? Unavailable { get; }

    private string DataDirectory => Path.Combine(_directory!.FullName, "data");

    /// <summary>
    /// True when the server runs. Otherwise: with <c>CI=true</c> the test fails naming what is missing; elsewhere it
    /// returns false and the test returns early (passing, with the reason in its output).
    /// </summary>
    public bool Require(ITestOutputHelper output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (Unavailable is null)
        {
            return true;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"CI=true and no PostgreSQL: {Unavailable}");
        }

        output.WriteLine($"Not run: {Unavailable}");
        return false;
    }

    public void Dispose()
    {
        if (_directory is null || _bin is null)
        {
            return;
        }

        try
        {
            Run(Path.Combine(_bin, "pg_ctl"), ["-D", DataDirectory, "-m", "immediate", "-w", "stop"], _asPostgresUser);
        }
        finally
        {
            _directory.Delete(recursive: true);
        }
    }

    /// <summary>The newest <c>/usr/lib/postgresql/&lt;version&gt;/bin</c> with <c>initdb</c>, else the directory of an <c>initdb</c> on PATH.</summary>
    private static string? FindBin()
    {
        const string debian = "/usr/lib/postgresql";
        if (Directory.Exists(debian))
        {
            var newest = Directory.GetDirectories(debian)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: int.TryParse(Path.GetFileName(d), NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v : -1))
                .Where(d => File.Exists(Path.Combine(d.Dir, "initdb")))
                .OrderByDescending(d => d.Version)
                .Select(d => d.Dir)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .FirstOrDefault(d => File.Exists(Path.Combine(d, "initdb")) && File.Exists(Path.Combine(d, "pg_ctl")));
    }

    /// <summary>Runs a command to its end (as the postgres user when asked), failing with its output if it fails or hangs.</summary>
    private static void Run(string program, string[] arguments, bool asPostgres)
    {
        var start = asPostgres
            ? new ProcessStartInfo("runuser", ["-u", "postgres", "--", program, .. arguments])
            : new ProcessStartInfo(program, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = "/";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(CommandLimit))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"'{program} {string.Join(' ', arguments)}' did not finish within {CommandLimit}.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"'{program} {string.Join(' ', arguments)}' failed with exit code {process.ExitCode}:{Environment.NewLine}{stdout.Result}{stderr.Result}");
        }
    }
}
