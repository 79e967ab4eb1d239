using Umcg.Kernel.Raw;

namespace Umcg.Cli.Commands;

/// <summary>
/// A small built-in demo on the raw kernel-half API: one server runs three workers that each compute, block
/// in a real sleep (inside a blocking region) and yield; the server prints every switch it makes.
/// </summary>
internal static class Demo
{
    public static int Run(TextWriter output)
    {
        var kernel = UmcgKernel.Default;
        var serverReady = new ManualResetEventSlim();
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        int serverTid = 0;
        int finished = 0;
        const int Workers = 3;
        const int Rounds = 3;

        var server = new Thread(() =>
        {
            using var self = RawTask.ForServer(kernel);
            serverTid = self.Tid;
            RawTask.Check(self.Register(), "server register");
            serverReady.Set();
            var queue = new Queue<int>();
            while (Volatile.Read(ref finished) < Workers || self.SlotHeld)
            {
                self.PrepareWait();
                RawTask.Check(self.DrainRunnable(), "drain");
                foreach (int tid in self.Drained)
                {
                    queue.Enqueue(tid);
                }

                // Pick only when no worker runs for us and no earlier pick is still pending (a Wait that
                // returned EAGAIN because we were woken first leaves its pick in next_tid).
                if (self.NextTid == 0 && queue.TryDequeue(out int next))
                {
                    log.Enqueue(string.Create(CultureInfo.InvariantCulture, $"server {serverTid}: run worker {next}"));
                    self.NextTid = (uint)next;
                }

                var r = self.Wait(KernelClock.DeadlineAfter(ClockId.Monotonic, TimeSpan.FromMilliseconds(50)));
                if (r is not (Errno.Ok or Errno.ETIMEDOUT or Errno.EAGAIN))
                {
                    throw new InvalidOperationException($"server wait: {r}");
                }
            }

            self.CancelWait();
            RawTask.Check(self.Unregister(), "server unregister");
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
                using var self = RawTask.ForWorker(kernel, serverTid);
                RawTask.Check(self.Register(), "worker register");
                for (int round = 0; round < Rounds; round++)
                {
                    log.Enqueue(string.Create(CultureInfo.InvariantCulture, $"  worker {id} (tid {self.Tid}): round {round}, blocking for 5 ms"));
                    RawTask.Check(kernel.SysEnter(), "sys_enter");
                    Thread.Sleep(5);
                    RawTask.Check(kernel.SysExit(), "sys_exit");
                    RawTask.Check(self.GiveUp(0), "yield");
                }

                log.Enqueue(string.Create(CultureInfo.InvariantCulture, $"  worker {id} (tid {self.Tid}): done"));
                RawTask.Check(self.Unregister(), "worker unregister");
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
}
