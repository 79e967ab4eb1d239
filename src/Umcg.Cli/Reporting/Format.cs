namespace Umcg.Cli.Reporting;

/// <summary>How figures are printed in tables: invariant culture, "—" for what does not apply.</summary>
internal static class Format
{
    public const string None = "—";

    public static string Num(double? v, string format = "0.00") =>
        v is double d && double.IsFinite(d) ? d.ToString(format, CultureInfo.InvariantCulture) : None;

    /// <summary>A count or rate with a k/M suffix.</summary>
    public static string Rate(double? v)
    {
        if (v is not double d || !double.IsFinite(d))
        {
            return None;
        }

        return Math.Abs(d) switch
        {
            >= 10e6 => (d / 1e6).ToString("0.0", CultureInfo.InvariantCulture) + "M",
            >= 10e3 => (d / 1e3).ToString("0.0", CultureInfo.InvariantCulture) + "k",
            >= 10 => d.ToString("0", CultureInfo.InvariantCulture),
            _ => d.ToString("0.00", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>Microseconds, three significant digits.</summary>
    public static string Us(double? v) => v switch
    {
        null => None,
        >= 1000 => Num(v, "0"),
        >= 100 => Num(v, "0.0"),
        _ => Num(v, "0.00"),
    };

    /// <summary>A ratio of <paramref name="value"/> to <paramref name="reference"/>, as "×1.23".</summary>
    public static string Ratio(double? value, double? reference) =>
        value is double v && reference is double r && r != 0 && double.IsFinite(v / r) ? "×" + (v / r).ToString(v / r >= 100 ? "0" : "0.00", CultureInfo.InvariantCulture) : None;
}
