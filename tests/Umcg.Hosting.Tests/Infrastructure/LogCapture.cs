using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Umcg.Hosting.Tests.Infrastructure;

/// <summary>One logged entry.</summary>
public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception, IReadOnlyList<string> Scopes);

/// <summary>
/// A logger provider that keeps every entry with the logging scopes open when it was written (the host's scope
/// provider, so scopes follow the execution context), and lets a test await the first entry that matches.
/// </summary>
public sealed class LogCapture : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly ConcurrentQueue<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Found)> _waits = new();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

    /// <summary>Runs on the logging thread as each entry is written, before it is kept: a test can hold that thread there.</summary>
    public Action<LogEntry>? OnEntry { get; set; }

    /// <summary>The first entry, past or future, that <paramref name="match"/> accepts.</summary>
    public Task<LogEntry> WaitFor(Func<LogEntry, bool> match)
    {
        var found = new TaskCompletionSource<LogEntry>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waits.Enqueue((match, found));
        foreach (var entry in _entries)
        {
            if (match(entry))
            {
                found.TrySetResult(entry);
            }
        }

        return found.Task;
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    private void Add(LogEntry entry)
    {
        OnEntry?.Invoke(entry);
        _entries.Enqueue(entry);
        foreach (var (match, found) in _waits)
        {
            if (match(entry))
            {
                found.TrySetResult(entry);
            }
        }
    }

    private sealed class Logger(LogCapture capture, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => capture._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<string>();
            capture._scopes.ForEachScope((scope, list) => list.Add(scope?.ToString() ?? ""), scopes);
            capture.Add(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception, scopes));
        }
    }
}
