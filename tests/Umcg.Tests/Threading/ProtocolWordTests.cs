namespace Umcg.Tests.Threading;

/// <summary>
/// The typed words of the scheduling layer (a worker's park word, a mutex's state word): their builders check
/// their ranges and invariants always, in Release too, and refuse a value no path may store as a bug.
/// </summary>
public sealed class ProtocolWordTests
{
    [Fact]
    public void A_park_word_puts_the_sequence_and_the_state_together_and_takes_them_apart()
    {
        var word = ParkWord.Of(41, WorkerThread.ParkState.Parked);
        Assert.Equal((41L << 8) | WorkerThread.ParkState.Parked, word.Raw);
        Assert.Equal(41, word.Sequence);
        Assert.Equal(WorkerThread.ParkState.Parked, word.State);
        Assert.Equal(WorkerThread.ParkState.Parked, WorkerThread.StateOf(word));

        var unparked = word.With(WorkerThread.ParkState.Unparked);
        Assert.Equal(41, unparked.Sequence);
        Assert.Equal(WorkerThread.ParkState.Unparked, unparked.State);

        var next = unparked.Begin(WorkerThread.ParkState.Parking);
        Assert.Equal(42, next.Sequence);
        Assert.Equal(WorkerThread.ParkState.Parking, next.State);
        Assert.Equal(next, new ParkWord(next.Raw));
    }

    [Theory]
    [InlineData(0, WorkerThread.ParkState.Last + 1)]
    [InlineData(0, -1)]
    [InlineData(0, 0x100)]
    [InlineData(-1, WorkerThread.ParkState.Running)]
    [InlineData(long.MaxValue, WorkerThread.ParkState.Running)]
    public void A_park_word_out_of_range_is_a_bug(long sequence, int state)
    {
        Assert.Throws<ProtocolBugException>(() => ParkWord.Of(sequence, state));
    }

    [Fact]
    public void A_park_state_out_of_range_is_a_bug_in_every_builder()
    {
        var word = ParkWord.Of(3, WorkerThread.ParkState.Parking);
        Assert.Throws<ProtocolBugException>(() => word.With(WorkerThread.ParkState.Last + 1));
        Assert.Throws<ProtocolBugException>(() => word.Begin(WorkerThread.ParkState.Last + 1));
    }

    [Theory]
    [InlineData(MutexState.Free, MutexState.Locked, 0, MutexState.Held)]
    [InlineData(MutexState.Held, MutexState.Waiters, 0, MutexState.Contended)]
    [InlineData(MutexState.Contended | MutexState.Woken, MutexState.Starving, MutexState.Woken, MutexState.Contended | MutexState.Starving)]
    [InlineData(MutexState.Contended | MutexState.Starving, 0, MutexState.Locked | MutexState.Starving, MutexState.Waiters)]
    public void A_mutex_state_sets_and_clears_bits(int from, int set, int clear, int expected)
    {
        var state = new MutexState(from).With(set, clear);
        Assert.Equal(expected, state.Bits);
        Assert.Equal((expected & MutexState.Locked) != 0, state.IsLocked);
        Assert.Equal((expected & MutexState.Waiters) != 0, state.HasWaiters);
        Assert.Equal((expected & MutexState.Woken) != 0, state.IsWoken);
        Assert.Equal((expected & MutexState.Starving) != 0, state.IsStarving);
    }

    [Theory]
    [InlineData(MutexState.Free, MutexState.Starving, 0)]                                     // starving, not held
    [InlineData(MutexState.Contended | MutexState.Starving, 0, MutexState.Locked)]             // release in starvation mode
    [InlineData(MutexState.Contended | MutexState.Woken, MutexState.Starving, 0)]              // starving while a waiter is woken
    [InlineData(MutexState.Contended | MutexState.Starving, MutexState.Woken, 0)]              // waking a waiter in starvation mode
    public void A_mutex_state_that_breaks_starvation_mode_is_a_bug(int from, int set, int clear)
    {
        Assert.Throws<ProtocolBugException>(() => new MutexState(from).With(set, clear));
    }
}
