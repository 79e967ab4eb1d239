namespace Umcg.Diagnostics;

/// <summary>
/// One event as the recorder stores it: 32 bytes (two to a cache line), no references, written once by the
/// thread that claimed it.
/// </summary>
/// <remarks>
/// <see cref="Kind"/> is written last, with a release store, and is 0 until then: a reader that sees a kind
/// (with an acquire load) sees every other field of the slot; a slot claimed but not yet written reads as
/// empty and is skipped.
/// </remarks>
internal struct TraceSlot
{
    public long Timestamp;
    public int Tid;
    public int ServerTid;
    public int Other;
    public int NameId;
    public byte Kind;
    public byte From;
    public byte To;
}
