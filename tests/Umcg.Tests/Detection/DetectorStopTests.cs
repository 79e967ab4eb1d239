namespace Umcg.Tests.Detection;

/// <summary>Stopping the detector thread: a stop that lands while the thread is between turns still ends it.</summary>
public sealed class DetectorStopTests
{
    [Fact]
    public void A_stop_that_comes_between_the_loops_check_and_its_read_of_the_wake_word_still_ends_the_thread()
    {
        // No worker is watched, so the thread sleeps on its wake word with no deadline. It is held at the top of a turn
        // until Dispose has set the stop flag and bumped the word: the word it then reads already holds that bump, and
        // only the flag, read after the word, tells it to leave instead of sleeping for a wake that has come and gone.
        var kernel = Parkers.NewKernel("futex");
        var detector = new BlockingDetector(kernel, new DetectionOptions { Mode = BlockingDetection.Monitor });
        Assert.Equal(BlockingDetection.Monitor, detector.ActiveMode);
        int armed = 0;
        int held = 0;
        detector.LoopTopForTests = () =>
        {
            if (Interlocked.Exchange(ref armed, 0) == 1)
            {
                uint before = detector.WakeWordForTests;
                Volatile.Write(ref held, 1);
                Watchdog.Until(() => detector.WakeWordForTests != before, kernel, "Dispose's wake");
            }
        };

        Volatile.Write(ref armed, 1);
        detector.WakeForTests();
        Watchdog.Until(() => Volatile.Read(ref held) == 1, kernel, "the detector thread at the top of a turn");
        var disposed = Task.Run(detector.Dispose);
        Watchdog.Wait(kernel, disposed, "the detector thread's end");
        Assert.True(disposed.IsCompletedSuccessfully);
    }
}
