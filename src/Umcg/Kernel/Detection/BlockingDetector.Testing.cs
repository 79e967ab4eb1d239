namespace Umcg.Kernel.Detection;

// Test hooks of the detector thread, kept apart from its loop.
public sealed unsafe partial class BlockingDetector
{
    /// <summary>Called on the detector thread at the top of every turn of its loop, before it reads its wake word.</summary>
    internal Action? LoopTopForTests { get; set; }

    /// <summary>The detector thread's TID, once it has started (0 before).</summary>
    internal int ThreadIdForTests => Volatile.Read(ref _threadIdForTests);

    private int _threadIdForTests;

    /// <summary>The wake word now: every <see cref="Wake"/> (a stop's included) bumps it.</summary>
    internal uint WakeWordForTests => Volatile.Read(ref *_wakeWord);

    /// <summary>Makes the detector thread take another turn of its loop.</summary>
    internal void WakeForTests()
    {
        lock (_lifecycle)
        {
            Wake();
        }
    }
}
