using System.Runtime.InteropServices;

namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// A sysctl raised for one run and put back: by <see cref="Dispose"/> (a <c>finally</c> covers failures), and, if
/// the process is stopped first, by a handler of SIGINT, SIGTERM and SIGQUIT (Ctrl-C, kill) and of process exit.
/// The restore happens once, whichever comes first. Only a crash that runs no handler (SIGKILL, a fatal runtime
/// error) leaves the raised value; the report names the old value so that it can be put back by hand.
/// </summary>
internal sealed class RaisedSysctl : IDisposable
{
    private readonly string _path;
    private readonly List<PosixSignalRegistration> _signals = [];
    private int _restored;

    private RaisedSysctl(string path, string original, long raisedTo)
    {
        _path = path;
        Original = original;
        RaisedTo = raisedTo;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            // The handler leaves the signal's own action (ending the process) to run after it.
            _signals.Add(PosixSignalRegistration.Create(signal, _ => Restore()));
        }
    }

    /// <summary>The value before the raise, as the file held it.</summary>
    public string Original { get; }

    /// <summary>The value written.</summary>
    public long RaisedTo { get; }

    /// <summary>Whether the original value has been written back.</summary>
    public bool Restored => Volatile.Read(ref _restored) != 0;

    /// <summary>
    /// Writes <paramref name="value"/> to the sysctl file at <paramref name="path"/> (e.g.
    /// <c>/proc/sys/vm/max_map_count</c>) if it holds less.
    /// </summary>
    /// <returns>The raise to dispose; null with <paramref name="refusal"/> null when the value was already high enough, or with the reason it could not be raised.</returns>
    public static RaisedSysctl? TryRaise(string path, long value, out string? refusal)
    {
        refusal = null;
        string original;
        try
        {
            original = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            refusal = $"cannot read {path}: {e.Message}";
            return null;
        }

        if (long.TryParse(original, NumberStyles.None, CultureInfo.InvariantCulture, out long current) && current >= value)
        {
            return null;
        }

        try
        {
            File.WriteAllText(path, value.ToString(CultureInfo.InvariantCulture));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            refusal = $"cannot write {path}: {e.Message}";
            return null;
        }

        return new RaisedSysctl(path, original, value);
    }

    /// <summary>Writes the original value back (once) and drops the handlers.</summary>
    public void Dispose()
    {
        Restore();
        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        foreach (var registration in _signals)
        {
            registration.Dispose();
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => Restore();

    /// <summary>Puts the original value back; the first caller wins (Dispose, a signal or process exit may race).</summary>
    private void Restore()
    {
        if (Interlocked.Exchange(ref _restored, 1) != 0)
        {
            return;
        }

        try
        {
            File.WriteAllText(_path, Original);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Nothing else to do on the way out: say what to put back.
            Console.Error.WriteLine($"umcg: could not restore {_path} to {Original}: {e.Message}");
        }
    }
}
