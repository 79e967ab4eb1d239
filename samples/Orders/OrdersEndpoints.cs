using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Umcg.Scheduling;

namespace Orders;

/// <summary>What <c>GET /orders/{customer}</c> answers.</summary>
/// <param name="Customer">The customer asked for.</param>
/// <param name="Count">Its orders (20).</param>
/// <param name="Total">Their total amount.</param>
/// <param name="Digest">SHA-256 rounds over the serialized orders: the handler's CPU work.</param>
/// <param name="OnWorker">Whether the handler ran on a Umcg worker (true only in <see cref="ServingMode.Umcg"/>).</param>
public sealed record OrderSummary(int Customer, int Count, decimal Total, string Digest, bool OnWorker);

/// <summary>The handler: the same synchronous code in every <see cref="ServingMode"/>.</summary>
public static class OrdersEndpoints
{
    /// <summary>One customer's orders: a blocking query, then about 300 µs of CPU (JSON and SHA-256).</summary>
    public static OrderSummary Recent(int customer, NpgsqlDataSource db, OrdersSettings settings, CancellationToken token)
    {
        ArgumentNullException.ThrowIfNull(settings);

        // The request may have been aborted while it waited for a worker; a query already sent is not interrupted.
        token.ThrowIfCancellationRequested();
        List<Order> orders;

        // Off a worker (Inline, Tuned) the region does nothing; on one, the server runs another worker meanwhile.
        // Without it (Orders:Blocking=false) the blocking detector has to notice the worker asleep in the kernel.
        if (settings.Blocking)
        {
            using (Worker.Blocking())
            {
                orders = OrdersDatabase.RecentOrders(db, customer);
            }
        }
        else
        {
            orders = OrdersDatabase.RecentOrders(db, customer);
        }

        byte[] digest = JsonSerializer.SerializeToUtf8Bytes(orders, OrdersJson.Default.ListOrder);
        for (int i = 0; i < settings.HashRounds; i++)
        {
            digest = SHA256.HashData(digest);
        }

        return new OrderSummary(customer, orders.Count, orders.Sum(o => o.Amount), Convert.ToHexString(digest), Worker.IsWorker);
    }
}
