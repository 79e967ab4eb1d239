using System.Threading.Channels;

namespace Umcg.Benchmarks.Threading;

/// <summary>
/// Channel ping-pong latency: one side sends a number, the other sends it back; figures are per round trip.
/// </summary>
/// <remarks>
/// Rows: <see cref="ChannelsOnThreads"/> (System.Threading.Channels between two plain threads that wait
/// synchronously, the baseline), <see cref="ChannelsAsync"/> (the same channels used the idiomatic way, two
/// async loops on the thread pool), and <see cref="UmcgChannelSameServer"/> / <see cref="UmcgChannelTwoServers"/>
/// (UmcgChannel between two workers of one scheduler, both on server 0, or one on each server), and
/// <see cref="UmcgChannelSameServerRunNext"/> (one server, <see cref="ReceiverHandOff.RunNext"/>). Both sides are
/// created in setup; one invocation is <see cref="RoundTrips"/> round trips, each answer is checked.
/// </remarks>
[ThreadingJob]
public class ChannelPingPongBenchmarks
{
    /// <summary>Round trips per invocation.</summary>
    public const int RoundTrips = 2_000;

    private UmcgScheduler? _scheduler;
    private Crew? _pinger;
    private UmcgChannel<int>? _ping;
    private UmcgChannel<int>? _pong;
    private WorkerHandle? _ponger;
    private Channel<int>? _bclPing;
    private Channel<int>? _bclPong;
    private Thread? _bclPonger;
    private Task? _asyncPonger;

    [GlobalSetup(Target = nameof(ChannelsOnThreads))]
    public void SetUpThreads()
    {
        NewBclChannels();
        _bclPonger = new Thread(() =>
        {
            while (TryReadBlocking(_bclPing!.Reader, out int x))
            {
                _bclPong!.Writer.TryWrite(x);
            }
        })
        { IsBackground = true };
        _bclPonger.Start();
        _pinger = new ThreadCrew(1, _ => PingBcl());
    }

    [GlobalSetup(Target = nameof(ChannelsAsync))]
    public void SetUpAsync()
    {
        NewBclChannels();
        _asyncPonger = Task.Run(async () =>
        {
            await foreach (int x in _bclPing!.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await _bclPong!.Writer.WriteAsync(x).ConfigureAwait(false);
            }
        });
    }

    [GlobalSetup(Target = nameof(UmcgChannelSameServer))]
    public void SetUpSameServer() => SetUpUmcg(pongServer: 0);

    [GlobalSetup(Target = nameof(UmcgChannelSameServerRunNext))]
    public void SetUpSameServerRunNext() => SetUpUmcg(pongServer: 0, ReceiverHandOff.RunNext);

    [GlobalSetup(Target = nameof(UmcgChannelTwoServers))]
    public void SetUpTwoServers() => SetUpUmcg(pongServer: 1);

    /// <summary>System.Threading.Channels, two plain threads waiting synchronously.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips)]
    public void ChannelsOnThreads() => _pinger!.RunRound();

    /// <summary>System.Threading.Channels, two async loops on the thread pool.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void ChannelsAsync() => PingAsync().GetAwaiter().GetResult();

    /// <summary>UmcgChannel, both workers on one server: each send switches straight to the waiting receiver.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void UmcgChannelSameServer() => _pinger!.RunRound();

    /// <summary>UmcgChannel with <see cref="ReceiverHandOff.RunNext"/>, both workers on one server: the switch to the receiver comes at the sender's next wait.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void UmcgChannelSameServerRunNext() => _pinger!.RunRound();

    /// <summary>UmcgChannel, the two workers on different servers: each send wakes the other server's worker.</summary>
    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public void UmcgChannelTwoServers() => _pinger!.RunRound();

    [GlobalCleanup]
    public void CleanUp()
    {
        _ping?.Complete();
        _bclPing?.Writer.Complete();
        _pinger?.Dispose();
        _bclPonger?.Join();
        _asyncPonger?.Wait(TimeSpan.FromSeconds(30));
        _ponger?.Completion.Wait(TimeSpan.FromSeconds(30));
        _scheduler?.Dispose();
    }

    private static bool TryReadBlocking(ChannelReader<int> reader, out int item)
    {
        while (!reader.TryRead(out item))
        {
            var ready = reader.WaitToReadAsync();
            if (!(ready.IsCompleted ? ready.Result : ready.AsTask().GetAwaiter().GetResult()))
            {
                return false;
            }
        }

        return true;
    }

    private void NewBclChannels()
    {
        var options = new UnboundedChannelOptions { SingleReader = true, SingleWriter = true };
        _bclPing = Channel.CreateUnbounded<int>(options);
        _bclPong = Channel.CreateUnbounded<int>(options);
    }

    private void SetUpUmcg(int pongServer, ReceiverHandOff handOff = ReceiverHandOff.SwitchNow)
    {
        _scheduler = new UmcgScheduler(new UmcgSchedulerOptions { Servers = 2, Name = "bench" });
        _ping = new UmcgChannel<int>(handOff);
        _pong = new UmcgChannel<int>(handOff);
        _ponger = _scheduler.Spawn(
            () =>
            {
                foreach (int x in _ping.ReceiveAll())
                {
                    _pong.Send(x);
                }
            },
            new WorkerOptions { ServerAffinity = pongServer });
        _pinger = new WorkerCrew(_scheduler, 1, _ => PingUmcg(), _ => 0);
    }

    private void PingUmcg()
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            _ping!.Send(i);
            Check(i, _pong!.Receive());
        }
    }

    private void PingBcl()
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            _bclPing!.Writer.TryWrite(i);
            TryReadBlocking(_bclPong!.Reader, out int answer);
            Check(i, answer);
        }
    }

    private async Task PingAsync()
    {
        for (int i = 0; i < RoundTrips; i++)
        {
            await _bclPing!.Writer.WriteAsync(i).ConfigureAwait(false);
            Check(i, await _bclPong!.Reader.ReadAsync().ConfigureAwait(false));
        }
    }

    private static void Check(int sent, int answer)
    {
        if (answer != sent)
        {
            throw new InvalidOperationException($"sent {sent}, got {answer} back");
        }
    }
}
