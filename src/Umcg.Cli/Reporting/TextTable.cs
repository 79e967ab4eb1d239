using System.Text;

namespace Umcg.Cli.Reporting;

/// <summary>A table of text cells: written as aligned plain text, or handed to Spectre.Console on a terminal.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public IReadOnlyList<string> Headers { get; } = headers;

    public IReadOnlyList<string[]> Rows => _rows;

    public void Add(params string[] cells) => _rows.Add(cells);

    /// <summary>Columns padded to their widest cell: columns of figures right-aligned, the others left-aligned.</summary>
    public string ToPlainText()
    {
        int[] widths = new int[Headers.Count];
        foreach (var row in _rows.Prepend([.. Headers]))
        {
            for (int i = 0; i < widths.Length && i < row.Length; i++)
            {
                widths[i] = Math.Max(widths[i], row[i].Length);
            }
        }

        bool[] right = new bool[widths.Length];
        for (int i = 1; i < right.Length; i++)
        {
            right[i] = _rows.Count > 0 && _rows.All(r => i >= r.Length || IsFigure(r[i]));
        }

        var sb = new StringBuilder();
        Line(sb, [.. Headers], widths, right);
        sb.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in _rows)
        {
            Line(sb, row, widths, right);
        }

        return sb.ToString();
    }

    /// <summary>Numbers, ratios and dashes line up on the right; words on the left.</summary>
    public static bool IsFigure(string cell) => cell.Length > 0 && cell.All(c => char.IsDigit(c) || "×—.,-+kM%/ ()".Contains(c, StringComparison.Ordinal));

    private static void Line(StringBuilder sb, string[] cells, int[] widths, bool[] right)
    {
        for (int i = 0; i < widths.Length; i++)
        {
            string cell = i < cells.Length ? cells[i] : "";
            if (i > 0)
            {
                sb.Append("  ");
            }

            sb.Append(right[i] ? cell.PadLeft(widths[i]) : cell.PadRight(widths[i]));
        }

        while (sb.Length > 0 && sb[^1] == ' ')
        {
            sb.Length--;
        }

        sb.AppendLine();
    }
}
