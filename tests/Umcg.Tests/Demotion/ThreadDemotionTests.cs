using Umcg.Kernel.Native;
using Umcg.Scheduling.Demotion;
using Xunit.Abstractions;

namespace Umcg.Tests.Demotion;

/// <summary>
/// Demoting and restoring real threads of this process, read back from /proc; the counters exact; the mode
/// detected from the privilege this process holds (CI: root with CAP_SYS_NICE, so Restorable; the unprivileged
/// modes are proved in a child process, <see cref="DemotionProbeTests"/>).
/// </summary>
public sealed class ThreadDemotionTests(ITestOutputHelper output)
{
    // pid_max is at most 2^22, so no thread ever has this id.
    private const int NoSuchThread = 4_194_304;

    [Fact]
    public void The_mode_is_what_the_privilege_of_this_process_allows()
    {
        var demotion = new ThreadDemotion();
        output.WriteLine($"{demotion.Mode} by {demotion.Mechanism}: {demotion.Reason}");

        // The privilege, read from /proc rather than through the calls under test.
        bool cap = CapSysNiceFromProcStatus();
        ulong limit = NiceLimitFromProcLimits();
        Assert.Equal(cap, demotion.Privilege.CapSysNice);
        Assert.Equal(limit, demotion.Privilege.NiceLimit);

        LinuxSyscalls.GetNice(0, out int nice);
        var expected = cap || limit >= (ulong)(20 - nice) ? DemotionMode.Restorable : DemotionMode.OneWay;
        Assert.Equal(expected, demotion.Mode);
        Assert.Equal(DemotionMechanism.SchedIdle, demotion.Mechanism);
        Assert.Equal(expected, new ThreadDemotion(DemotionMechanism.Nice19).Mode);

        // Detection counts nothing: its trial ran on a thread of its own.
        Assert.Equal(0, demotion.Demotions + demotion.Restorations + demotion.Failures);
    }

    [Theory]
    [InlineData(true, 0UL, 0, true)]
    [InlineData(false, 20UL, 0, true)]
    [InlineData(false, 19UL, 0, false)]
    [InlineData(false, 15UL, 5, true)]
    [InlineData(false, 14UL, 5, false)]
    [InlineData(false, 40UL, -20, true)]
    [InlineData(false, 39UL, -20, false)]
    [InlineData(false, ulong.MaxValue, -20, true)]
    [InlineData(null, null, 0, false)]
    public void Restoring_to_nice_n_needs_RLIMIT_NICE_of_20_minus_n_or_CAP_SYS_NICE(bool? cap, ulong? limit, int nice, bool allowed) =>
        Assert.Equal(allowed, new NicePrivilege(cap, limit).MayRestoreTo(nice));

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void SCHED_IDLE_demotes_a_thread_and_restores_it_to_SCHED_OTHER_at_its_nice(int nice)
    {
        var demotion = Restorable();
        if (demotion is null)
        {
            return;
        }

        using var thread = new ParkedThread("demoted by SCHED_IDLE");
        Assert.Equal(0, LinuxSyscalls.SetNice(thread.Tid, nice));
        Assert.Equal((ProcSched.Other, nice), thread.Kernel);

        var demoted = demotion.Demote(thread.Tid);
        Assert.Equal(new DemotedThread(thread.Tid, DemotionMechanism.SchedIdle, 0, ProcSched.Other, nice, 0), demoted);
        Assert.Equal((ProcSched.Idle, nice), thread.Kernel);

        Assert.Equal(0, demotion.Restore(demoted));
        Assert.Equal((ProcSched.Other, nice), thread.Kernel);
        Assert.Equal((1, 1, 0), (demotion.Demotions, demotion.Restorations, demotion.Failures));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    public void Nice_19_demotes_a_thread_and_restores_it_to_its_nice(int nice)
    {
        var demotion = Restorable(DemotionMechanism.Nice19);
        if (demotion is null)
        {
            return;
        }

        using var thread = new ParkedThread("demoted by nice 19");
        Assert.Equal(0, LinuxSyscalls.SetNice(thread.Tid, nice));

        var demoted = demotion.Demote(thread.Tid);
        Assert.Equal(DemotionMechanism.Nice19, demoted.Mechanism);
        Assert.Equal((ProcSched.Other, LinuxSyscalls.MaxNice), thread.Kernel);
        Assert.Equal(0, LinuxSyscalls.GetNice(thread.Tid, out int seen));
        Assert.Equal(LinuxSyscalls.MaxNice, seen);

        Assert.Equal(0, demotion.Restore(demoted));
        Assert.Equal((ProcSched.Other, nice), thread.Kernel);
        Assert.Equal((1, 1, 0), (demotion.Demotions, demotion.Restorations, demotion.Failures));
    }

    [Fact]
    public void A_refused_demotion_or_restoration_says_why_and_counts_as_a_failure_alone()
    {
        var demotion = new ThreadDemotion();
        if (demotion.Mode == DemotionMode.Unavailable)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", demotion.Reason);
            return;
        }

        var none = demotion.Demote(NoSuchThread);
        Assert.False(none.IsDemoted);
        Assert.Equal(LinuxSyscalls.ESRCH, none.Errno);
        Assert.Equal(LinuxSyscalls.EINVAL, demotion.Restore(none));

        // A thread demoted, then gone before its restoration.
        DemotedThread gone;
        using (var thread = new ParkedThread("gone while demoted"))
        {
            gone = demotion.Demote(thread.Tid);
            Assert.True(gone.IsDemoted, gone.ToString());
        }

        WaitUntilGone(gone.Tid);
        Assert.Equal(LinuxSyscalls.ESRCH, demotion.Restore(gone));
        Assert.Equal((1L, 0L, 1L, 2L), (demotion.Demotions, demotion.Restorations, demotion.DemotionFailures, demotion.RestorationFailures));
    }

