using System.Reflection;
using Xunit.Sdk;

namespace Umcg.Tests.Threading;

/// <summary>
/// Theory data for a primitive's caller that runs either on a worker or on a plain thread: the method's
/// <c>bool onWorker</c> argument is <see langword="true"/>, then <see langword="false"/>. The primitives serve
/// both kinds, and each behaviour is checked from both.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class OnWorkerAndPlainThreadAttribute : DataAttribute
{
    public override IEnumerable<object[]> GetData(MethodInfo testMethod) => [[true], [false]];
}
