using Umcg.Kernel.Native;

namespace Umcg.Kernel.Detection;

/// <summary>
/// One worker thread's context-switch records: a perf ring mapped read-only, so the kernel overwrites the
/// oldest records instead of waiting for a reader, and written backward, so the newest record is at the
/// head. Nothing is ever consumed: a reader only looks at the newest two records, with plain loads and no
/// system call.
/// </summary>
/// <remarks>
/// Owned by the detector thread once created: only that thread reads and disposes it.
/// </remarks>
internal sealed unsafe class SwitchRing : IDisposable
{
    private const int PageSize = 4096;
    private const int DataHeadOffset = 1024; // perf_event_mmap_page.data_head
    private const uint RecordSwitch = 14;
    private const ushort MiscSwitchOut = 1 << 13;
    private const ushort MiscSwitchOutPreempt = 1 << 14;
    private const int HeaderSize = 8;
    private const int SampleIdSize = 16; // sample_id_all with TID and TIME: { u32 pid, tid; u64 time }

    private readonly int _fd;
    private readonly nint _map;
    private readonly nuint _mapLength;
    private readonly byte* _data;
    private readonly ulong _dataSize;
    private bool _disposed;

    private SwitchRing(int fd, nint map, nuint mapLength, int dataPages)
    {
        _fd = fd;
        _map = map;
        _mapLength = mapLength;
        _data = (byte*)map + PageSize;
        _dataSize = (ulong)dataPages * PageSize;
    }

    /// <summary>Opens and maps the ring of thread <paramref name="tid"/>.</summary>
    /// <param name="tid">The thread.</param>
    /// <param name="dataPages">Data pages (a power of two).</param>
    /// <param name="open">Opens the event: a descriptor or a negated errno (a test seam; null: perf_event_open).</param>
    /// <param name="ring">The ring, or null.</param>
    /// <param name="failedCall">The call that failed, for the diagnostic.</param>
    /// <returns>0, or the errno of the call that failed.</returns>
    public static int TryOpen(int tid, int dataPages, Func<int, int>? open, out SwitchRing? ring, out string failedCall)
    {
        ring = null;
        failedCall = "perf_event_open";
        uint dataBytes = (uint)dataPages * PageSize;
        int fd = open is null ? LinuxSyscalls.OpenSwitchEvent(tid, dataBytes) : open(tid);
        if (fd < 0)
        {
            return -fd;
        }

        failedCall = "mmap";
        nuint length = (nuint)(PageSize + dataBytes);
        nint map = LinuxSyscalls.MapReadOnly(fd, length, out int error);
        if (map == 0)
        {
            LinuxSyscalls.Close(fd);
            return error;
        }

        ring = new SwitchRing(fd, map, length, dataPages);
        return 0;
    }

    /// <summary>
    /// The newest record and, if the ring still holds it, the one before. False if nothing was recorded yet,
    /// or the kernel overwrote what was being read (try again on the next poll).
    /// </summary>
    public bool TryPeek(out SwitchRecord newest, out SwitchRecord? previous)
    {
        newest = default;
        previous = null;
        ObjectDisposedException.ThrowIf(_disposed, this);

        // data_head counts down from 0 (write_backward); the newest record starts at it. The acquire load
        // orders every read below after it, as the kernel publishes the head after writing the record.
        ulong* headWord = (ulong*)((byte*)_map + DataHeadOffset);
        ulong head = Volatile.Read(ref *headWord);
        ulong written = 0 - head;
        if (written == 0 || !TryReadRecord(head, Math.Min(written, _dataSize), out newest, out int newestSize))
        {
            return false;
        }

        ulong span = (ulong)newestSize;
        if (written >= span + HeaderSize && TryReadRecord(head + span, Math.Min(written, _dataSize) - span, out var older, out int olderSize))
        {
            previous = older;
            span += (ulong)olderSize;
        }

        // Seqlock-style check: whatever the kernel wrote since our first load went below the head, over the
        // oldest bytes; what we read is intact unless that reached it. The record loads are acquire loads, so
        // this load cannot move before them.
        ulong since = head - Volatile.Read(ref *headWord);
        return since + span <= _dataSize;
    }

    /// <summary>Reads the record at ring position <paramref name="position"/>, within <paramref name="available"/> bytes.</summary>
    private bool TryReadRecord(ulong position, ulong available, out SwitchRecord record, out int size)
    {
        record = default;
        ulong header = Load(position);
        uint type = (uint)header;
        ushort misc = (ushort)(header >> 32);
        size = (ushort)(header >> 48);
        if (size < HeaderSize || size % 8 != 0 || (ulong)size > available)
        {
            return false;
        }

        if (type != RecordSwitch || size < HeaderSize + SampleIdSize)
        {
            // Nothing else is requested; anything else means a torn read.
            return false;
        }

        long time = (long)Load(position + (ulong)size - 8);
        bool isOut = (misc & MiscSwitchOut) != 0;
        record = new SwitchRecord(isOut, isOut && (misc & MiscSwitchOutPreempt) != 0, time);
        return true;
    }

    // Records and the ring size are multiples of 8, so an aligned u64 never straddles the ring's end.
    private ulong Load(ulong position) => Volatile.Read(ref *(ulong*)(_data + (position & (_dataSize - 1))));

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        LinuxSyscalls.Unmap(_map, _mapLength);
        LinuxSyscalls.Close(_fd);
    }
}
