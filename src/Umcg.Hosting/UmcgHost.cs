using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Umcg.Scheduling;

namespace Umcg.Hosting;

/// <summary>
/// The scheduler of a host (a singleton, started with the host by <see cref="UmcgHostedService"/>), with the token
/// that tells running bodies the host stops waiting for them. Faults nobody else observes
/// (<see cref="UmcgScheduler.UnhandledException"/>) and the blocking detectors' fallbacks are logged.
/// </summary>
public sealed class UmcgHost
{
    // Canceled once, when the host's shutdown token fires while bodies still run (or the host is gone). Never
    // disposed: a body may still hold its token after the host has stopped waiting for it.
    private readonly CancellationTokenSource _shutdown = new();
    private readonly ILogger _logger;

    // How many of the detector's diagnostics are logged already; it only ever appends them.
    private int _diagnosticsLogged;

    /// <summary>Creates the scheduler from validated <paramref name="options"/> (its servers start now).</summary>
    /// <exception cref="OptionsValidationException">The settings break a rule of <see cref="OptionsValidation"/>; the message lists every one.</exception>
    public UmcgHost(IOptions<UmcgHostingOptions> options, ILogger<UmcgHost> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        _logger = logger;
        var settings = options.Value;
        PolicyName = settings.Customize is null ? settings.Policy.ToString() : $"{settings.Policy} (customized)";
        Scheduler = new UmcgScheduler(settings.ToSchedulerOptions());
        Scheduler.UnhandledException += (_, e) => UmcgLog.Fault(
            _logger, e.Exception, e.Source, e.ServerIndex?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-", e.Worker?.Name ?? e.Worker?.Tid.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-");
    }

    /// <summary>The scheduler (also registered as a singleton <see cref="UmcgScheduler"/>).</summary>
    public UmcgScheduler Scheduler { get; }

    /// <summary>
    /// Canceled when the host's shutdown token fires (<c>HostOptions.ShutdownTimeout</c> elapsed) while bodies still
    /// run: pass it, or a token linked to it, to <see cref="UmcgScheduler.Spawn(Action{CancellationToken}, CancellationToken, WorkerOptions?)"/>
    /// so that a long body stops when the host stops waiting. Cancellation is cooperative: a body sees it when it looks.
    /// </summary>
    public CancellationToken ShutdownToken => _shutdown.Token;

    /// <summary>Logs the detectors' fallbacks said since the last call (each once).</summary>
    internal void LogDetectorDiagnostics()
    {
        foreach (var message in Scheduler.Detection.Diagnostics.Skip(_diagnosticsLogged))
        {
            UmcgLog.DetectorFallback(_logger, message);
            _diagnosticsLogged++;
        }
    }

    /// <summary>The host stops waiting: running bodies see <see cref="ShutdownToken"/> canceled.</summary>
    internal void CancelRunningBodies() => _shutdown.Cancel();

    internal ILogger Logger => _logger;

    /// <summary>The policy the settings chose, for the start's log line (a customized one is not called to name it).</summary>
    internal string PolicyName { get; }
}
