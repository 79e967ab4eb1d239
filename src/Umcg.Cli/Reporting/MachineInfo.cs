using System.Runtime.InteropServices;
using System.Text.Json.Nodes;

namespace Umcg.Cli.Reporting;

/// <summary>What machine a run was on, for reports.</summary>
internal static class MachineInfo
{
    public static JsonObject Describe(int servers) => new()
    {
        ["cpus"] = Environment.ProcessorCount,
        ["servers"] = servers,
        ["cpu_model"] = CpuModel(),
        ["kernel"] = RuntimeInformation.OSDescription,
        ["runtime"] = RuntimeInformation.FrameworkDescription,
        ["date_utc"] = DateTime.UtcNow.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    };

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
