using Spectre.Console;

namespace Umcg.Cli.Commands;

/// <summary>Range checks of option values, each naming the option and the value it refused; null when the value is fine.</summary>
internal static class Check
{
    /// <summary>What is wrong when an option at the end of the command line has no value.</summary>
    public const string NoValue = "The last option has no value.";

    /// <summary>Refuses a text option that was named without its value (see <see cref="CliApp.MissingValue"/>).</summary>
    public static ValidationResult? Given(string option, string? value) =>
        value == CliApp.MissingValue ? ValidationResult.Error($"Option '{option}' needs a value.") : null;

    public static ValidationResult? Positive(string option, double? value) =>
        value is not double d || (d > 0 && double.IsFinite(d)) ? null : Refuse(option, "a positive number", d);

    public static ValidationResult? Positive(string option, int? value) =>
        value is not int n || n > 0 ? null : Refuse(option, "a positive whole number", n);

    public static ValidationResult? NotNegative(string option, double value) =>
        value >= 0 && double.IsFinite(value) ? null : Refuse(option, "a number ≥ 0", value);

    /// <summary>An OS time slice in µs: 0 (the OS's own) or within what Linux accepts.</summary>
    public static ValidationResult? OsSlice(string option, double? us) =>
        us is not double d || d == 0 || (d >= UmcgSchedulerOptions.MinOsTimeSlice.TotalMicroseconds && d <= UmcgSchedulerOptions.MaxOsTimeSlice.TotalMicroseconds)
            ? null
            : Refuse(option, "0 or a number of µs from 100 to 100000", d);

    /// <summary>When the OS slice is asked: <c>contended</c> or <c>always</c> (absent: the default).</summary>
    public static ValidationResult? OsSliceMode(string option, string? mode) =>
        mode is null || ParseOsSliceMode(mode) is not null
            ? null
            : ValidationResult.Error($"Option '{option}' needs 'contended' or 'always', got '{mode}'.");

    /// <summary>The mode a <c>--os-slice-mode</c> value names; null if it names none.</summary>
    public static OsTimeSliceMode? ParseOsSliceMode(string mode) => mode.ToLowerInvariant() switch
    {
        "contended" => OsTimeSliceMode.WhenContended,
        "always" => OsTimeSliceMode.Always,
        _ => null,
    };

    public static ValidationResult Refuse(string option, string what, IFormattable value) =>
        ValidationResult.Error($"Option '{option}' needs {what}, got '{value.ToString(null, CultureInfo.InvariantCulture)}'.");
}
