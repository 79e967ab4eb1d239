using System.Text.Json.Serialization;

namespace Orders;

/// <summary>Source-generated JSON for the sample's types (no reflection on the hot path).</summary>
[JsonSerializable(typeof(List<Order>))]
[JsonSerializable(typeof(OrderSummary))]
[JsonSerializable(typeof(UmcgThreads))]
internal sealed partial class OrdersJson : JsonSerializerContext;
