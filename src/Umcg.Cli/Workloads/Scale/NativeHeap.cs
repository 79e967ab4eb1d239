using System.Runtime.InteropServices;

namespace Umcg.Cli.Workloads.Scale;

/// <summary>
/// Bytes the C allocator (glibc malloc, every arena) has handed out and not taken back: where the .NET runtime
/// keeps its own per-thread data (its thread object, dynamic TLS of its libraries). Read with <c>mallinfo2</c>;
/// null where the C library has none (not glibc, or older than 2.33).
/// </summary>
internal static partial class NativeHeap
{
    /// <summary>In-use bytes: chunks allocated from the arenas plus blocks mapped on their own.</summary>
    public static long? InUseBytes()
    {
        try
        {
            var info = Mallinfo2();
            return (long)(info.Uordblks + info.Hblkhd);
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return null;
        }
    }

    /// <summary>
    /// Gives the free memory of every arena back to the OS (<c>malloc_trim(0)</c>): what the threads of an earlier run
    /// left in the heap would otherwise stay resident, and a later run reusing it would grow RSS by less than the
    /// memory it holds. False where the C library has no such call.
    /// </summary>
    public static bool ReleaseFree()
    {
        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is EntryPointNotFoundException or DllNotFoundException)
        {
            return false;
        }
    }

    [LibraryImport("libc", EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);

    [LibraryImport("libc", EntryPoint = "mallinfo2")]
    private static partial MallInfo2 Mallinfo2();

    /// <summary>glibc's <c>struct mallinfo2</c>: ten size_t fields, in this order.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct MallInfo2
    {
        public nuint Arena;
        public nuint Ordblks;
        public nuint Smblks;
        public nuint Hblks;
        public nuint Hblkhd;
        public nuint Usmblks;
        public nuint Fsmblks;
        public nuint Uordblks;
        public nuint Fordblks;
        public nuint Keepcost;
    }
}
