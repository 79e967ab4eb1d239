using Umcg.Abi;

namespace Umcg.Kernel;

// Thread exit without unregister (the kernel's umcg_handle_exit).
public sealed partial class UmcgKernel
{
    /// <summary>
    /// Cleans up every task whose thread has ended without unregistering: the record leaves the table (its
    /// control block may be freed), and a worker's server is woken if the worker was running for it.
    /// Runs by itself on the exit watcher; callable directly.
    /// </summary>
    /// <returns>How many tasks were cleaned up.</returns>
    public int ReapExited()
    {
        int reaped = 0;
        List<KernelTask>? servers = null;
        using (BlockGrace.Enter())
        {
            foreach (var task in _tasks.Snapshot())
            {
                if (task.Thread.IsAlive || task.Gone)
                {
                    continue;
                }

                // A dead thread cannot be waiting on a runnable list (it would be asleep in Wait, not dead), so
                // only its server's record can still name it. A dead server's waiting workers are orphaned (Forget).
                if (task.IsWorker)
                {
                    ReleaseAndWakeServer(task);
                }

                if (Forget(task) && !task.IsWorker)
                {
                    (servers ??= []).Add(task);
                }

                reaped++;
            }
        }

        // A dead server's list is taken down as its unregister would (by the one reaper that forgot it).
        foreach (var server in servers ?? [])
        {
            DropListOf(server);
        }

        return reaped;
    }
}
