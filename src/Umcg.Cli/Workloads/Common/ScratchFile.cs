using Microsoft.Win32.SafeHandles;

namespace Umcg.Cli.Workloads.Common;

/// <summary>A temporary file of random bytes that tasks read with pread(2) (RandomAccess.Read); deleted on dispose.</summary>
internal sealed class ScratchFile : IDisposable
{
    private readonly string _path;

    public ScratchFile(int bytes)
    {
        _path = Path.Combine(Path.GetTempPath(), $"umcg-cli-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        var data = new byte[bytes];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(_path, data);
        Handle = File.OpenHandle(_path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.RandomAccess);
        Length = bytes;
    }

    public SafeFileHandle Handle { get; }

    public int Length { get; }

    public void Dispose()
    {
        Handle.Dispose();
        File.Delete(_path);
    }
}
