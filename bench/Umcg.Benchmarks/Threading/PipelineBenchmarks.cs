using System.Threading.Channels;

namespace Umcg.Benchmarks.Threading;

/// <summary>
/// Producer → consumer throughput through a bounded channel (capacity <see cref="Capacity"/>): figures are
/// per item.
/// </summary>
/// <remarks>
/// Rows: <see cref="ChannelsOnThreads"/> (a bounded System.Threading.Channels channel between two plain
/// threads waiting synchronously, the baseline), <see cref="ChannelsAsync"/> (the same, two async loops on the
/// thread pool), <see cref="UmcgChannelSameServer"/> and <see cref="UmcgChannelTwoServers"/> (a bounded
/// UmcgChannel between two workers on one server, or one on each), and <see cref="UmcgChannelSameServerRunNext"/>
/// (one server, <see cref="ReceiverHandOff.RunNext"/>). Both sides are created in setup; one
/// invocation moves <see cref="Items"/> items and the consumer checks their order and count.
/// </remarks>
[ThreadingJob]
public class PipelineBenchmarks
{
    /// <summary>Items per invocation.</summary>
    public const int Items = 50_000;

    /// <summary>The channel's capacity.</summary>
    public const int Capacity = 64;

    private UmcgScheduler? _scheduler;
    private Crew? _pair;
    private UmcgChannel<int>? _umcg;
    private Channel<int>? _bcl;

    [GlobalSetup(Target = nameof(ChannelsOnThreads))]
    public void SetUpThreads()
    {
        NewBclChannel();
        _pair = new ThreadCrew(2, side =>
        {
            if (side == 0)
            {
                ProduceBcl();
            }
            else
            {
                ConsumeBcl();
            }
        });
    }

    [GlobalSetup(Target = nameof(ChannelsAsync))]
    public void SetUpAsync() => NewBclChannel();

    [GlobalSetup(Target = nameof(UmcgChannelSameServer))]
    public void SetUpSameServer() => SetUpUmcg(consumerServer: 0);

    [GlobalSetup(Target = nameof(UmcgChannelSameServerRunNext))]
    public void SetUpSameServerRunNext() => SetUpUmcg(consumerServer: 0, ReceiverHandOff.RunNext);

    [GlobalSetup(Target = nameof(UmcgChannelTwoServers))]
    public void SetUpTwoServers() => SetUpUmcg(consumerServer: 1);

    /// <summary>Bounded System.Threading.Channels, two plain threads waiting synchronously.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public void ChannelsOnThreads() => _pair!.RunRound();

    /// <summary>Bounded System.Threading.Channels, two async loops on the thread pool.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public void ChannelsAsync() => Task.WhenAll(Task.Run(ProduceAsync), Task.Run(ConsumeAsync)).GetAwaiter().GetResult();

    /// <summary>Bounded UmcgChannel, producer and consumer workers on one server.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public void UmcgChannelSameServer() => _pair!.RunRound();

    /// <summary>Bounded UmcgChannel with <see cref="ReceiverHandOff.RunNext"/>, both workers on one server: the producer fills the channel before the consumer runs.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public void UmcgChannelSameServerRunNext() => _pair!.RunRound();

    /// <summary>Bounded UmcgChannel, producer and consumer workers on different servers.</summary>
    [Benchmark(OperationsPerInvoke = Items)]
    public void UmcgChannelTwoServers() => _pair!.RunRound();

    [GlobalCleanup]
    public void CleanUp()
    {
        _pair?.Dispose();
        _scheduler?.Dispose();
    }

    private static void Check(int expected, int item)
    {
        if (item != expected)
        {
            throw new InvalidOperationException($"expected item {expected}, got {item}");
        }
    }

    private void NewBclChannel() =>
        _bcl = Channel.CreateBounded<int>(new BoundedChannelOptions(Capacity) { SingleReader = true, SingleWriter = true });

    private void SetUpUmcg(int consumerServer, ReceiverHandOff handOff = ReceiverHandOff.SwitchNow)
    {
        _scheduler = new UmcgScheduler(new UmcgSchedulerOptions { Servers = 2, Name = "bench" });
        _umcg = new UmcgChannel<int>(Capacity, handOff);
        _pair = new WorkerCrew(
            _scheduler,
            2,
            side =>
            {
                if (side == 0)
                {
                    for (int i = 0; i < Items; i++)
                    {
                        _umcg.Send(i);
                    }
                }
                else
                {
                    for (int i = 0; i < Items; i++)
                    {
                        Check(i, _umcg.Receive());
                    }
                }
            },
            side => side == 0 ? 0 : consumerServer);
    }

    private void ProduceBcl()
    {
        var writer = _bcl!.Writer;
        for (int i = 0; i < Items; i++)
        {
            while (!writer.TryWrite(i))
            {
                var room = writer.WaitToWriteAsync();
                if (!room.IsCompleted)
                {
                    room.AsTask().GetAwaiter().GetResult();
                }
            }
        }
    }

    private void ConsumeBcl()
    {
        var reader = _bcl!.Reader;
        for (int i = 0; i < Items; i++)
        {
            int item;
            while (!reader.TryRead(out item))
            {
                var ready = reader.WaitToReadAsync();
                if (!ready.IsCompleted)
                {
                    ready.AsTask().GetAwaiter().GetResult();
                }
            }

            Check(i, item);
        }
    }

    private async Task ProduceAsync()
    {
        for (int i = 0; i < Items; i++)
        {
            await _bcl!.Writer.WriteAsync(i).ConfigureAwait(false);
        }
    }

    private async Task ConsumeAsync()
    {
        for (int i = 0; i < Items; i++)
        {
            Check(i, await _bcl!.Reader.ReadAsync().ConfigureAwait(false));
        }
    }
}
