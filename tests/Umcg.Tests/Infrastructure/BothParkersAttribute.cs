using System.Reflection;
using Xunit.Sdk;

namespace Umcg.Tests.Infrastructure;

/// <summary>
/// Theory data: one row per parker implementation (<see cref="Parkers.Both"/>), the parker's name the method's one
/// argument. <c>[Theory, BothParkers]</c> says what <c>[Theory]</c> with
/// <c>[MemberData(nameof(Parkers.Both), MemberType = typeof(Parkers))]</c> says.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class BothParkersAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => Parkers.Both;
}
