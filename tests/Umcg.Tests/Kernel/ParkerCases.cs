namespace Umcg.Tests.Kernel;

/// <summary>
/// Theory data for kernel-half tests whose behaviour varies with one more value than the parker: every case
/// runs once under each parker (<see cref="Parkers.Both"/>).
/// </summary>
internal static class ParkerCases
{
    /// <summary>Each of <paramref name="cases"/> under each parker.</summary>
    public static TheoryData<string, T> Each<T>(params T[] cases)
    {
        var data = new TheoryData<string, T>();
        foreach (string parker in Parkers.Both)
        {
            foreach (var c in cases)
            {
                data.Add(parker, c);
            }
        }

        return data;
    }

    /// <summary>Each pair of <paramref name="cases"/> under each parker.</summary>
    public static TheoryData<string, T1, T2> Each<T1, T2>(params (T1, T2)[] cases)
    {
        var data = new TheoryData<string, T1, T2>();
        foreach (string parker in Parkers.Both)
        {
            foreach (var (first, second) in cases)
            {
                data.Add(parker, first, second);
            }
        }

        return data;
    }
}
