using Umcg.Kernel.Native;

namespace Umcg.Tests.Demotion;

/// <summary>A thread of this test that waits until disposed: a real OS thread whose priority the test changes and reads back.</summary>
public sealed class ParkedThread : IDisposable
{
    private readonly ManualResetEventSlim _release = new();
    private readonly Thread _thread;
    private int _tid;

    public ParkedThread(string name)
    {
        using var started = new ManualResetEventSlim();
        _thread = new Thread(() =>
        {
            Volatile.Write(ref _tid, LinuxSyscalls.Gettid());
            started.Set();
            _release.Wait();
        })
        { IsBackground = true, Name = name };
        _thread.Start();
        Assert.True(started.Wait(Watchdog.Limit), $"thread '{name}' did not start");
    }

    public int Tid => Volatile.Read(ref _tid);

    /// <summary>The thread's policy and nice as /proc/self/task/TID/stat shows them (fields 41 and 19).</summary>
    public (int Policy, int Nice) Kernel => ProcSched.Read(Tid);

    public void Dispose()
    {
        _release.Set();
        Assert.True(_thread.Join(Watchdog.Limit), $"thread '{_thread.Name}' did not finish");
        _release.Dispose();
    }
}
