using Microsoft.Extensions.Logging;
using Umcg.Scheduling;

namespace Umcg.Hosting;

/// <summary>Every message the hosted scheduler logs (source-generated: no formatting unless the level is on).</summary>
internal static partial class UmcgLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Umcg scheduler started: {Servers} servers, {Policy} policy, at most {MaxWorkers} worker threads, at most {MaxQueuedBodies} queued bodies, admission {Admission}, detection {Detection}.")]
    public static partial void Started(ILogger logger, int servers, string policy, string maxWorkers, string maxQueuedBodies, AdmissionMode admission, string detection);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Umcg blocking detection: {Diagnostic}")]
    public static partial void DetectorFallback(ILogger logger, string diagnostic);

    [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Umcg fault ({Source}) on server {Server}, worker {Worker}: an exception no handle carries.")]
    public static partial void Fault(ILogger logger, Exception exception, UmcgFaultSource source, string server, string worker);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Umcg scheduler draining: {WorkerThreads} worker threads busy, {QueuedBodies} bodies queued.")]
    public static partial void Draining(ILogger logger, int workerThreads, int queuedBodies);

    [LoggerMessage(EventId = 5, Level = LogLevel.Information, Message = "Umcg scheduler stopped: {Completed} bodies completed, {CanceledBeforeStart} canceled before they started, {Rejected} refused by admission.")]
    public static partial void Stopped(ILogger logger, long completed, long canceledBeforeStart, long rejected);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Umcg preemption by demotion: {Mode} ({Reason}).")]
    public static partial void Demotion(ILogger logger, string mode, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Umcg shutdown timeout reached with {WorkerThreads} worker threads still busy: queued bodies are canceled and running ones see the shutdown token; the host stops without waiting for them.")]
    public static partial void DrainTimedOut(ILogger logger, int workerThreads);
}
