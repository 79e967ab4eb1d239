namespace Umcg.Tests.Kernel;

/// <summary>
/// The 64 bytes of some parties' control blocks, taken before a call that must change none of them: what a
/// conformance test's "nothing else changed" compares.
/// </summary>
internal sealed class BlockSnapshot
{
    private readonly (Party Party, byte[] Bytes)[] _taken;

    private BlockSnapshot(Party[] parties) => _taken = [.. parties.Select(p => (p, p.Bytes()))];

    /// <summary>Takes the blocks of <paramref name="parties"/> as they are now.</summary>
    public static BlockSnapshot Of(params Party[] parties) => new(parties);

    /// <summary>Asserts that every block still holds the bytes it held when the snapshot was taken.</summary>
    public void AssertUnchanged()
    {
        foreach (var (party, bytes) in _taken)
        {
            Assert.Equal(bytes, party.Bytes());
        }
    }
}
