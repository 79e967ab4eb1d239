namespace Umcg.Tests.Infrastructure;

/// <summary>
/// Counts the assertion failures raised on each thread (xunit's exceptions, as they are thrown), so that a
/// fixture's Dispose can tell a test that failed from one that ended: cleanup that asserts would otherwise
/// replace the first failure with its own.
/// </summary>
internal static class TestFailures
{
    [ThreadStatic]
    private static int t_count;

    static TestFailures() => AppDomain.CurrentDomain.FirstChanceException += (_, e) =>
    {
        if (e.Exception is Xunit.Sdk.XunitException)
        {
            t_count++;
        }
    };

    /// <summary>Assertion failures raised on the calling thread so far.</summary>
    public static int OnThisThread => t_count;
}
