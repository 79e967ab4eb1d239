namespace Umcg.Hosting.Tests.Infrastructure;

/// <summary>
/// Holds a body (or a handler) on its worker until released. Disposing it releases it too, so that a test that fails
/// while a body is held does not hang in the host's disposal, which waits for every body: declare its <c>using</c>
/// after the host's, so that it is disposed first.
/// </summary>
public sealed class Gate : IDisposable
{
    public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ManualResetEventSlim Release { get; } = new();

    /// <summary>Says it has entered, then waits for <see cref="Release"/> in a blocking region, as a database call would.</summary>
    public string Hold()
    {
        Entered.TrySetResult();
        using (Worker.Blocking())
        {
            Release.Wait();
        }

        return "released";
    }

    /// <summary>Releases the held body (never disposes the event: the body may still be waking on it).</summary>
    public void Dispose() => Release.Set();
}

/// <summary>Runs an action when disposed: a test's cleanup that must come before the host's disposal.</summary>
public sealed class OnDispose(Action action) : IDisposable
{
    public void Dispose() => action();
}
