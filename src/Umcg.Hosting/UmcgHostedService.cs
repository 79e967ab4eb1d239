using System.Globalization;
using Microsoft.Extensions.Hosting;

namespace Umcg.Hosting;

/// <summary>
/// Ties the scheduler's life to the host's: created and started when the host starts, drained when every other
/// hosted service has stopped (so work they hand over while stopping still runs), within the host's shutdown
/// token (<c>HostOptions.ShutdownTimeout</c>); when that token fires, bodies not started are canceled, running
/// ones see <see cref="UmcgHost.ShutdownToken"/> canceled, and the host goes on stopping without them.
/// </summary>
internal sealed class UmcgHostedService : IHostedLifecycleService
{
    private readonly UmcgHost _host;

    /// <summary>Takes the host's scheduler (created now: see <see cref="UmcgHost"/>).</summary>
    public UmcgHostedService(UmcgHost host)
    {
        ArgumentNullException.ThrowIfNull(host);
        _host = host;
    }

    /// <inheritdoc/>
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Logs the scheduler's shape and the detectors' fallbacks; the servers already run.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduler = _host.Scheduler;
        var options = scheduler.Options;
        UmcgLog.Started(
            _host.Logger,
            scheduler.ServerCount,
            _host.PolicyName,
            options.MaxWorkers?.ToString(CultureInfo.InvariantCulture) ?? "unbounded",
            options.MaxQueuedBodies?.ToString(CultureInfo.InvariantCulture) ?? "unbounded",
            options.Admission,
            scheduler.Detection.ActiveMode.ToString());
        UmcgLog.Demotion(_host.Logger, scheduler.DemotionMode.ToString(), scheduler.DemotionReason);
        _host.LogDetectorDiagnostics();
        return Task.CompletedTask;
    }

    /// <inheritdoc/>
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <inheritdoc/>
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Drains the scheduler after every hosted service's <c>StopAsync</c> (a web server has finished its requests or
    /// given up on them): waits for every body until <paramref name="cancellationToken"/> (the host's shutdown
    /// token) fires, then cancels what is left and returns.
    /// </summary>
    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        var scheduler = _host.Scheduler;
        UmcgLog.Draining(_host.Logger, scheduler.Stats.WorkerThreads, scheduler.Stats.QueuedBodies);

        // The scheduler cancels bodies not started once its own token fires; running ones only see ours. Its token
        // is not the host's: a token's callbacks run in an order of its own, and this method's continuation may run
        // inside them (the wait below completes inline) — before the scheduler's callback has, so that a body
        // queued behind one we cancel could start. Cancelling the scheduler's token here, first, orders the two.
        using var cancelUnstarted = new CancellationTokenSource();
        var drained = scheduler.ShutdownAsync(cancelUnstarted.Token);
        try
        {
            await drained.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await cancelUnstarted.CancelAsync().ConfigureAwait(false);
            _host.CancelRunningBodies();
            UmcgLog.DrainTimedOut(_host.Logger, scheduler.Stats.WorkerThreads);
        }

        _host.LogDetectorDiagnostics();
        UmcgLog.Stopped(_host.Logger, scheduler.Stats.Completed, scheduler.Stats.CanceledBeforeStart, scheduler.Stats.AdmissionRejections);
    }
}
