using Npgsql;

namespace Orders;

/// <summary>One order, as the handler returns it.</summary>
public sealed record Order(int Id, int Customer, decimal Amount, DateTime Placed);

/// <summary>
/// The table and the one query, through Npgsql's synchronous API: 100,000 orders of 5,000 customers (20 each), and
/// a query that waits 4 ms in the database (<c>pg_sleep(0.004)</c>) joined to one customer's 20 orders, so that the
/// time is spent waiting, not computing, on a machine whose cores the database shares.
/// </summary>
public static class OrdersDatabase
{
    public const int OrderCount = 100_000;

    public const int Customers = 5_000;

    /// <summary>Creates and fills the table if it is not there yet (idempotent; safe to call at every start).</summary>
    public static void EnsureSeeded(NpgsqlDataSource db)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var connection = db.OpenConnection();
        using (var create = new NpgsqlCommand(
            """
            CREATE TABLE IF NOT EXISTS orders (
                id       integer PRIMARY KEY,
                customer integer NOT NULL,
                amount   numeric(10, 2) NOT NULL,
                placed   timestamp NOT NULL);
            CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer);
            """,
            connection))
        {
            create.ExecuteNonQuery();
        }

        using var count = new NpgsqlCommand("SELECT count(*) FROM orders", connection);
        if ((long)count.ExecuteScalar()! > 0)
        {
            return;
        }

        using var fill = new NpgsqlCommand(
            $"""
            INSERT INTO orders (id, customer, amount, placed)
            SELECT i, i % {Customers}, (i % 997) + 0.99, timestamp '2026-01-01' + i * interval '1 minute'
            FROM generate_series(1, {OrderCount}) AS i;
            ANALYZE orders;
            """,
            connection);
        fill.ExecuteNonQuery();
    }

    /// <summary>The customer's orders, after 4 ms in the database: a synchronous round trip that blocks its thread.</summary>
    public static List<Order> RecentOrders(NpgsqlDataSource db, int customer)
    {
        ArgumentNullException.ThrowIfNull(db);
        using var command = db.CreateCommand(
            "SELECT o.id, o.customer, o.amount, o.placed FROM orders o CROSS JOIN pg_sleep(0.004) WHERE o.customer = $1 ORDER BY o.id");
        command.Parameters.AddWithValue(customer);
        using var reader = command.ExecuteReader();
        var orders = new List<Order>(20);
        while (reader.Read())
        {
            orders.Add(new Order(reader.GetInt32(0), reader.GetInt32(1), reader.GetDecimal(2), reader.GetDateTime(3)));
        }

        return orders;
    }
}
