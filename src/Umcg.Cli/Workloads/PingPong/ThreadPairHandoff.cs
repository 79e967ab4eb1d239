using Umcg.Cli.Measurement;
using Umcg.Kernel.Native;

namespace Umcg.Cli.Workloads.PingPong;

/// <summary>
/// A baseline: a ping thread and a pong thread, both pinned to the same CPU, taking turns through one
/// synchronisation primitive. A round trip is ping signals pong, pong signals ping.
/// </summary>
internal abstract class ThreadPairHandoff : Handoff
{
    private volatile bool _stop;
    private long _answered;

    protected bool Stopping => _stop;

    public override long Run(int cpu, int servers, TimeSpan duration, LatencyRecorder latency)
    {
        long count = 0;
        Exception? error = null;
        var pong = Start("pong", cpu, () =>
        {
            while (true)
            {
                WaitForPing();
                if (_stop)
                {
                    return;
                }

                _answered++;
                AnswerPing();
            }
        }, e => error ??= e);
        var ping = Start("ping", cpu, () =>
        {
            count = TimeRoundTrips(RoundTrip, duration, latency);
            _stop = true;
            ReleasePong();
        }, e => error ??= e);
        Join(ping, duration);
        Join(pong);
        if (error is not null)
        {
            throw new InvalidOperationException($"{Name} failed: {error.Message}", error);
        }

        if (_answered != count + WarmUp)
        {
            throw new InvalidOperationException($"{Name}: {count + WarmUp} round trips made, {_answered} answered");
        }

        return count;
    }

    /// <summary>On the ping thread: signal pong and wait for its answer.</summary>
    protected abstract void RoundTrip();

    /// <summary>On the pong thread: wait until pinged (or released to stop).</summary>
    protected abstract void WaitForPing();

    /// <summary>On the pong thread: answer the ping.</summary>
    protected abstract void AnswerPing();

    /// <summary>On the ping thread, after <see cref="Stopping"/> is set: wake pong so that it sees it.</summary>
    protected abstract void ReleasePong();

    private Thread Start(string role, int cpu, Action body, Action<Exception> fail)
    {
        var thread = new Thread(() =>
        {
            try
            {
                if (LinuxSyscalls.PinToCpu(0, cpu) is int err and not 0)
                {
                    throw new InvalidOperationException($"pinning to CPU {cpu} failed: errno {err}");
                }

                body();
            }
#pragma warning disable CA1031 // reported by Run on the caller's thread
            catch (Exception e)
            {
                fail(e);
                _stop = true;
            }
#pragma warning restore CA1031
        })
        { IsBackground = true, Name = $"umcg-cli {Name} {role}" };
        thread.Start();
        return thread;
    }
}
