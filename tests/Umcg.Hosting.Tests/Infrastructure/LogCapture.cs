using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Umcg.Hosting.Tests.Infrastructure;

/// <summary>One logged entry.</summary>
public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>A logger provider that keeps every entry, and lets a test await the first entry that matches.</summary>
public sealed class LogCapture : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();
    private readonly ConcurrentQueue<(Func<LogEntry, bool> Match, TaskCompletionSource<LogEntry> Found)> _waits = new();

    public IReadOnlyCollection<LogEntry> Entries => _entries;

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

    private void Add(LogEntry entry)
    {
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
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            capture.Add(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
