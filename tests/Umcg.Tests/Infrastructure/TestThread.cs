namespace Umcg.Tests.Infrastructure;

/// <summary>A dedicated background thread for a test's own task (a raw server, a preempter), its failures collected.</summary>
public static class TestThread
{
    public static Thread Start(string name, Action body, ConcurrentQueue<Exception> errors)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(errors);
        var thread = new Thread(() =>
        {
            try
            {
                body();
            }
            catch (Exception e)
            {
                errors.Enqueue(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        return thread;
    }
}
