namespace Umcg.Diagnostics;

/// <summary>A server a trace knows by name: one track of the exported trace.</summary>
/// <param name="Tid">The server thread's TID.</param>
/// <param name="Index">The server's index in its scheduler, or -1 when the trace only saw its TID.</param>
/// <param name="Cpu">The CPU it is pinned to, or -1.</param>
/// <param name="Name">The track's name.</param>
public readonly record struct TraceServer(int Tid, int Index, int Cpu, string Name);
