using System.Globalization;
using Umcg.Kernel.Detection;
using Umcg.Scheduling.Demotion;
using Umcg.Scheduling.Policies;

namespace Umcg.Scheduling;

/// <summary>
/// Every rule a <see cref="UmcgSchedulerOptions"/> or a <see cref="WorkerOptions"/> must satisfy, in one place: the
/// scheduler checks them before it starts a thread, and a host can check a configuration the same way before it
/// builds a scheduler. Each error names the setting, the rule and the value it saw.
/// </summary>
public static class OptionsValidation
{
    /// <summary>The smallest worker stack accepted (64 KiB): less cannot even run the runtime's own frames.</summary>
    public const int MinStackSize = 64 * 1024;

    /// <summary>The largest worker stack accepted (1 GiB): every worker thread maps its whole stack.</summary>
    public const int MaxStackSize = 1024 * 1024 * 1024;

    /// <summary>The most servers a scheduler runs (one OS thread each, normally one per CPU).</summary>
    public const int MaxServers = 4096;

    /// <summary>The errors of <paramref name="options"/>; empty if it is valid.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static IReadOnlyList<string> Validate(UmcgSchedulerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Servers is int servers && servers is < 1 or > MaxServers)
        {
            errors.Add(Error(nameof(options.Servers), $"must be between 1 and {MaxServers}, or null for one per CPU", servers));
        }

        if (options.Policy is null)
        {
            errors.Add(Error(nameof(options.Policy), "must be a factory of run-queue policies", "null"));
        }

        if (options.MaxIdleWorkers < 0)
        {
            errors.Add(Error(nameof(options.MaxIdleWorkers), "cannot be negative", options.MaxIdleWorkers));
        }

        if (options.MaxWorkers is int maxWorkers && maxWorkers < 1)
        {
            errors.Add(Error(nameof(options.MaxWorkers), "must be at least 1, or null for no bound", maxWorkers));
        }

        if (options.MaxQueuedBodies is int maxQueued)
        {
            if (maxQueued < 0)
            {
                errors.Add(Error(nameof(options.MaxQueuedBodies), "cannot be negative (null for no bound)", maxQueued));
            }

            if (options.MaxWorkers is null)
            {
                errors.Add(Error(nameof(options.MaxQueuedBodies), $"has no effect without {nameof(options.MaxWorkers)}: bodies wait only for a bounded number of worker threads", maxQueued));
            }
        }

        if (!Enum.IsDefined(options.Admission))
        {
            errors.Add(Error(nameof(options.Admission), $"must be one of {string.Join(", ", Enum.GetNames<AdmissionMode>())}", (int)options.Admission));
        }

        if (options.Name is null)
        {
            errors.Add(Error(nameof(options.Name), "must be a name prefix for the scheduler's threads", "null"));
        }

        if (options.OsTimeSlice is { } slice && (slice < UmcgSchedulerOptions.MinOsTimeSlice || slice > UmcgSchedulerOptions.MaxOsTimeSlice))
        {
            errors.Add(Error(nameof(options.OsTimeSlice), "must be null (the OS's own slice) or between 100 µs and 100 ms, the range Linux accepts", slice));
        }

        if (!Enum.IsDefined(options.OsTimeSliceMode))
        {
            errors.Add(Error(nameof(options.OsTimeSliceMode), $"must be one of {string.Join(", ", Enum.GetNames<OsTimeSliceMode>())}", (int)options.OsTimeSliceMode));
        }

        if (options.Detection is not { } detection)
        {
            errors.Add(Error(nameof(options.Detection), $"must be set (use {nameof(DetectionOptions)}.{nameof(DetectionOptions.Off)} for none)", "null"));
        }
        else if (!Enum.IsDefined(detection.Mode))
        {
            errors.Add(Error("Detection.Mode", $"must be one of {string.Join(", ", Enum.GetNames<BlockingDetection>())}", (int)detection.Mode));
        }
        else if (detection.Mode != BlockingDetection.None)
        {
            try
            {
                detection.Validate();
            }
            catch (ArgumentException e)
            {
                errors.Add($"{nameof(UmcgSchedulerOptions)}.Detection: {e.Message}");
            }
        }

