using Spectre.Console;

namespace Umcg.Cli.Reporting;

/// <summary>
/// Where the tool talks: results on <see cref="Out"/>, progress on <see cref="Error"/>. On a terminal progress is
/// a live Spectre.Console bar and tables are drawn by Spectre; otherwise (pipes, CI, tests) progress is a plain
/// line at most once a second and tables are aligned text.
/// </summary>
internal sealed class ConsoleUi
{
    private readonly IAnsiConsole? _progressConsole;
    private readonly IAnsiConsole? _outputConsole;

    public ConsoleUi(TextWriter output, TextWriter error, bool interactive)
    {
        Out = output;
        Error = error;
        if (interactive)
        {
            _progressConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            _outputConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        }
    }

    public TextWriter Out { get; }

    public TextWriter Error { get; }

    public bool Interactive => _progressConsole is not null;

    /// <summary>The process console: interactive when stdout and stderr are both a terminal.</summary>
    public static ConsoleUi ForProcess() => new(
        Console.Out,
        Console.Error,
        !Console.IsOutputRedirected && !Console.IsErrorRedirected && AnsiConsole.Profile.Capabilities.Interactive);

    /// <summary>Runs <paramref name="run"/> while showing its progress under <paramref name="label"/>.</summary>
    public T WithProgress<T>(string label, Func<IProgressSink, T> run)
    {
        if (_progressConsole is null)
        {
            Error.WriteLine($"{label} ...");
            return run(new PlainProgress(Error, label));
        }

        T result = default!;
        _progressConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(label), maxValue: 1);
                result = run(new SpectreProgress(task, label));
                task.Value = 1;
            });
        _progressConsole.MarkupLine($"[green]done[/] {Markup.Escape(label)}");
        return result;
    }

    public void Write(TextTable table)
    {
        if (_outputConsole is null)
        {
            Out.Write(table.ToPlainText());
            return;
        }

        var t = new Table().Border(TableBorder.Rounded);
        for (int i = 0; i < table.Headers.Count; i++)
        {
            var column = new TableColumn(Markup.Escape(table.Headers[i]));
            int c = i;
            bool figures = table.Rows.Count > 0 && table.Rows.All(r => c >= r.Length || TextTable.IsFigure(r[c]));
            t.AddColumn(figures ? column.RightAligned() : column);
        }

        foreach (var row in table.Rows)
        {
            t.AddRow(row.Select(Markup.Escape).ToArray());
        }

        _outputConsole.Write(t);
    }

    private sealed class PlainProgress(TextWriter error, string label) : IProgressSink
    {
        private long _lastSecond;

        public void Report(double fraction, string status)
        {
            long second = Environment.TickCount64 / 1000;
            if (Interlocked.Exchange(ref _lastSecond, second) == second)
            {
                return;
            }

            error.WriteLine($"  {label}: {Math.Clamp(fraction, 0, 1) * 100:0}%  {status}");
        }
    }

    private sealed class SpectreProgress(ProgressTask task, string label) : IProgressSink
    {
        public void Report(double fraction, string status)
        {
            task.Value = Math.Clamp(fraction, 0, 0.999);
            task.Description = Markup.Escape($"{label}  {status}");
        }
    }
}
