namespace Orders;

/// <summary>How the service runs its synchronous handlers: the ways a .NET service can be compared.</summary>
public enum ServingMode
{
    /// <summary>On the request's thread-pool thread, as ASP.NET Core ships: blocking calls hold pool threads.</summary>
    Inline,

    /// <summary>As <see cref="Inline"/>, with <c>ThreadPool.SetMinThreads</c> raised to <see cref="OrdersSettings.MinThreads"/>, as .NET users tune it today.</summary>
    Tuned,

    /// <summary>On Umcg workers (<c>RunOnUmcg</c>), the query in a <c>Worker.Blocking()</c> region; the section <c>Umcg</c> sizes the scheduler.</summary>
    Umcg,
}

/// <summary>The sample's settings, from the configuration section <c>Orders</c> (<c>--Orders:Mode=Umcg</c> on the command line).</summary>
public sealed class OrdersSettings
{
    /// <summary>How handlers run. Default <see cref="ServingMode.Inline"/>.</summary>
    public ServingMode Mode { get; set; } = ServingMode.Inline;

    /// <summary>The thread pool's minimum worker and I/O threads in <see cref="ServingMode.Tuned"/>. Default 256.</summary>
    public int MinThreads { get; set; } = 256;

    /// <summary>SHA-256 rounds over the serialized orders: the handler's CPU after the query (about 300 µs at 200 on a current x64 core).</summary>
    public int HashRounds { get; set; } = 200;

    /// <summary>
    /// In <see cref="ServingMode.Umcg"/>, whether the query runs in a <c>Worker.Blocking()</c> region (the default) or
    /// bare, left to the blocking detector to notice (the "detector only" way the service benchmark compares).
    /// </summary>
    public bool Blocking { get; set; } = true;

    /// <summary>Create and fill the table at start when it is missing. Default true.</summary>
    public bool Seed { get; set; } = true;
}