        if (options.Demotion is not { } demotion)
        {
            errors.Add(Error(nameof(options.Demotion), $"must be set (use {nameof(DemotionOptions)}.{nameof(DemotionOptions.Off)} for none)", "null"));
        }
        else if (demotion.Enabled)
        {
            try
            {
                demotion.Validate();
            }
            catch (ArgumentException e)
            {
                errors.Add($"{nameof(UmcgSchedulerOptions)}.Demotion: {e.Message}");
            }
        }

        return errors;
    }

    /// <summary>The errors of <paramref name="options"/> for a scheduler with <paramref name="serverCount"/> servers; empty if it is valid.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="options"/> is null.</exception>
    public static IReadOnlyList<string> Validate(WorkerOptions options, int serverCount)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        foreach (var (name, index) in (ReadOnlySpan<(string, int?)>)[(nameof(options.ServerAffinity), options.ServerAffinity), (nameof(options.PreferredServer), options.PreferredServer)])
        {
            if (index is int s && (s < 0 || s >= serverCount))
            {
                errors.Add(WorkerError(name, $"must name one of the {serverCount} servers (0 to {serverCount - 1})", s));
            }
        }

        if (options.StackSize != 0 && options.StackSize is < MinStackSize or > MaxStackSize)
        {
            errors.Add(WorkerError(nameof(options.StackSize), $"must be 0 (the runtime default) or between {MinStackSize} and {MaxStackSize} bytes", options.StackSize));
        }

        if (options.Weight <= 0)
        {
            errors.Add(WorkerError(nameof(options.Weight), "must be positive", options.Weight));
        }

        return errors;
    }

    /// <summary>The errors of a policy's time slice; empty if it is valid (null, or positive).</summary>
    public static IReadOnlyList<string> ValidateTimeSlice(TimeSpan? timeSlice) =>
        timeSlice is { } slice && slice <= TimeSpan.Zero
            ? [$"timeSlice: must be positive, or null for none (was {slice})"]
            : [];

    /// <summary>Throws an <see cref="ArgumentException"/> listing every error of <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> breaks at least one rule.</exception>
    public static void ThrowIfInvalid(UmcgSchedulerOptions options) => ThrowIfAny(Validate(options), nameof(options));

    /// <summary>Throws an <see cref="ArgumentException"/> listing every error of <paramref name="options"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="options"/> breaks at least one rule.</exception>
    public static void ThrowIfInvalid(WorkerOptions options, int serverCount) => ThrowIfAny(Validate(options, serverCount), nameof(options));

    /// <summary>Throws an <see cref="ArgumentOutOfRangeException"/> for a time slice that is not positive.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="timeSlice"/> is zero or negative.</exception>
    public static void ThrowIfInvalidTimeSlice(TimeSpan? timeSlice)
    {
        if (ValidateTimeSlice(timeSlice) is [var error])
        {
            throw new ArgumentOutOfRangeException(nameof(timeSlice), timeSlice, error);
        }
    }

    /// <summary>Returns <paramref name="timeSlice"/> after <see cref="ThrowIfInvalidTimeSlice"/>: for policies' field initialisers.</summary>
    internal static TimeSpan? CheckedTimeSlice(TimeSpan? timeSlice)
    {
        ThrowIfInvalidTimeSlice(timeSlice);
        return timeSlice;
    }

    /// <summary>Creates one server's policy with <paramref name="options"/>' factory, refusing a null one.</summary>
    /// <exception cref="ArgumentException">The factory returned null.</exception>
    internal static IRunQueuePolicy CreatePolicy(UmcgSchedulerOptions options) =>
        options.Policy() ?? throw new ArgumentException(
            Error(nameof(options.Policy), "must return a policy for every server", "null"), nameof(options));

    private static void ThrowIfAny(IReadOnlyList<string> errors, string parameter)
    {
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(Environment.NewLine, errors), parameter);
        }
    }

    private static string Error(string setting, string rule, object value) =>
        string.Create(CultureInfo.InvariantCulture, $"{nameof(UmcgSchedulerOptions)}.{setting}: {rule} (was {value}).");

    private static string WorkerError(string setting, string rule, object value) =>
        string.Create(CultureInfo.InvariantCulture, $"{nameof(WorkerOptions)}.{setting}: {rule} (was {value}).");
}
