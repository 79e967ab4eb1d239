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
                    // Off RUNNING first, by CAS: a server's adoption (K10) that found this worker before it is forgotten
                    // then fails its own CAS instead of leaving its record naming a dead thread. The release below
                    // then finds any record that did name it.
                    TakeOffRunning(task);
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

    /// <summary>A dead worker's word: RUNNING (in the foreground or the background) → NONE, keeping the user bits.</summary>
    private static unsafe void TakeOffRunning(KernelTask worker)
    {
        uint old = Volatile.Read(ref *worker.StateWord);
        while ((old & UmcgConstants.StateMask) == (uint)TaskState.Running)
        {
            uint seen = Interlocked.CompareExchange(ref *worker.StateWord, (old & UmcgConstants.UserMask) | (uint)TaskState.None, old);
            if (seen == old)
            {
                Volatile.Write(ref worker.BackgroundMark, 0);
                return;
            }

            old = seen;
        }
    }
}
