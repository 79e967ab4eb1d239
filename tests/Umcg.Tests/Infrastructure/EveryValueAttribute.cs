using System.Reflection;
using Xunit.Sdk;

namespace Umcg.Tests.Infrastructure;

/// <summary>Theory data: one row per named value of <typeparamref name="TEnum"/> (a mode, a hand-off), so a new value is covered without touching the test.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class EveryValueAttribute<TEnum> : DataAttribute
    where TEnum : struct, Enum
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => Enum.GetValues<TEnum>().Select(v => new object[] { v });
}
