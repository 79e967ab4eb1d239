using System.Runtime.InteropServices;

namespace Umcg.Cli.Reporting;

/// <summary>What machine a run was on, for reports.</summary>
internal static class MachineInfo
{
    public static MachineRecord Describe(int servers) => new(
        Environment.ProcessorCount,
        servers,
        CpuModel(),
        RuntimeInformation.OSDescription,
        RuntimeInformation.FrameworkDescription,
        DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture));

    private static string CpuModel()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("model name", StringComparison.Ordinal))
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (IOException)
        {
        }

        return "unknown";
    }
}
