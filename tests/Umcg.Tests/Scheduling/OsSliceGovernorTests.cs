namespace Umcg.Tests.Scheduling;

/// <summary>
/// The decision behind <see cref="OsTimeSliceMode.WhenContended"/>: the short slice from the first sample at or above
/// the threshold, the OS's own again after four samples in a row below half of it; one sampler per window.
/// </summary>
public sealed class OsSliceGovernorTests
{
    private const long Asked = 500_000;

    [Fact]
    public void An_adapting_governor_starts_with_the_OS_slice_asks_the_short_one_at_once_and_gives_it_up_after_four_quiet_samples()
    {
        var g = new OsSliceGovernor(Asked, cpus: 2, sample: _ => null);
        Assert.Equal(0.2, g.ContendedCpus, 6);
        Assert.Equal(0, g.CurrentNs);

        g.Decide(0.25);
        Assert.Equal(Asked, g.CurrentNs);

        // Three quiet samples, one in the middle band (it restarts the count), then four quiet ones.
        foreach (double others in new[] { 0.01, 0.02, 0.03, 0.15, 0.0, 0.0, 0.0 })
        {
            g.Decide(others);
            Assert.Equal(Asked, g.CurrentNs);
        }

        g.Decide(0.0);
        Assert.Equal(0, g.CurrentNs);
        Assert.Equal(2, g.Changes);

        // The middle band alone never changes the slice either way.
        g.Decide(0.15);
        Assert.Equal(0, g.CurrentNs);
        Assert.Equal(2, g.Changes);
    }

    [Theory]
    [InlineData(1, 0.1)]
    [InlineData(2, 0.2)]
    [InlineData(4, 0.4)]
    [InlineData(64, 0.5)]
    public void The_threshold_is_a_tenth_of_the_CPUs_and_at_most_half_a_CPU(int cpus, double threshold) =>
        Assert.Equal(threshold, new OsSliceGovernor(Asked, cpus, _ => null).ContendedCpus, 6);

    [Fact]
    public void Without_a_sample_or_a_slice_the_governor_is_fixed()
    {
        var fixedSlice = new OsSliceGovernor(Asked, 2, sample: null);
        var none = new OsSliceGovernor(0, 2, _ => 1.0);
        fixedSlice.Decide(0);
        none.Decide(1.0);
        Assert.Equal((false, Asked, false, 0L), (fixedSlice.Adapts, fixedSlice.CurrentNs, none.Adapts, none.CurrentNs));
        Assert.Equal((0L, 0L), (fixedSlice.Changes, none.Changes));
    }

    [Fact]
    public void One_sample_per_window_however_many_threads_ask_at_once()
    {
        int samples = 0;
        var g = new OsSliceGovernor(Asked, 2, _ =>
        {
            Interlocked.Increment(ref samples);
            return 1.0;
        });
        Assert.Equal(1, samples); // the baseline, at construction
        g.MaybeSample();
        Assert.Equal(1, samples); // not due yet

        // Once the window is due, eight threads ask at the same moment: one of them samples. (Were the eight calls to
        // straddle a whole further window, which takes 250 ms, a third sample would be right too.)
        long due = Environment.TickCount64 + OsSliceGovernor.SampleIntervalMs + 1;
        using var start = new Barrier(8);
        var threads = Enumerable.Range(0, 8).Select(_ => new Thread(() =>
        {
            start.SignalAndWait();
            while (Environment.TickCount64 < due)
            {
                Thread.SpinWait(100);
            }

            g.MaybeSample();
        })).ToArray();
        foreach (var t in threads)
        {
            t.Start();
        }

        Watchdog.Join(UmcgKernel.Default, threads);
        Assert.InRange(samples, 2, 3);
        Assert.Equal(Asked, g.CurrentNs);
    }
}
