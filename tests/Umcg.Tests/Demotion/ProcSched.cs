namespace Umcg.Tests.Demotion;

/// <summary>A thread's scheduling policy and nice, read from /proc: a source independent of the calls under test.</summary>
public static class ProcSched
{
    public const int Other = 0;
    public const int Idle = 5;

    public static (int Policy, int Nice) Read(int tid)
    {
        string stat = File.ReadAllText($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}/stat");

        // "tid (comm) S ...": after the last ')' field 3 (the state) is at index 0, so field n is at n - 3.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (int.Parse(fields[41 - 3], CultureInfo.InvariantCulture), int.Parse(fields[19 - 3], CultureInfo.InvariantCulture));
    }
}
