using System.Globalization;
using Microsoft.Extensions.Options;
using Umcg.Scheduling;

namespace Umcg.Hosting;

/// <summary>
/// Checks <see cref="UmcgHostingOptions"/> with the library's own rules (<see cref="OptionsValidation"/>), so that a
/// host refuses to start on settings the scheduler would refuse, naming every broken setting and its value.
/// </summary>
internal sealed class UmcgHostingOptionsValidator : IValidateOptions<UmcgHostingOptions>
{
    /// <inheritdoc/>
    public ValidateOptionsResult Validate(string? name, UmcgHostingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (!Enum.IsDefined(options.Policy))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"{nameof(UmcgHostingOptions)}.{nameof(options.Policy)}: must be one of {string.Join(", ", Enum.GetNames<UmcgPolicyKind>())} (was {(int)options.Policy})."));
        }

        errors.AddRange(OptionsValidation.ValidateTimeSlice(options.TimeSlice).Select(e => $"{nameof(UmcgHostingOptions)}.{e}"));
        UmcgSchedulerOptions scheduler;
        try
        {
            scheduler = options.ToSchedulerOptions();
        }
#pragma warning disable CA1031 // A customization that throws is a configuration error to report, with the others.
        catch (Exception e)
        {
            errors.Add($"{nameof(UmcgHostingOptions)}.{nameof(options.Customize)}: threw {e.GetType().Name}: {e.Message}");
            return ValidateOptionsResult.Fail(errors);
        }
#pragma warning restore CA1031

        if (scheduler is null)
        {
            errors.Add($"{nameof(UmcgHostingOptions)}.{nameof(options.Customize)}: must return the scheduler options (returned null).");
            return ValidateOptionsResult.Fail(errors);
        }

        errors.AddRange(OptionsValidation.Validate(scheduler));
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
