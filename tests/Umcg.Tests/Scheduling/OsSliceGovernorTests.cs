namespace Umcg.Tests.Scheduling;

/// <summary>
/// The decision behind <see cref="OsTimeSliceMode.WhenContended"/> (<see cref="MachineContention"/>): contended from the
/// start and from the first sample at or above the threshold, quiet after four samples in a row below half of it; a
/// thread of its own samples; the slice a scheduler asks follows it (<see cref="OsSliceGovernor"/>).
/// </summary>
public sealed class OsSliceGovernorTests
{
    private const long Asked = 500_000;

    [Fact]
    public void Contended_from_the_start_quiet_after_four_quiet_samples_and_contended_again_at_once()
    {
        var machine = new MachineContention(cpus: 2, _ => null);
        var g = new OsSliceGovernor(Asked, machine, shared: false);
        Assert.Equal(0.2, machine.ContendedCpus, 6);
        Assert.Equal(Asked, g.CurrentNs);

        // Three quiet samples, one in the middle band (it restarts the count), three quiet ones: still short.
        foreach (double others in new[] { 0.01, 0.02, 0.03, 0.15, 0.0, 0.0, 0.0 })
        {
            machine.Decide(others);
            Assert.Equal(Asked, g.CurrentNs);
        }

        machine.Decide(0.0);
        Assert.Equal(0, g.CurrentNs);

        // The middle band alone never changes the slice either way; one busy sample does.
        machine.Decide(0.15);
        Assert.Equal(0, g.CurrentNs);
        machine.Decide(0.25);
        Assert.Equal(Asked, g.CurrentNs);
        Assert.Equal(2, g.Changes);

        // A scheduler that starts now begins from what the machine is known to be, and counts only its own changes.
        machine.Decide(0.0);
        var later = new OsSliceGovernor(Asked, machine, shared: false);
        Assert.Equal((Asked, 0L), (later.CurrentNs, later.Changes));
    }

    [Theory]
    [InlineData(1, 0.1)]
    [InlineData(2, 0.2)]
    [InlineData(4, 0.4)]
    [InlineData(64, 0.5)]
    public void The_threshold_is_a_tenth_of_the_CPUs_and_at_most_half_a_CPU(int cpus, double threshold) =>
        Assert.Equal(threshold, new MachineContention(cpus, _ => null).ContendedCpus, 6);

    [Fact]
    public void Without_contention_to_follow_or_a_slice_to_ask_the_slice_is_fixed()
    {
        var machine = new MachineContention(2, _ => null);
        var fixedSlice = new OsSliceGovernor(Asked, contention: null, shared: false);
        var none = new OsSliceGovernor(0, machine, shared: false);
        for (int i = 0; i < MachineContention.QuietSamplesToRelax; i++)
        {
            machine.Decide(0);
        }

        Assert.Equal((false, Asked, false, 0L), (fixedSlice.Adapts, fixedSlice.CurrentNs, none.Adapts, none.CurrentNs));
        Assert.Equal((0L, 0L), (fixedSlice.Changes, none.Changes));
    }

    [Fact]
    public void A_thread_of_its_own_samples_with_no_thread_of_any_scheduler_running()
    {
        int samples = 0;
        var machine = new MachineContention(2, _ =>
        {
            Interlocked.Increment(ref samples);
            return 0.0;
        });
        Assert.Equal(1, samples); // the baseline, at construction
        machine.StartSampling();
        try
        {
            Watchdog.Until(() => !machine.Contended, UmcgKernel.Default, "four quiet samples taken by the sampling thread");
            Assert.True(Volatile.Read(ref samples) >= 1 + MachineContention.QuietSamplesToRelax);
        }
        finally
        {
            machine.StopSampling();
        }
    }

    [Fact]
    public void The_process_shares_one_contention_sampled_while_a_scheduler_holds_it()
    {
        var first = MachineContention.Acquire();
        var second = MachineContention.Acquire();
        Assert.Same(first, second);
        MachineContention.Release(second);
        MachineContention.Release(first);
        Assert.Same(first, MachineContention.Acquire()); // the state outlives its holders: the next scheduler starts from it
        MachineContention.Release(first);
    }
}
