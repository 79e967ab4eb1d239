using Umcg.Kernel.Parking;

namespace Umcg.Tests.Parking;

/// <summary>
/// The portable parker's lock stripes: a wake-up pulses only the threads parked on the same stripe, so words
/// must spread over the stripes whatever their alignment (guarded blocks are page-aligned).
/// </summary>
public sealed unsafe class MonitorParkerTests
{
    private const int Words = 64;
    private const int PageSize = 4096;

    [Fact]
    public void Page_aligned_words_spread_over_the_stripes()
    {
        var stripes = new HashSet<int>();
        for (ulong page = 0; page < 256; page++)
        {
            stripes.Add(MonitorParker.StripeIndexOf((uint*)(0x7f00_0000_0000UL + (page * PageSize))));
        }

        // 256 pages over 64 stripes: a hash that spreads them leaves hardly any stripe unused.
        Assert.True(stripes.Count >= 56, $"page-aligned words use only {stripes.Count} of 64 stripes");
    }

    [Fact]
    public void Waking_one_of_many_parked_threads_on_guarded_blocks_wakes_few_others()
    {
        using var guard = BlockMemory.GuardFreedBlocks();
        var blocks = new UmcgTask*[Words];
        var guarded = new bool[Words];
        var returns = new int[Words];
        for (int i = 0; i < Words; i++)
        {
            blocks[i] = BlockMemory.Allocate(out guarded[i]);
        }

        Assert.All(guarded, Assert.True);
        // Its own stripes: the shared instance also carries the pulses of every other test using this parker.
        var parker = new MonitorParker();
        var threads = new Thread[Words];
        for (int i = 0; i < Words; i++)
        {
            int me = i;
            threads[i] = new Thread(() =>
            {
                uint* word = &blocks[me]->State;
                while (Volatile.Read(ref *word) == 0)
                {
                    parker.Park(word, 0, 0, ClockId.Monotonic);
                    Interlocked.Increment(ref returns[me]);
                }
            }) { IsBackground = true };
            threads[i].Start();
        }

        try
        {
            // Each thread is woken by its own word only after every thread still waiting sleeps again, so every
            // other return counted is a pulse meant for another word on the same stripe.
            for (int i = 0; i < Words; i++)
            {
                Watchdog.Until(() => threads.Skip(i).All(t => t.ThreadState.HasFlag(System.Threading.ThreadState.WaitSleepJoin)), UmcgKernel.Default, "threads parked");
                Volatile.Write(ref blocks[i]->State, 1);
                parker.Unpark(&blocks[i]->State);
                Watchdog.Join(UmcgKernel.Default, threads[i]);
            }

            int spurious = returns.Sum() - Words;

            // One stripe for all would wake every waiting thread at each wake: 64·63/2 = 2,016 spurious returns.
            Assert.True(spurious <= Words, $"{spurious} wake-ups of threads whose word had not changed");
        }
        finally
        {
            for (int i = 0; i < Words; i++)
            {
                Volatile.Write(ref blocks[i]->State, 1);
                parker.Unpark(&blocks[i]->State);
            }

            foreach (var t in threads)
            {
                t.Join();
            }

            for (int i = 0; i < Words; i++)
            {
                BlockMemory.Free(blocks[i], guarded[i]);
            }
        }
    }
}
