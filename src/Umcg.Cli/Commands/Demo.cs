using System.Globalization;
using Umcg.Abi;
using Umcg.Kernel;

namespace Umcg.Cli.Commands;

/// <summary>
/// A small built-in demo on the raw kernel-half API: one server runs three workers that each compute, block
/// in a real sleep (inside a blocking region) and yield; the server prints every switch it makes.
/// </summary>
internal static unsafe class Demo
{
    public static int Run(TextWriter output)
    {
        var kernel = UmcgKernel.Default;
        using var serverBlock = TaskBlock.Allocate();
        var serverReady = new ManualResetEventSlim();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int serverTid = 0;
        int finished = 0;
        const int Workers = 3;
        const int Rounds = 3;

        var server = new Thread(() =>
        {
            serverTid = UmcgKernel.CurrentTid;
            var self = serverBlock.Task;
            self->ServerTid = (uint)serverTid;
            self->State = (uint)TaskState.Running;
            Check(kernel.Ctl(CtlFlags.Register, self, ClockId.Monotonic), "server register");
            serverReady.Set();
            var queue = new Queue<int>();
            var drained = new List<int>();
            while (Volatile.Read(ref finished) < Workers || (Volatile.Read(ref self->NextTid) & UmcgConstants.TidRunning) != 0)
            {
                StateWord.PrepareWait(self);
                drained.Clear();
                Check(RunnableList.Drain(kernel, self, drained), "drain");
                for (int i = drained.Count - 1; i >= 0; i--)
                {
                    queue.Enqueue(drained[i]);
                }

                // Pick only when no worker runs for us and no earlier pick is still pending (a Wait that
                // returned EAGAIN because we were woken first leaves its pick in next_tid).
                if (Volatile.Read(ref self->NextTid) == 0 && queue.TryDequeue(out int next))
                {
                    log.Enqueue(string.Create(CultureInfo.InvariantCulture, $"server {serverTid}: run worker {next}"));
                    Volatile.Write(ref self->NextTid, (uint)next);
                }

                var r = kernel.Wait(0, KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(50)));
                if (r is not (Errno.Ok or Errno.ETIMEDOUT or Errno.EAGAIN))
                {
                    throw new InvalidOperationException($"server wait: {r}");
                }
            }

            Interlocked.Exchange(ref self->State, (uint)TaskState.Running);
            Check(kernel.Ctl(CtlFlags.Unregister, self, ClockId.Monotonic), "server unregister");
        })
        { Name = "demo server" };
        server.Start();
        serverReady.Wait();

        var workers = new Thread[Workers];
        for (int w = 0; w < Workers; w++)
        {
            int id = w;
            workers[w] = new Thread(() =>
            {
                using var block = TaskBlock.Allocate();
                var self = block.Task;
                self->ServerTid = (uint)serverTid;
                self->State = (uint)TaskState.Blocked;
                Check(kernel.Ctl(CtlFlags.Register | CtlFlags.Worker, self, ClockId.Monotonic), "worker register");
                int tid = UmcgKernel.CurrentTid;
                for (int round = 0; round < Rounds; round++)
                {
                    log.Enqueue(string.Create(CultureInfo.InvariantCulture, $"  worker {id} (tid {tid}): round {round}, blocking for 5 ms"));
                    Check(kernel.SysEnter(), "sys_enter");
                    Thread.Sleep(5);
                    Check(kernel.SysExit(), "sys_exit");
                    StateWord.PrepareWait(self);
                    Check(kernel.Wait(0, 0), "yield");
                }

                log.Enqueue(string.Create(CultureInfo.InvariantCulture, $"  worker {id} (tid {tid}): done"));
                Check(kernel.Ctl(CtlFlags.Unregister | CtlFlags.Worker, self, ClockId.Monotonic), "worker unregister");
                Interlocked.Increment(ref finished);
            })
            { Name = $"demo worker {id}" };
            workers[w].Start();
        }

        foreach (var t in workers)
        {
            t.Join();
        }

        server.Join();
        foreach (string line in log)
        {
            output.WriteLine(line);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Workers} workers x {Rounds} rounds ran on one server; every block handed the CPU back."));
        return 0;
    }

    private static void Check(Errno r, string what)
    {
        if (r != Errno.Ok)
        {
            throw new InvalidOperationException($"{what}: {r}");
        }
    }
}
