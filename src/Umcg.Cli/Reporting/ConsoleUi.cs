using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Rendering;

namespace Umcg.Cli.Reporting;

/// <summary>
/// Where the tool talks: results on <see cref="Out"/>, progress on <see cref="Error"/>. On a terminal progress is
/// a live Spectre.Console bar and tables are drawn by Spectre; otherwise (pipes, CI, tests) progress is a plain
/// line at most once a second and tables are plain text without colour, wide enough not to wrap.
/// </summary>
internal sealed class ConsoleUi
{
    /// <summary>Columns of text a table may take where no terminal says how wide it is.</summary>
    private const int PlainWidth = 240;

    private readonly IAnsiConsole? _progressConsole;

    public ConsoleUi(TextWriter output, TextWriter error, bool interactive)
    {
        Out = output;
        Error = error;
        if (interactive)
        {
            _progressConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            OutConsole = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        }
        else
        {
            OutConsole = AnsiConsole.Create(new AnsiConsoleSettings
            {
                Ansi = AnsiSupport.No,
                ColorSystem = ColorSystemSupport.NoColors,
                Interactive = InteractionSupport.No,
                Out = new AnsiConsoleOutput(output),
            });
            OutConsole.Profile.Width = PlainWidth;
        }
    }

    public TextWriter Out { get; }

    /// <summary>The results side as a Spectre console: tables and the help text go there.</summary>
    public IAnsiConsole OutConsole { get; }

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

    /// <summary>The console a command was given (<see cref="CliApp"/> hands every command the same one).</summary>
    public static ConsoleUi Of(CommandContext context) => (ConsoleUi)context.Data!;

    /// <summary>A table with these column headers, taken as text (not markup).</summary>
    public static Table Table(params string[] headers)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string header in headers)
        {
            table.AddColumn(new TableColumn(new Text(header)));
        }

        return table;
    }

    /// <summary>Writes <paramref name="table"/>: boxed on a terminal, a Markdown table otherwise (logs, files, docs).</summary>
    public void Write(Table table) => OutConsole.Write(Interactive ? table : table.Border(TableBorder.Markdown));

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

/// <summary>Rows of plain text cells.</summary>
internal static class TableRows
{
    /// <summary>Adds a row of <paramref name="cells"/> taken as text: a '[' in a figure or a name is not markup.</summary>
    public static Table AddCells(this Table table, params IEnumerable<string> cells) =>
        table.AddRow(cells.Select(c => (IRenderable)new Text(c)));
}