    [Fact]
    public void Counters_are_exact_under_concurrent_demotions_and_restorations()
    {
        var demotion = Restorable();
        if (demotion is null)
        {
            return;
        }

        const int Demoters = 4;
        const int ThreadsEach = 3;
        const int Rounds = 200;
        var threads = Enumerable.Range(0, Demoters * ThreadsEach).Select(i => new ParkedThread($"demoted {i}")).ToArray();
        try
        {
            var errors = new ConcurrentQueue<Exception>();
            var demoters = Enumerable.Range(0, Demoters).Select(d => TestThread.Start($"demoter {d}", () =>
            {
                var mine = threads.Skip(d * ThreadsEach).Take(ThreadsEach).ToArray();
                for (int round = 0; round < Rounds; round++)
                {
                    var demoted = mine.Select(t => demotion.Demote(t.Tid)).ToArray();
                    if (demoted.FirstOrDefault(x => !x.IsDemoted) is { Tid: not 0 } refused)
                    {
                        throw new InvalidOperationException(refused.ToString());
                    }

                    if (demotion.Demote(NoSuchThread).IsDemoted)
                    {
                        throw new InvalidOperationException("a thread that does not exist was demoted");
                    }

                    foreach (var t in mine)
                    {
                        if (t.Kernel.Policy != ProcSched.Idle)
                        {
                            throw new InvalidOperationException($"thread {t.Tid} demoted but its policy is {t.Kernel.Policy}");
                        }
                    }

                    foreach (var x in demoted)
                    {
                        int errno = demotion.Restore(x);
                        if (errno != 0)
                        {
                            throw new InvalidOperationException($"restoring {x}: {LinuxSyscalls.ErrnoName(errno)}");
                        }
                    }
                }
            }, errors)).ToArray();
            foreach (var d in demoters)
            {
                Assert.True(d.Join(Watchdog.Limit), $"{d.Name} did not finish");
            }

            Assert.Empty(errors);
            const long Each = (long)Demoters * ThreadsEach * Rounds;
            Assert.Equal((Each, Each, (long)Demoters * Rounds, 0L), (demotion.Demotions, demotion.Restorations, demotion.DemotionFailures, demotion.RestorationFailures));
            Assert.All(threads, t => Assert.Equal((ProcSched.Other, 0), t.Kernel));
        }
        finally
        {
            foreach (var t in threads)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>A demotion that can restore, or null where this process may not (outside CI only).</summary>
    private ThreadDemotion? Restorable(DemotionMechanism mechanism = DemotionMechanism.SchedIdle)
    {
        var demotion = new ThreadDemotion(mechanism);
        if (demotion.Mode != DemotionMode.Restorable)
        {
            Assert.False(Environment.GetEnvironmentVariable("CI") == "true", $"CI runs with CAP_SYS_NICE, but: {demotion.Reason}");
            output.WriteLine($"Not run: {demotion.Mode}: {demotion.Reason}");
            return null;
        }

        return demotion;
    }

    private static bool CapSysNiceFromProcStatus()
    {
        string capEff = File.ReadLines("/proc/self/status").Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();
        return (ulong.Parse(capEff, NumberStyles.HexNumber, CultureInfo.InvariantCulture) & (1UL << LinuxSyscalls.CapSysNice)) != 0;
    }

    private static ulong NiceLimitFromProcLimits()
    {
        // "Max nice priority         0                    0": the soft limit is the first figure.
        string line = File.ReadLines("/proc/self/limits").Single(l => l.StartsWith("Max nice priority", StringComparison.Ordinal));
        string soft = line["Max nice priority".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return soft == "unlimited" ? ulong.MaxValue : ulong.Parse(soft, CultureInfo.InvariantCulture);
    }

    private static void WaitUntilGone(int tid)
    {
        // A joined thread's OS thread may outlive its managed Join by a moment.
        var waited = Stopwatch.StartNew();
        while (Directory.Exists($"/proc/self/task/{tid.ToString(CultureInfo.InvariantCulture)}"))
        {
            Assert.True(waited.Elapsed < Watchdog.Limit, $"thread {tid} did not leave");
            Thread.Yield();
        }
    }
}
