/*
 * The UMCG kernel half's protocol (docs/kernel-half.md), as src/Umcg/Kernel implements it, with the
 * canonical server loop of src/Umcg/Scheduling/Server.Loop.cs on top. docs/model.md maps every step
 * below to its C# method and says what is left out.
 *
 * Granularity: one Promela step per atomic memory access of the C# code (a CAS, an exchange, a volatile
 * load or store); a run of steps that touch only memory nobody else can reach is folded into one. The
 * memory model is sequentially consistent: every CAS and exchange in the code is a full fence.
 *
 * Configuration (all with -D at `spin -a`):
 *   NS, NW     servers and workers; worker w belongs to server w % NS.
 *   OPS        how many operations each worker's script makes between register and unregister/exit.
 *   OPS0       how many worker 0 makes (default OPS): one worker with a longer script than the others.
 *   MAXPRE     how many preemptions each server may request.
 *   LIVE       the liveness configuration: scripts loop for ever, the run queue is FIFO, no exit.
 *   STEAL      servers steal: one whose run queue is empty takes a queued worker of another server (moving
 *              it there: its server_tid changes), as Server.StealFromBusyServer does.
 *   HANDOFF    the direct successor (Server.Handoff.cs): a worker that yields, blocks or finishes its body
 *              drains its server's list (H1), takes the policy's next worker out of the run queue (H2) and hands
 *              it the CPU through next_tid (K2's switch, or K3s: a block that moves the record to it).
 *   QUIET      quiet arrivals (K4q, Server.QuietArrivals.cs): an unblocking worker does not wake a server whose
 *              record names a running worker that its rank does not outrank by the server's margin.
 *   RANKED     which workers have rank 1 (a bit mask; the others have rank 0): the arrival bits of their words.
 *   MARGIN1    the server's margin is 1 whenever a worker runs (else 1 or 2): with ranks 0 and 1 only, 2 decides
 *              nothing that 1 does not (an equal rank is what tells them apart), so runs with two ranks use it.
 *   LEAN       shorter scripts for the three-worker runs: yields and blocks only, every body ends by finishing.
 *   DEMOTE     workers run in the background (demotion, docs/preemption.md): a server demotes a running
 *              worker that was asked to give way and reached no safepoint (K9) and runs another; it adopts a
 *              background worker back when its record is empty (K10); a background worker's own block, Wait,
 *              safepoint and exit pick no successor and release no record. DEMOTE_K: at most that many
 *              background workers per server (default 1); MAXDEM: demotions per server (default 1; unbounded
 *              in the liveness run).
 *   IDLE       idle workers queued by another thread (K11, UmcgKernel.Idle.cs): a worker that finished its body may
 *              offer itself and sleep BLOCKED instead of leaving; a releaser (its own process, standing for a spawner
 *              that found the pooled thread asleep) takes the offer, makes it RUNNABLE, pushes it and wakes the server
 *              unless the arrival is quiet, without waking the worker; the worker runs once more and unregisters.
 *   OPEN       open servers (K12, UmcgKernel.OpenServer.cs; Server.OpenStart.cs): a server with nothing to run writes
 *              OPEN to its slot before it sleeps (O1, after the margin it would publish for a running worker: O3) and
 *              takes it back as it wakes (O2); a worker that unblocks claims an open slot by CAS and runs at once,
 *              with no push and no wake; a worker that blocks with no successor may leave the slot open instead of
 *              waking the server (K12l, O5). Needs QUIET (the server's `nothing` of step 4).
 *   BROKEN=n   a deliberately wrong variant the checker must reject (see the BROKEN cases below).
 */

#ifndef NS
#define NS 2
#endif
#ifndef NW
#define NW 3
#endif
#ifndef OPS
#define OPS 2
#endif
#ifndef OPS0
#define OPS0 OPS
#endif
#ifndef MAXPRE
#define MAXPRE 1
#endif
#ifndef BROKEN
#define BROKEN 0
#endif
#ifndef STEAL
#define STEAL 0
#endif
#ifndef HANDOFF
#define HANDOFF 0
#endif
#ifndef QUIET
#define QUIET 0
#endif
#ifndef RANKED
#define RANKED 2
#endif
#ifndef DEMOTE
#define DEMOTE 0
#endif
#ifndef DEMOTE_K
#define DEMOTE_K 1
#endif
#ifndef MAXDEM
#define MAXDEM 1
#endif
#ifndef IDLE
#define IDLE 0
#endif
#if STEAL && defined(LIVE)
#error "the liveness run keeps every worker on its first server"
#endif
#ifndef OPEN
#define OPEN 0
#endif
#if OPEN && !QUIET
#error "OPEN follows the server's `nothing` of step 4, which only QUIET keeps"
#endif
#if IDLE && (!HANDOFF || DEMOTE || defined(LIVE))
#error "IDLE checks a finished body's block (HANDOFF's), without demotion, in the safety runs"
#endif
#if defined(LEAN) && !HANDOFF
#error "LEAN scripts end by finishing a body, which is HANDOFF's"
#endif

/* The state word (UmcgTask.State): the state in bits 0-1 here (0-7 in the ABI), the two flags above it. */
#define SMASK     3
#define NONE      0
#define RUNNING   1
#define RUNNABLE  2
#define BLOCKED   3
#define COND_WAIT 4   /* TaskFlags.CondWait */
#define PREEMPT   8   /* TaskFlags.Preempt */
#define BG        16  /* TaskFlags.Background: the worker runs demoted, its server's record does not name it */

/* A server's next_tid: 0, a worker's tid (a pick, not started yet), or tid | TID_RUNNING (it runs). */
#define TID_RUNNING 16
#define TID_OPEN    32   /* UmcgConstants.TidOpen: no TID, no TID_RUNNING */
#define TID_MASK    15
#define TID(w)      ((w) + 1)

/*
 * A worker's server: its block's server_tid. Worker w starts on server w % NS; only a steal changes it, and
 * only while the worker sits in its server's run queue (RUNNABLE, asleep, off every runnable list).
 */
#define SRV(w)      srv[w]

/*
 * Preemption requests: MAXPRE per server, each at the policy's whim; in the liveness run the server asks the
 * running worker to give way every time it looks (its slice is over whenever its deadline woke it).
 */
#ifdef LIVE
#define PREEMPT_BUDGET true
#define PREEMPT_SPEND  skip
#else
#define PREEMPT_BUDGET (npre < MAXPRE)
#define PREEMPT_SPEND  npre++
#endif
/* Demotions: MAXDEM per server in the safety runs, whenever the policy's grace period is over; unbounded live. */
#ifdef LIVE
#define DEMOTE_BUDGET true
#define DEMOTE_SPEND  skip
#else
#define DEMOTE_BUDGET (ndem < MAXDEM)
#define DEMOTE_SPEND  ndem++
#endif
#define RQCAP       (2 * NW)

/* Errno values the model distinguishes. */
#define OK     0
#define EAGAIN 1
#define ESRCH  2

/* ---- the shared memory ------------------------------------------------------------------------- */

byte wst[NW];          /* each worker's state word */
byte srv[NW];          /* each worker's server_tid (a server index here) */
byte sst[NS];          /* each server's state word */
byte slot[NS];         /* each server's next_tid: the running slot */
byte head[NS];         /* each server's runnable_workers_ptr: 0 or the tid of the entry on top */
byte link[NW];         /* each worker's runnable_workers_ptr: the entry below it */
bit  queued[NW];       /* the queued mark, one per block: set by the push, cleared by the drain */
bit  reg[NW];          /* the worker is in the kernel half's task table */
bit  alive[NW];        /* the worker's thread has not ended */
bit  wsleep[NW];       /* the worker is in FUTEX_WAIT on its state word (cleared by FUTEX_WAKE) */
bit  ssleep[NS];       /* the server is in FUTEX_WAIT on its state word */
/*
 * DEMOTE. The background mark, kernel-only (user code cannot forge it, as it can TF_BACKGROUND): claimed by K9 (CAS
 * 0 -> 1) before its CAS on the word, cleared by K10 after its CAS and by the worker after the CAS that takes it off
 * RUNNING|BG, before any push. So a RUNNING|BG word implies the mark at every step (the one_runner monitor checks it).
 */
bit  mark[NW];
/*
 * Ghost: the server is inside K9, K10 or K1's start (record marked, K6 not yet done), the only windows in which its
 * record may name a background worker. K1 meets one when a stale run-queue entry (the raw switch woke a worker
 * whose entry was still listed) names a worker since demoted: its K6 fails and the record goes back.
 */
bit  claiming[NS];
#if OPEN
/*
 * OPEN. The kernel half's record of server s still names the worker whose block is leaving s open (K12l): set with
 * the mirror's TID_OPEN, cleared by the record's release, the block's next step. The model's slot is the mirror; in
 * that window the record is not empty, so a claim fails (K4's way instead) and the server's Wait starts nobody.
 */
bit  held[NS];
#endif

/*
 * The scheduler's run queue (the policy's, server-private under its lock). Safety runs keep it as a
 * multiset, how many times each worker is in its server's queue, and let the server pick any of them
 * (every policy at once); the liveness run keeps a FIFO, a fair policy.
 */
#ifdef LIVE
chan rq[NS] = [RQCAP] of { byte };
#define rq_add(s, w)  assert(nfull(rq[s])); rq[s]!w
#define rq_has(s, w)  rq[s]??[eval(w)]
#define rq_take(s, w) rq[s]??eval(w)
#define QLEN(s)       len(rq[s])
#else
byte rqn[NS * NW];     /* rqn[RQ(s, w)]: how many times worker w is in server s's run queue */
#define RQ(s, w)      ((s) * NW + (w))
#define rq_add(s, w)  assert(rqn[RQ(s, w)] < RQCAP); rqn[RQ(s, w)]++
#define rq_has(s, w)  (rqn[RQ(s, w)] > 0)
#define rq_take(s, w) rqn[RQ(s, w)]--
#define QLEN(s)       (rqn[RQ(s, 0)] + rqn[RQ(s, 1)] + (NW > 2 -> rqn[RQ(s, 2 % NW)] : 0) + \
                       (NW > 3 -> rqn[RQ(s, 3 % NW)] : 0))
/* The server a thief looks at (Server.StealFromBusyServer walks the others; the model has at most two). */
#define VICTIM(s)     (((s) + 1) % NS)
/* Server.TryStealFor: the victim has more than it can run now. */
#define STEALABLE(o)  (QLEN(o) > 0 && ((slot[o] & TID_RUNNING) != 0 || QLEN(o) >= 2))
/*
 * The steal itself, in the thief (its `s`): off the victim's queue, then MoveTo. A queued worker is RUNNABLE,
 * asleep, off every runnable list, and names the victim: nobody else reads its server_tid until it runs.
 */
#define steal(w) \
    rq_take(VICTIM(s), w); \
    assert((wst[w] & SMASK) == RUNNABLE && !onlist[w] && srv[w] == VICTIM(s)); \
    srv[w] = s; \
    v = TID(w)
#endif

/* Ghost: the worker's entry is on a runnable list (pushed, not yet taken off by a drain). */
bit  onlist[NW];

/* "No worker": what take_successor answers when the run queue holds nobody to hand the CPU to. */
#define NOBODY      NW

/*
 * Quiet arrivals (K4q). A worker's rank and a server's margin are user bits of their state words (the arrival
 * bits, UmcgConstants.ArrivalMask): the rank is the policy's RankOf, constant here; the margin is written by the
 * server loop before it sleeps (Q1), 0 when nothing runs. An arrival of rank r stays quiet while the record names
 * a running worker X and the margin m is not 0 and r < rank(X) + m - 1, written r + 1 < rank(X) + m here.
 */
#define RANK(w)     ((RANKED >> (w)) & 1)
#define QUIET_UNDER(a, x, m) ((m) != 0 && RANK(a) + 1 < RANK(x) + (m))
/*
 * BROKEN 9 is the first sketch of the protocol, in which the word holds a quiet value for the running worker
 * itself, rank + 1 (0: always wake), written by the server (0 at S1; at S6 for the worker it found in its record
 * or picked) and by a switcher for its successor before the record moves; an arrival of rank r stays quiet if a
 * worker runs and the value is above r. What it must keep is what margin 2 keeps: wake for a higher rank.
 */
#if BROKEN == 9
#define ARRIVAL_QUIET(a, x, m) ((m) > RANK(a))
#define MUST_STAY_QUIET(a, x, s) QUIET_UNDER(a, x, 2)
#else
#define ARRIVAL_QUIET(a, x, m) QUIET_UNDER(a, x, m)
#define MUST_STAY_QUIET(a, x, s) QUIET_UNDER(a, x, margin[s])
#endif
byte margin[NS];
/* Ghost: the worker's last arrival stayed quiet and its entry is still on the list (cleared by the drain). */
bit  quietly[NW];
/* Ghost: the worker is blocked in a region, its SysEnter over (BLOCKED alone is not enough: K3s goes on after it). */
bit  inregion[NW];
/* K11: the kernel-only Idle mark (KernelTask.BlockMarks.Idle): set by the worker's offer, taken by one releaser's CAS. */
bit  idlemark[NW];

/* ---- the building blocks (UmcgKernel.Transitions.cs) ------------------------------------------- */

/* FUTEX_WAKE on a task's state word: wakes it if it sleeps there; a wake with no sleeper is lost. */
#define futex_wake(sleeping) sleeping = 0

/*
 * SleepUntilRunning: re-read the word; RUNNING returns; otherwise FUTEX_WAIT with the value seen, which
 * the kernel compares and enqueues in one step (so a waker that changed the word first is never missed),
 * then block until a FUTEX_WAKE. Any wake (a kick, a late wake) just re-reads.
 */
inline sleep_until_running(word, sleeping) {
    do
    :: atomic {
           seen = word;
           if
           :: (seen & SMASK) == RUNNING -> seen = 0; break
           :: else -> assert((seen & SMASK) == RUNNABLE)
           fi
       }
       atomic { if :: word == seen -> sleeping = 1 :: else -> skip fi; seen = 0 }
       sleeping == 0
    od
}

/*
 * WakeTask: CAS RUNNABLE -> RUNNING (flags cleared), then FUTEX_WAKE. The two are one step here: the word
 * changes first, so a sleeper that has not parked yet compares and does not park, and one that has is
 * woken; all that the gap between them adds is a late FUTEX_WAKE landing on a later sleep of the same
 * task, a spurious wake, which the preemption's Kick (a separate step) still produces.
 */
inline wake_server(s) {
    atomic {
        if
        :: (sst[s] & SMASK) == RUNNABLE -> sst[s] = RUNNING; futex_wake(ssleep[s])
        :: else -> skip
        fi
    }
}

/* WakeTask on a worker. r = OK or EAGAIN (it was not RUNNABLE: never woken twice). */
inline wake_worker(t) {
    atomic {
        if
        :: (wst[t] & SMASK) == RUNNABLE -> wst[t] = RUNNING; futex_wake(wsleep[t]); r = OK
        :: else -> r = EAGAIN
        fi
    }
}

/*
 * PushRunnable (UmcgKernel.Transitions.cs): Exchange the queued mark to 1; if it was 0, push on the server's LIFO: read the head, store
 * it as our own link, CAS the head from it to us (retry with the head seen). An entry still on the list
 * (a direct switch woke the worker before a drain took it off) is not pushed again.
 */
inline enqueue(me) {
    /*
     * The mark's exchange and the head's first read are one step: nobody else touches this worker's mark
     * in between (a drain clears only the marks of entries on its list, and ours is not).
     */
    atomic {
        pushed = queued[me];
        queued[me] = 1;
#if BROKEN == 3
        /* BROKEN 3: the mark is not consulted (as if it lived on a record that a re-registration renews). */
        pushed = 0;
#endif
        if :: pushed == 0 -> first = head[ws] :: else -> skip fi
#ifdef LIVE
        /*
         * The liveness run pushes in this one step: a CAS loop is lock-free, not wait-free, and a scheduler
         * that always lets another push or drain in between could starve it, which no fairness assumption
         * on processes excludes. That starvation is not the protocol's to prevent.
         */
#endif
    }
    if
    :: pushed == 0 ->
       do
       :: atomic {
#ifdef LIVE
              first = head[ws];    /* read and CAS together: cannot fail */
#endif
              if
              :: head[ws] == first ->
                 assert(!onlist[me]);            /* never pushed twice */
                 onlist[me] = 1;
                 link[me] = first;
                 head[ws] = TID(me);
                 break
              :: else -> first = head[ws]
              fi
          }
       od
    :: else -> skip
    fi;
    first = 0; pushed = 0
}

/*
 * RunnableList.Drain (Server.DrainRunnableList): take the whole list with one exchange, then one step per
 * entry: a registered task goes to the run queue (a removed task's entry is skipped), its link and mark are
 * cleared. The server's S2 runs it, and with HANDOFF a worker's H1 too. The C# code walks under
 * Server._drainLock, one walker at a time; the model lets two walks overlap, which only adds interleavings:
 * each exchange takes its own part of the list.
 */
inline drain(s) {
    atomic { cur = head[s]; head[s] = 0 }
    do
    :: cur == 0 -> break
    :: cur != 0 ->
       atomic {
           t = cur - 1;
           if
           :: reg[t] -> assert(srv[t] == s); rq_add(s, t)   /* a removed task's entry is skipped */
           :: else -> skip
           fi;
           cur = link[t];
           link[t] = 0;
           queued[t] = 0;
           onlist[t] = 0;
           quietly[t] = 0;
           t = 0
       }
    od
}

/*
 * Worker operations act on `ws`, the server the kernel call resolved from server_tid when it began
 * (ResolveServer, or the read at the top of SysEnter/SysExit/WorkerWait): the C# code reads server_tid once
 * per call and uses that server for the push, the release and the wake. The read is folded into the first
 * step of each operation: server_tid changes only while the worker sits in a run queue, and a worker that
 * makes a kernel call is running (or blocked), never queued.
 */

/* ReleaseSlot: CAS the server's slot from me | TID_RUNNING to 0. Every modelled release must succeed. */
inline release_slot(me) {
    atomic {
        assert(slot[ws] == (TID(me) | TID_RUNNING));
        slot[ws] = 0
    }
}

/*
 * The worker runs user code: its state is RUNNING and its server's slot names it (the one-runner rule). With
 * DEMOTE (I1'): either that, without TF_BACKGROUND; or TF_BACKGROUND with the mark, and a record that does not
 * name it (outside its server's K1, K9 and K10 windows: `claiming`).
 */
#define names(s, w) (slot[s] == (TID(w) | TID_RUNNING))
#define runs_user_code(me) \
    assert((wst[me] & SMASK) == RUNNING && reg[me] && (wst[me] & COND_WAIT) == 0 && \
           ((wst[me] & BG) == 0 -> names(SRV(me), me) : (mark[me] && (!names(SRV(me), me) || claiming[SRV(me)]))))

/*
 * The worker's own CAS that takes its word off RUNNING (to `to`, flags cleared): its linearisation point against
 * K9 and K10. It is a background transition iff the word it replaced had TF_BACKGROUND (bg = 1).
 *   BG_SPLIT(path) ... BG_JOIN around a foreground path: a background worker takes `path` instead. Without DEMOTE
 * all three leave nothing behind, and the model is, step for step, the one without demotion (the other checks'
 * figures stay as they were).
 */
#if DEMOTE
#define off_running(me, to) \
    assert((wst[me] & SMASK) == RUNNING); bg = ((wst[me] & BG) != 0); wst[me] = (to)
#define BG_SPLIT(path) if :: bg -> path :: else ->
#define BG_JOIN        fi; bg = 0
#else
#define off_running(me, to) assert((wst[me] & SMASK) == RUNNING); wst[me] = (to)
#define BG_SPLIT(path)
#define BG_JOIN
#endif

/*
 * A background worker's transition, after that CAS: the mark goes, before any push, so that no entry the server
 * drains names a worker still marked (a raw switch can still run one: K9 claims the mark by CAS for that).
 */
inline leave_background(me) {
    atomic { assert(mark[me]); mark[me] = 0 }
}

/* ---- worker operations ------------------------------------------------------------------------- */

/*
 * K4q, quiet arrivals (IsQuietArrival in Hooks.cs), after the push (a full fence): read the server's margin;
 * if it is not 0, read the record and the rank of the worker it names (one step: ranks are constants here), and
 * stay quiet only if that worker runs and QUIET_UNDER holds. Otherwise wake the server.
 *   Against the server (Q1): it writes its margin, then re-reads its list before it sleeps; so either it sees
 *   our push, or our read of the margin comes after its write.
 *   Against a switch to a successor (Q3): the record moves before the switcher looks at the list; so either we
 *   read the successor in the record and compare with its rank, or the switcher sees our push and wakes the server.
 *   A record that names no running worker always wakes: the server may be asleep with nothing to run.
 */
inline arrive(me) {
    atomic { m = margin[ws] }
    if
    :: m == 0 -> wake_server(ws)
    :: else ->
       atomic {
           if
           :: (slot[ws] & TID_RUNNING) != 0 && ARRIVAL_QUIET(me, (slot[ws] & TID_MASK) - 1, m) ->
              quietly[me] = onlist[me]; m = 0
#if BROKEN == 6
           /* BROKEN 6: quiet on the margin alone when the record is empty, as if whoever ran last still ran. */
           :: (slot[ws] & TID_RUNNING) == 0 -> quietly[me] = onlist[me]; m = 0
#endif
           :: else -> skip
           fi
       }
       if
       :: m != 0 -> wake_server(ws)
       :: else -> skip
       fi
    fi;
    m = 0
}

/* After an arrival's push: wake the server (with QUIET, unless the arrival is quiet: K4q). */
inline announce(me) {
#if QUIET
    arrive(me)
#else
    wake_server(ws)
#endif
}

/*
 * Unblock (SysExit, and the end of Ctl(Register)): BLOCKED -> RUNNABLE, queued, server woken (with QUIET,
 * unless the arrival is quiet: K4q), sleep until a server runs it.
 */
inline unblock(me) {
    atomic { assert((wst[me] & SMASK) == BLOCKED); wst[me] = RUNNABLE; inregion[me] = 0 }
#if OPEN
    /*
     * K12c: claim an open server, the slot's CAS from OPEN with the record empty (the C# code takes the record first
     * and gives it back if the mirror's CAS fails; a record a leaving block still holds fails the take). Then K12r:
     * RUNNABLE -> RUNNING on our own thread.
     */
    atomic {
        if
#if BROKEN == 21
        /* BROKEN 21: a claim of any slot that names no running worker (0, or the server's pick), not only the offer. */
        :: (slot[ws] & TID_RUNNING) == 0 -> slot[ws] = TID(me) | TID_RUNNING; took = 1
#else
        :: slot[ws] == TID_OPEN && !held[ws] -> slot[ws] = TID(me) | TID_RUNNING; took = 1
#endif
        :: else -> took = 0
        fi
    }
    if
    :: took -> atomic { assert(wst[me] == RUNNABLE); wst[me] = RUNNING; took = 0 }
    :: else ->
       enqueue(me);
       announce(me);
       sleep_until_running(wst[me], wsleep[me])
    fi
#else
    enqueue(me);
    announce(me);
    sleep_until_running(wst[me], wsleep[me])
#endif
}

/*
 * A background worker back to the run queue (K5 at its safepoint): its word is RUNNABLE already; the mark goes,
 * then the push and the wake unless quiet, as an arrival. No record to release: it holds none.
 */
inline requeue_background(me) {
    leave_background(me);
    enqueue(me);
    announce(me)
}

/*
 * K2's Wait for a background worker, after user space's PrepareWait (RUNNING|BG -> RUNNABLE|COND_WAIT|BG, the
 * linearisation point): the mark goes; then UpdateState(RUNNABLE -> RUNNABLE) clears COND_WAIT and BG, or fails
 * (EAGAIN) when a wake came first; then the push and the wake unless quiet. next_tid is ignored. Unlike a
 * foreground worker's PrepareWait and Wait, these are separate steps: a foreground worker holds the record, so
 * nobody acts on its RUNNABLE|COND_WAIT word, but a background one holds nothing, and a raw switch by the worker
 * now in the foreground may run it in between. Then it runs (the switch moved the record to it), its mark gone.
 */
inline wait_background(me) {
    leave_background(me);
    atomic {
        if
        :: (wst[me] & SMASK) == RUNNABLE -> wst[me] = RUNNABLE; r = OK
        :: else -> r = EAGAIN
        fi
    }
    if
    :: r == OK -> enqueue(me); announce(me)
    :: else -> skip
    fi;
    r = OK
}

/* PrepareWait (user space): RUNNING -> RUNNABLE | COND_WAIT, keeping TF_BACKGROUND, which it reports in bg. */
#if DEMOTE
#define prepare_wait(me) \
    assert((wst[me] & SMASK) == RUNNING); bg = ((wst[me] & BG) != 0); \
    wst[me] = (bg -> RUNNABLE | COND_WAIT | BG : RUNNABLE)
#else
#define prepare_wait(me) assert((wst[me] & SMASK) == RUNNING); wst[me] = RUNNABLE
#endif

/*
 * A successor user space took out of the run queue for a worker that turned out to be background (its K2 or K3
 * ignores next_tid and leaves it): back to the run queue and the server woken (Server.MakeReady). Without this
 * the successor is in no queue and on no list, and nobody ever runs it.
 */
inline give_back(t) {
    atomic { rq_add(ws, t) }
    wake_server(ws)
}

/*
 * MoveSlot: CAS the record from me | TID_RUNNING to t | TID_RUNNING, then the mirror (folded: t is not awake
 * yet, so no other path writes this server's mirror). Record first, wake second: once t runs it may stop at
 * once, and it can only release a record that names it.
 */
inline move_slot(me, t) {
    atomic { assert(slot[ws] == (TID(me) | TID_RUNNING)); slot[ws] = TID(t) | TID_RUNNING }
}

/* BROKEN 9: the switcher writes the successor's quiet value, then (a full fence) looks at the list. */
inline sketch_q(t) {
#if BROKEN == 9
    margin[ws] = RANK(t) + 1;
    if
    :: atomic { head[ws] != 0 -> skip }
       wake_server(ws)
    :: atomic { head[ws] == 0 -> skip }
    fi
#else
    skip
#endif
}

/* StartSwitchedTo: wake t; if it is not RUNNABLE any more, give the record back to the server and wake it. */
inline start_switched_to(t) {
    wake_worker(t);
    if
    :: r == OK -> skip
    :: else ->
       atomic {
           if
           :: slot[ws] == (TID(t) | TID_RUNNING) -> slot[ws] = 0; r = OK
           :: else -> r = EAGAIN
           fi
       }
       if
       :: r == OK -> wake_server(ws)
       :: else -> skip
       fi
    fi;
    r = OK
}

/*
 * WakeServerIfOthersListed (Q3), after a switch moved the record from lv to the successor t: unless t ranks at least
 * as high as lv (then every arrival quiet against lv is quiet against t: same margin, a bar as high), re-read the
 * list head; if the list holds an entry other than the switcher's own (sw: lv after a yield, which pushed itself;
 * NOBODY after a block, which pushes nothing), an arrival may have judged itself quiet against lv: wake the server
 * to look.
 */
#if BROKEN == 18
/* BROKEN 18: the ranks compared the wrong way round: the look is skipped when the successor ranks below. */
#define SUCCESSOR_KEEPS_QUIET(lv) (RANK(t) <= RANK(lv))
#else
#define SUCCESSOR_KEEPS_QUIET(lv) (RANK(t) >= RANK(lv))
#endif
inline wake_if_others_listed(lv, sw) {
#if BROKEN == 7 || BROKEN == 9
    /* BROKEN 7: no look at the list after the switch (BROKEN 9 looks before the move instead: sketch_q). */
    skip
#else
    if
    :: SUCCESSOR_KEEPS_QUIET(lv) -> skip
    :: else ->
       atomic {
           first = head[ws];
           if
           :: sw != NOBODY && first == TID(sw) -> skip       /* our own entry on top: look below it */
           :: else -> pushed = (first != 0); first = 0
           fi
       }
       if
       :: first != 0 -> atomic { pushed = (link[sw] != 0); first = 0 }
       :: else -> skip
       fi;
       if
       :: pushed -> wake_server(ws)
       :: else -> skip
       fi;
       pushed = 0
    fi
#endif
}

/*
 * WorkerThread.Yield(null): PrepareWait (RUNNING -> RUNNABLE | COND_WAIT), next_tid = 0, then WorkerWait:
 * UpdateState(RUNNABLE -> RUNNABLE) clears TF_COND_WAIT, queue, free the slot, wake the server, sleep.
 * PrepareWait and the UpdateState are one step: while this worker holds the slot nobody else acts on its
 * RUNNABLE | COND_WAIT word (no server starts it, no switch targets it, no preemption flags a non-RUNNING
 * word), so the intermediate value is unobservable.
 */
inline yield(me) {
    atomic { prepare_wait(me) }      /* in the foreground, with Wait's UpdateState folded in (see above) */
    BG_SPLIT(wait_background(me))
       enqueue(me);
#if BROKEN == 4
       /*
        * BROKEN 4: server_tid is read again after the push. Between the push and this read the server may drain
        * us and another server steal us (move us to itself and start us): we would release that server's slot.
        */
       ws = srv[me];
#endif
       release_slot(me);
       wake_server(ws);
    BG_JOIN;
    sleep_until_running(wst[me], wsleep[me])
}

/*
 * WorkerThread.Yield(t): a direct switch to worker t of the same server. The scheduler takes t out of its
 * server's run queue first; the raw kernel API may name a t that is still on the runnable list or still
 * blocked, so both are modelled.
 */
inline switch_to(me) {
    /*
     * One step: choose next_tid (any other worker of this server), take it out of the run queue if it is
     * there, as the scheduler does (the raw kernel API may also name one still on the runnable list, or
     * not RUNNABLE at all), PrepareWait, and WorkerWait's checks before any side effect: an unknown next_tid is refused (ESRCH)
     * and leaves us RUNNING. None of it is observable by another thread while we hold the slot.
     */
    atomic {
        assert((wst[me] & SMASK) == RUNNING);
        bg = ((wst[me] & BG) != 0);    /* PrepareWait's CAS shows a background worker: no switch (next_tid ignored) */
        if
        :: SRV(0) == ws && me != 0 -> t = 0
        :: SRV(1) == ws && me != 1 -> t = 1
        :: NW > 2 && SRV(2 % NW) == ws && me != 2 % NW -> t = 2 % NW
        :: NW > 3 && SRV(3 % NW) == ws && me != 3 % NW -> t = 3 % NW
        :: else -> t = me                /* nobody else on this server: a plain yield below */
        fi;
        if
        :: t != me && rq_has(ws, t) -> rq_take(ws, t); took = 1
        :: else -> took = 0
        fi;
        if
        :: t == me || bg -> r = EAGAIN
#if STEAL
        /*
         * With stealing on, only the scheduler's switch is modelled: its target comes out of the run queue
         * (Server.TryTakeForSwitch), or there is no switch. A raw next_tid naming a worker still on the list
         * would let that worker run while its entry waits for a drain, and the drain would then queue a
         * RUNNING worker that a thief could move: the kernel half removes such a worker (KillMovedWorker) at
         * its next call, which is input validation, not protocol.
         */
        :: t != me && !took -> r = EAGAIN
#endif
        :: t != me && !reg[t] -> r = ESRCH
        :: t != me && reg[t] && !bg -> wst[me] = RUNNABLE; r = OK
        fi;
        bg = 0
    }
    if
    :: r == OK ->
       if
       :: atomic { (wst[t] & SMASK) != RUNNABLE -> wst[me] = RUNNING; r = EAGAIN }
       :: atomic { (wst[t] & SMASK) == RUNNABLE ->
              /* MoveSlot: CAS me | TID_RUNNING -> t | TID_RUNNING (in the step that saw t RUNNABLE). */
              assert(slot[ws] == (TID(me) | TID_RUNNING));
              slot[ws] = TID(t) | TID_RUNNING
          }
          enqueue(me);
          start_switched_to(t);
          sleep_until_running(wst[me], wsleep[me])
       fi
    :: else -> skip
    fi;
    if
    :: r != OK ->
       /*
        * No switch: give the target back (Server.MakeReady; no wake: we hold the slot, or, in the background, the
        * yield's own arrival wakes the server unless a running worker makes it quiet, whose release will) and
        * yield instead.
        */
       if
       :: took -> atomic { rq_add(ws, t) }
       :: else -> skip
       fi;
       t = 0; took = 0; r = OK;
       yield(me)
    :: else -> t = 0; took = 0
    fi
}

/* A background block (K3), after its CAS: the mark goes; no record to release, no server to wake. */
inline block_background(me) {
    leave_background(me)
#if BROKEN == 13
    /* BROKEN 13: the background block releases and wakes as a foreground one would. */
    ; release_slot(me); wake_server(ws)
#endif
}

/* SysEnter (BlockWorker) without a successor (K3): RUNNING -> BLOCKED, then free the slot and wake the server. */
inline block_plain(me) {
#if BROKEN == 1
    /* BROKEN 1: the slot is freed before the state changes. */
    release_slot(me);
    atomic { assert((wst[me] & SMASK) == RUNNING); wst[me] = BLOCKED }
    wake_server(ws)
#else
    atomic { off_running(me, BLOCKED) }
    BG_SPLIT(block_background(me))
       release_slot(me);
       wake_server(ws);
    BG_JOIN
#endif
}

/*
 * H1 and H2 (Server.TakeSuccessor): drain the server's list into the run queue, then, under the queue lock,
 * the policy's next worker, taken out of the queue: t = that worker; me when a yield's policy answers with the
 * yielder itself (it is queued, weighed and taken back in the same lock section); NOBODY if the queue is empty.
 */
inline take_successor(me, yielding) {
    drain(ws);
    atomic {
        if
#ifdef LIVE
        :: nempty(rq[ws]) -> rq[ws]?t     /* FIFO: a yielder, queued last, would come out first only alone */
        :: empty(rq[ws]) -> t = (yielding -> me : NOBODY)
#else
        :: rq_has(ws, 0) -> rq_take(ws, 0); t = 0
        :: rq_has(ws, 1) -> rq_take(ws, 1); t = 1
        :: NW > 2 && rq_has(ws, 2 % NW) -> rq_take(ws, 2 % NW); t = 2 % NW
        :: NW > 3 && rq_has(ws, 3 % NW) -> rq_take(ws, 3 % NW); t = 3 % NW
        :: yielding -> t = me             /* the policy prefers the yielder: no switch */
        :: else -> t = NOBODY
#endif
        fi;
        /* A queued worker is RUNNABLE and asleep, and only the running worker (we) is RUNNING. */
        assert(t == me || t == NOBODY || (t != me && (wst[t] & SMASK) == RUNNABLE && srv[t] == ws))
    }
}

/*
 * NotifyResume at a safepoint: nothing unless TF_PREEMPT is set; then Preempt: RUNNING -> RUNNABLE, queued,
 * slot freed, server woken, sleep until run again.
 */
inline safepoint(me) {
    if
    :: atomic { (wst[me] & PREEMPT) == 0 -> skip }
    :: atomic { (wst[me] & PREEMPT) != 0 -> off_running(me, RUNNABLE) }
       BG_SPLIT(requeue_background(me))    /* K5 of a background worker: back to the run queue, no release */
          enqueue(me);
          release_slot(me);
          wake_server(ws);
       BG_JOIN;
       sleep_until_running(wst[me], wsleep[me])
    fi
}

/*
 * WorkerThread.Yield with the direct successor: H1, H2, then K2 with next_tid = the successor: PrepareWait
 * (its checks and the clearing of TF_COND_WAIT folded, as in yield), MoveSlot, our own push, StartSwitchedTo,
 * and the look at the list (Q3). When nothing else is queued or the policy keeps the yielder, it runs on.
 */
inline handoff_yield(me) {
    take_successor(me, 1);
    if
    :: t == me || t == NOBODY ->
#if DEMOTE && BROKEN != 14
       /*
        * No switch: the yielder runs on, and with demotion a yield honours a pending request to give way as a
        * safepoint does (K5). Without it a foreground worker that yields in a loop, finding nobody queued, never
        * gives way to a background worker, which is in no queue; and a background yielder, which holds no record,
        * would leave whatever its H1 drained into the run queue unseen by its server (BROKEN 14). A background
        * worker always has TF_PREEMPT, so its yield is where it leaves the background.
        */
       safepoint(me)
#elif DEMOTE
       /* BROKEN 14: the yield that does not switch ignores TF_PREEMPT, as without demotion. */
       skip
#else
       skip
#endif
    :: else ->
       sketch_q(t);
       atomic { prepare_wait(me) }
       BG_SPLIT(give_back(t); wait_background(me))    /* background: next_tid ignored */
          move_slot(me, t);
          enqueue(me);
          start_switched_to(t);
          wake_if_others_listed(me, me);
       BG_JOIN;
       sleep_until_running(wst[me], wsleep[me])
    fi;
    t = 0
}

/*
 * SysEnter with the direct successor (K3s, BlockWorker): H1, H2, then RUNNING -> BLOCKED (the EAGAIN check of
 * the successor and the block mark, both private to this call, folded in), MoveSlot (next_tid consumed),
 * StartSwitchedTo, and the look at the list (Q3). The server is not woken. No successor: K3, through the server.
 */
/*
 * K12l (-DOPEN=1): a block with no successor and nothing for the server to do leaves the server open: RUNNING ->
 * BLOCKED, then the mirror me | TID_RUNNING -> OPEN (the record still ours: held), then the record's release, and
 * no wake unless a look finds a reason. User space may always choose the plain block instead (a timer to arm, a
 * background worker, a stop).
 */
inline block_leaving_open(me) {
    atomic { off_running(me, BLOCKED) }
    BG_SPLIT(block_background(me))
       atomic { assert(slot[ws] == (TID(me) | TID_RUNNING)); slot[ws] = TID_OPEN; held[ws] = 1 }
       atomic { assert(held[ws]); held[ws] = 0 }
#if BROKEN != 22
       /*
        * Then the looks: the kernel half's at the list (an arrival that judged itself quiet against us before the
        * slot opened) and at the mirror (a server awake between our two steps took the offer back, picked, and its
        * Wait found the record still ours: it started nobody), and user space's at the run queue (the server's own
        * drain may have queued a worker our successor pick did not see yet, and read the slot before it opened).
        * Each one wakes the server.
        */
       if
       :: atomic { head[ws] != 0 } -> wake_server(ws)
       :: atomic { head[ws] == 0 } -> skip
       fi;
#if BROKEN != 23
       /* BROKEN 23 leaves the mirror's look out. */
       if
       :: atomic { slot[ws] != TID_OPEN } -> wake_server(ws)
       :: atomic { slot[ws] == TID_OPEN } -> skip
       fi;
#endif
       if
       :: atomic { QLEN(ws) > 0 } -> wake_server(ws)
       :: atomic { QLEN(ws) == 0 } -> skip
       fi
#endif
    BG_JOIN
}

inline handoff_block(me) {
    take_successor(me, 0);
    if
    :: t == NOBODY -> block_plain(me)
#if OPEN
    :: t == NOBODY -> block_leaving_open(me)
#endif
    :: else ->
       sketch_q(t);
       atomic { assert((wst[t] & SMASK) == RUNNABLE); off_running(me, BLOCKED) }
       /* A background K3: the mark goes; next_tid is ignored and left, and user space gives the successor back. */
       BG_SPLIT(leave_background(me); give_back(t))
#if BROKEN == 5
          /* BROKEN 5: the successor is woken before the record moves to it. */
          start_switched_to(t);
          move_slot(me, t);
#else
          move_slot(me, t);
          start_switched_to(t);
#endif
          wake_if_others_listed(me, NOBODY);
       BG_JOIN
    fi;
    t = 0
}

/* SysEnter, blocked in the region (no user code of this worker runs on the server), then SysExit: unblock. */
inline block_region(me) {
#if HANDOFF
    handoff_block(me);
#else
    block_plain(me);
#endif
#if QUIET
    inregion[me] = 1;     /* ghost: SysEnter is over (the quiet-arrival check below) */
#endif
    unblock(me)
}

/*
 * A worker thread that finished its body blocks through K3s, as a region does, and waits in the pool for
 * another body; here it leaves (a BLOCKED worker's block is no server's business: Ctl(Unregister) touches
 * no server word).
 */
inline finish(me) {
    handoff_block(me);
    atomic { reg[me] = 0; alive[me] = 0 }
}


/* Ctl(Unregister) of a RUNNING worker with next_tid 0: RUNNING -> NONE, free the slot, wake the server, forget. */
inline unregister(me) {
    atomic { off_running(me, NONE) }
    BG_SPLIT(leave_background(me))      /* K7 of a background worker: no hand-on, no wake */
       release_slot(me);
       wake_server(ws);
    BG_JOIN;
    atomic { reg[me] = 0; alive[me] = 0 }
}

/*
 * Removal: the thread ends without unregistering (state still RUNNING, the slot still names it). The exit
 * watcher (ReapExited) releases the slot, wakes the server and forgets the task; its steps are modelled
 * here, in the dead worker's place.
 */
inline exit_and_reap(me) {
    alive[me] = 0;
#if DEMOTE
    /*
     * With demotion the reaper takes the dead worker's word off RUNNING by CAS (to NONE), as the worker's own
     * calls do: a server may demote (or adopt) a thread that already ended, and the reaper must know which.
     */
    atomic { off_running(me, NONE) }
    BG_SPLIT(leave_background(me))
       release_slot(me);
       wake_server(ws);
    BG_JOIN;
#else
    release_slot(me);
    wake_server(ws);
#endif
    reg[me] = 0
}

/*
 * The quiet-arrival property, checked whenever worker x goes on running user code (K4q and Q1-Q3 together): if
 * its server sleeps and every other worker is asleep, blocked in a region (its SysEnter over) or gone, so that
 * nobody is about to wake the server or drain its list, then no entry on the list is an arrival that stayed quiet although the margin the
 * server sleeps with says it must wake it. Such an arrival would wait, unseen, until x stops of its own accord.
 */
#define settled(w, x)  ((w) == (x) || !alive[w] || wsleep[w] || inregion[w])
#define missed(a, x, s) (quietly[a] && onlist[a] && SRV(a) == (s) && !MUST_STAY_QUIET(a, x, s))
#define quiet_ok(x) \
    assert(!(ssleep[SRV(x)] && settled(0, x) && settled(1, x) && (NW <= 2 || settled(2 % NW, x)) && \
             (NW <= 3 || settled(3 % NW, x)) && \
             (missed(0, x, SRV(x)) || missed(1, x, SRV(x)) || (NW > 2 && missed(2 % NW, x, SRV(x))) || \
              (NW > 3 && missed(3 % NW, x, SRV(x))))))

#if IDLE
/*
 * K11 on the worker's side (WorkerThread.WaitInPool): block as a finished body does (K3s or plain), offer itself
 * (OfferIdle: the mark; the handshake's CAS to Asleep is folded in: from here on only a releaser ends the wait), then
 * IdleWait: sleep on the word while it stays BLOCKED (nobody wakes it for the releaser's change: it sleeps on), then
 * as K4's wait until a server runs it. Run again, it unregisters.
 */
inline idle_reuse(me) {
    handoff_block(me);
    atomic {
        assert((wst[me] & SMASK) == BLOCKED && !idlemark[me]);
        idlemark[me] = 1;
#if QUIET
        inregion[me] = 1
#endif
    }
    do
    :: atomic {
           seen = wst[me];
           if
           :: (seen & SMASK) != BLOCKED -> seen = 0; break
           :: else -> skip
           fi
       }
       atomic { if :: wst[me] == seen -> wsleep[me] = 1 :: else -> skip fi; seen = 0 }
       wsleep[me] == 0
    od;
    sleep_until_running(wst[me], wsleep[me]);
    atomic { runs_user_code(me); quiet_ok(me); ws = srv[me] }
    unregister(me)
}

/*
 * K11 on the releaser's side (UmcgKernel.UnblockIdle), on a thread that is no task: take the mark (CAS 1 -> 0: one
 * releaser), then K4's steps for the worker: BLOCKED -> RUNNABLE, the push, the wake unless quiet. No futex wake of
 * the worker. It waits for an offer at an end label: a worker that never idles leaves it waiting, validly.
 */
proctype Releaser(byte me) {
    byte first, ws, m, t;
    bit pushed;
end_waiting:
    atomic {
        idlemark[me] == 1 ->
        idlemark[me] = 0;
#if STEAL
        /* The body may be bound for another server: MoveTo before the release (it is BLOCKED: V3). */
        if :: srv[me] = 0 :: srv[me] = NS - 1 fi;
#endif
        ws = srv[me]
    }
#if BROKEN == 20
    /* BROKEN 20: pushed before it is RUNNABLE: a drain may take a BLOCKED entry, whose start then fails. */
    enqueue(me);
    atomic { assert((wst[me] & SMASK) == BLOCKED); wst[me] = RUNNABLE; inregion[me] = 0 }
#else
    atomic { assert((wst[me] & SMASK) == BLOCKED); wst[me] = RUNNABLE; inregion[me] = 0 }
#if OPEN
    /* K12 for the worker (TryStartIdleOnOpenServer): claim an open server, then K6 (RUNNABLE -> RUNNING, futex wake). */
    atomic {
        if
        :: slot[ws] == TID_OPEN && !held[ws] -> slot[ws] = TID(me) | TID_RUNNING; pushed = 1
        :: else -> pushed = 0
        fi
    }
    if
    :: pushed ->
       atomic { assert(wst[me] == RUNNABLE); wst[me] = RUNNING; futex_wake(wsleep[me]); pushed = 0 };
       goto released
    :: else -> skip
    fi;
#endif
    enqueue(me);
#endif
#if BROKEN == 19
    /* BROKEN 19: no wake: the server may sleep past the worker just queued for it. */
    skip
#else
    announce(me)
#endif
#if OPEN
    ;
released:
    skip
#endif
}
#endif

proctype Worker(byte me) {
    byte seen, first, t, r, ws, cur, m;
    bit took, pushed, bg;
#ifndef LIVE
    byte k;
#endif

    /* Ctl(Register | Worker): the block says BLOCKED; the task enters the table, then takes the unblock path. */
    atomic { reg[me] = 1; alive[me] = 1; ws = srv[me] }
    unblock(me);

#ifdef LIVE
    do
    :: atomic { runs_user_code(me); quiet_ok(me); ws = srv[me] }
       if
#if HANDOFF
       :: handoff_yield(me)
#else
       :: yield(me)
#endif
       :: block_region(me)
       :: safepoint(me)
#if DEMOTE
       /* Worker 0's body may spin without a safepoint for as long as it likes: only demotion gets past it. */
       :: me == 0 -> skip
#endif
       fi
    od
#else
    do
    :: k < (me == 0 -> OPS0 : OPS) ->
       atomic { runs_user_code(me); quiet_ok(me); ws = srv[me]; k++ }
       if
#if HANDOFF
       /* the scheduler's yield and park: the successor comes from the run queue (a raw switch is checked without HANDOFF) */
       :: handoff_yield(me)
#else
       :: yield(me)
       :: switch_to(me)
#endif
       :: block_region(me)
#ifndef LEAN
       :: safepoint(me)
#endif
       fi
    :: k == (me == 0 -> OPS0 : OPS) -> break
    od;
    atomic { runs_user_code(me); quiet_ok(me); ws = srv[me]; k = 0 }
    if
#ifndef LEAN
    :: unregister(me)
    :: exit_and_reap(me)
#endif
#if HANDOFF
    :: finish(me)
#endif
#if IDLE
    :: idle_reuse(me)
#endif
    fi
#endif
}

/* ---- the server loop (Server.ServeOnce) and ServerWait ------------------------------------------ */

/* Q1 needs to know whether a worker runs or is picked (step 4's `nothing`); only QUIET keeps it. */
#if QUIET
#define NOTE_BUSY(b) busy = (b)
#else
#define NOTE_BUSY(b) skip
#endif
#if BROKEN == 9
#define NOTE_X(tid) qx = (tid)    /* the worker the server computes its quiet value for (its TID) */
#else
#define NOTE_X(tid) skip
#endif
#if QUIET
#define NOTE_PENDING atomic { busy = 1; NOTE_X(v) }
#else
#define NOTE_PENDING skip
#endif

/* ---- demotion (DEMOTE): K9 and K10, by the server on its own thread ------------------------------ */

#define marked(w, s)  (mark[w] && SRV(w) == (s))
#define BGCOUNT(s)    ((marked(0, s) -> 1 : 0) + (marked(1, s) -> 1 : 0) + \
                       (NW > 2 && marked(2 % NW, s) -> 1 : 0) + (NW > 3 && marked(3 % NW, s) -> 1 : 0))
/*
 * The loop demotes the worker its record names when it asked it to give way (TF_PREEMPT still set: no safepoint
 * came within the grace period, whose end is the policy's whim here), another worker is queued, and fewer than
 * DEMOTE_K of its workers are in the background (user space's count; the marks stand for it: it counts a worker
 * from its demotion until it has seen it leave, so never fewer).
 */
#if BROKEN == 17
/* BROKEN 17: the bound checked after the count, not before: one more background worker than DEMOTE_K. */
#define UNDER_BOUND(s) (BGCOUNT(s) <= DEMOTE_K)
#else
#define UNDER_BOUND(s) (BGCOUNT(s) < DEMOTE_K)
#endif
#define DEMOTE_DUE(s, t) \
    (DEMOTE && DEMOTE_BUDGET && (wst[t] & PREEMPT) != 0 && QLEN(s) > 0 && UNDER_BOUND(s))

/*
 * K9: (1) claim the mark, CAS 0 -> 1 (EAGAIN if it is set); (2) CAS RUNNING|PREEMPT -> RUNNING|PREEMPT|BG, or (the
 * worker left RUNNING first: it blocked, waited, exited; it still owns the record and releases it itself) mark := 0
 * and EAGAIN; (3) the record (and mirror) Running(t) -> Empty. The mark comes first so that TF_BACKGROUND never
 * shows without it; the record goes last because until the CAS succeeds, the worker may still release it itself.
 *   Why a CAS on the mark, not a store: a worker leaving the background is RUNNABLE from its own CAS on, with its
 * mark still to clear. The server's picks come from drained entries, pushed after the clear; but a raw switch to
 * it, or a stale run-queue entry such a switch left, may run it in between, and its server may demote it anew. A
 * stored mark would then be wiped by the late clear (TF_BACKGROUND without the mark); the CAS refuses instead.
 */
inline demote(s, t) {
    atomic {
        claiming[s] = 1;
        if
#if BROKEN == 12
        /* BROKEN 12: the mark is stored, not claimed. */
        :: true -> mark[t] = 1; r = OK
#else
        :: !mark[t] -> mark[t] = 1; r = OK
        :: mark[t] -> r = EAGAIN; claiming[s] = 0
#endif
        fi
    }
    if
    :: r == OK ->
#if BROKEN == 10
       /* BROKEN 10: the record is released before the CAS, while the worker still runs in the foreground. */
       atomic { if :: names(s, t) -> slot[s] = 0 :: else -> skip fi }
#endif
       atomic {
           if
           :: wst[t] == (RUNNING | PREEMPT) -> wst[t] = RUNNING | PREEMPT | BG; r = OK
           :: else -> r = EAGAIN
           fi
       }
       if
#if BROKEN == 10
       :: r == OK -> claiming[s] = 0
#else
       :: r == OK -> atomic { assert(names(s, t)); slot[s] = 0; claiming[s] = 0 }
#endif
       :: else -> atomic { mark[t] = 0; claiming[s] = 0 }
       fi
    :: else -> skip
    fi
}

/*
 * K10: (1) record Empty -> Running(w) and the mirror; (2) CAS RUNNING|BG(|PREEMPT) -> RUNNING, or (w left the
 * background on its own first) record and mirror back to empty, EAGAIN; (3) mark := 0. No wake: w runs already.
 * Record first: the moment the CAS clears TF_BACKGROUND, w is a foreground RUNNING worker and may release it.
 */
inline adopt(s, w) {
#if BROKEN == 11
    /* BROKEN 11: TF_BACKGROUND is cleared before the record names the worker. */
    atomic {
        claiming[s] = 1;
        if
        :: (wst[w] | PREEMPT) == (RUNNING | PREEMPT | BG) -> wst[w] = RUNNING; r = OK
        :: else -> r = EAGAIN
        fi
    }
    if
    :: r == OK -> atomic { assert(slot[s] == 0); slot[s] = TID(w) | TID_RUNNING }
    :: else -> skip
    fi;
#else
    atomic { assert(slot[s] == 0); claiming[s] = 1; slot[s] = TID(w) | TID_RUNNING }
    atomic {
        if
        :: (wst[w] | PREEMPT) == (RUNNING | PREEMPT | BG) -> wst[w] = RUNNING; r = OK
        :: else -> r = EAGAIN
        fi
    }
#endif
    if
    :: r == OK -> atomic { mark[w] = 0; claiming[s] = 0 }
#if BROKEN == 11
    :: else -> claiming[s] = 0
#else
    :: else -> atomic { assert(names(s, w)); slot[s] = 0; claiming[s] = 0 }
#endif
    fi
}

proctype Server(byte s) {
    byte cur, v, t, seen, r;
#if QUIET
    bit busy;
#endif
#if OPEN
    bit opening;
    byte om;     /* the margin Q1 replaced */
#endif
#if BROKEN == 9
    byte qx;
#endif
#ifndef LIVE
    byte npre;
#if DEMOTE
    byte ndem;
#endif
#endif

top:
#if OPEN
    /* O2: the offer taken back (CAS OPEN -> 0) before the slot is read again; a claim left the claimer running there. */
    atomic { if :: slot[s] == TID_OPEN -> slot[s] = 0 :: else -> skip fi }
#endif
    /* 1. RUNNABLE | COND_WAIT first: a wake from here on turns our Wait into EAGAIN instead of being lost. */
#if BROKEN == 2
    /* BROKEN 2: no COND_WAIT announcement here; Wait below stores RUNNABLE and sleeps without re-checking. */
    skip;
#elif QUIET
    /*
     * After Q1's look found an arrival the server takes another turn without sleeping: its word is still
     * RUNNABLE | COND_WAIT (PrepareWait's Transition from RUNNING then does nothing), or RUNNING if a wake came.
     */
    atomic {
        if
        :: (sst[s] & SMASK) == RUNNING -> sst[s] = RUNNABLE | COND_WAIT
        :: else -> assert(sst[s] == (RUNNABLE | COND_WAIT))
        fi
    }
#else
    atomic { assert((sst[s] & SMASK) == RUNNING); sst[s] = RUNNABLE | COND_WAIT }
#endif
#if BROKEN == 9
    margin[s] = 0;    /* the sketch's S1: every arrival wakes the server while it looks */
#endif

    /* 2. RunnableList.Drain: take the whole list with one exchange, then walk it. */
    drain(s);

    /* 4. Run something if nothing runs for us; otherwise maybe ask the running worker to give way. */
    /*
     * The slot is read in the same step as what follows when it holds no TID_RUNNING: then only this
     * server writes it.
     */
    if
    :: atomic { (slot[s] & TID_RUNNING) != 0 -> t = (slot[s] & TID_MASK) - 1; NOTE_BUSY(1); NOTE_X(t + 1) }
       if
       :: PREEMPT_BUDGET ->
          PREEMPT_SPEND;
          /* MaybePreempt: RequestPreempt (CAS: set TF_PREEMPT on a RUNNING word), then Kick. */
          atomic {
              if
              :: (wst[t] & SMASK) == RUNNING && (wst[t] & PREEMPT) == 0 -> wst[t] = wst[t] | PREEMPT; r = OK
              :: else -> r = EAGAIN
              fi
          }
          if
          :: r == OK -> futex_wake(wsleep[t])
          :: else -> skip
          fi;
          r = OK
#ifndef LIVE
       :: true -> skip     /* the policy lets it run on */
#endif
       fi;
#if DEMOTE
       /* K9, once the grace period is over (now or in a later turn); then another worker, in the same turn. */
       if
       :: DEMOTE_DUE(s, t) ->
          DEMOTE_SPEND;
          demote(s, t);
          if
          :: r == OK -> r = OK; t = 0; goto pick_queued
          :: else -> r = OK
          fi
#ifndef LIVE
       :: true -> skip
#endif
       :: else -> skip
       fi;
#endif
       t = 0
#if OPEN
    /*
     * O2 again: a block may have left the slot open (K12l) after our top; take it back before it is read as a pick.
     * One step for the code's CAS and re-read: a claim in between puts TID_RUNNING there and the branch above applies.
     */
    :: atomic { (slot[s] & TID_RUNNING) == 0 -> if :: slot[s] == TID_OPEN -> slot[s] = 0 :: else -> skip fi; v = slot[s] }
#else
    :: atomic { (slot[s] & TID_RUNNING) == 0 -> v = slot[s] }
#endif
       /* IsPendingPick: an earlier pick whose Wait returned EAGAIN is kept while it is RUNNABLE. */
       if
       :: v != 0 ->
          atomic {
              t = v - 1;
              if
              :: reg[t] && (wst[t] & SMASK) == RUNNABLE -> skip
              :: else -> slot[s] = 0; v = 0
              fi;
              t = 0
          }
       :: else -> skip
       fi;
       if
       :: v == 0 ->
#if DEMOTE
          /*
           * K10 when the record is empty and nothing better is queued: in the safety runs whenever the policy
           * likes (or not at all: a background worker also leaves on its own); in the liveness run always first,
           * so that a demoted worker takes its turn again as soon as the worker run in its place stops.
           */
          if
          :: marked(0, s) -> t = 0
          :: marked(1, s) -> t = 1
          :: NW > 2 && marked(2 % NW, s) -> t = 2 % NW
          :: NW > 3 && marked(3 % NW, s) -> t = 3 % NW
#if !defined(LIVE) || BROKEN == 16
          /* BROKEN 16 (a liveness twin): adoption left to the policy's whim, so a demoted worker may never return. */
          :: true -> t = NOBODY
#endif
          :: else -> t = NOBODY
          fi;
          if
          :: t != NOBODY ->
             adopt(s, t);
             t = 0;
             if
             :: r == OK -> r = OK; NOTE_BUSY(1); goto adopted
             :: else ->
                /*
                 * EAGAIN: the worker left the background first, most likely onto our list. Another turn, as after
                 * K1's EAGAIN: an arrival that read the record while K10 had it name the worker judged itself quiet
                 * against a worker that never ran, and only a fresh drain sees its entry.
                 */
                r = OK;
#if BROKEN != 15
                atomic { if :: (sst[s] & SMASK) == RUNNABLE -> sst[s] = RUNNING :: else -> skip fi }
                goto top
#else
                /* BROKEN 15: after a failed K10 the turn goes on to the run queue, without a fresh drain. */
                skip
#endif
             fi
          :: else -> t = 0
          fi;
pick_queued:
#endif
          /* PickNext: the policy's choice (any queued worker; FIFO in the liveness run), under the queue lock. */
          atomic {
              if
#ifdef LIVE
              :: empty(rq[s]) -> v = 0
              :: nempty(rq[s]) -> rq[s]?t; v = TID(t)
#else
              :: rq_has(s, 0) -> rq_take(s, 0); v = TID(0)
              :: rq_has(s, 1) -> rq_take(s, 1); v = TID(1)
              :: NW > 2 && rq_has(s, 2 % NW) -> rq_take(s, 2 % NW); v = TID(2 % NW)
              :: NW > 3 && rq_has(s, 3 % NW) -> rq_take(s, 3 % NW); v = TID(3 % NW)
#if STEAL
              /*
               * StealFromBusyServer, when our own queue is empty: the victim's queue lock held, take one of its
               * queued workers if it has more than it can run now (it runs one, or two are queued), and move
               * it here (WorkerThread.MoveTo writes its server_tid). Our empty dequeue and the steal are two
               * lock sections in the C# code; joining them drops only interleavings in which a push between
               * them makes our queue non-empty, and a pick from a non-empty queue is modelled anyway.
               */
              :: QLEN(s) == 0 && STEALABLE(VICTIM(s)) && rq_has(VICTIM(s), 0) -> steal(0)
              :: QLEN(s) == 0 && STEALABLE(VICTIM(s)) && rq_has(VICTIM(s), 1) -> steal(1)
              :: NW > 2 && QLEN(s) == 0 && STEALABLE(VICTIM(s)) && rq_has(VICTIM(s), 2 % NW) -> steal(2 % NW)
              :: NW > 3 && QLEN(s) == 0 && STEALABLE(VICTIM(s)) && rq_has(VICTIM(s), 3 % NW) -> steal(3 % NW)
#endif
              :: else -> v = 0
#endif
              fi;
              slot[s] = v;
              NOTE_BUSY(v != 0);
              NOTE_X(v);
              t = 0
          }
       :: else -> NOTE_PENDING     /* the pending pick */
       fi
    fi;
#if DEMOTE
adopted:
#endif
    v = 0;

#if QUIET
    /*
     * Q1 (PublishQuietMargin): the margin for the coming sleep, one CAS on our word's arrival bits: 0 when nothing
     * runs or is picked (`nothing`, read at step 4), else the policy's 1 or 2 (QuietMargin; 2 while its slice is
     * armed). Then, after that full fence, one more look at the list: an arrival that read the old margin pushed
     * before it read, so the look sees its entry, and the server takes another turn instead of sleeping.
     */
    if
#if BROKEN == 9
    :: atomic { !busy -> margin[s] = 0 }
    :: atomic { busy -> margin[s] = RANK(qx - 1) + 1; qx = 0 }
#else
#if OPEN
    /*
     * O3: a server that will sleep open (nothing runs or is picked) publishes the margin it would for a running
     * worker, or 0 (another server idle), and then looks at its list as PublishQuietMargin does: unless the margin
     * was 0 and stays 0. A look after a margin lowered to 0 matters once a claim may fill the record: an arrival that
     * read the old margin would judge itself against the claimer.
     */
    :: atomic { !busy -> om = margin[s]; margin[s] = 0; opening = 1 }
    :: atomic { !busy -> om = margin[s]; margin[s] = 1; opening = 1 }
#ifndef MARGIN1
    :: atomic { !busy -> om = margin[s]; margin[s] = 2; opening = 1 }
#endif
#else
    :: atomic { !busy -> margin[s] = 0 }
#endif
    :: atomic { busy -> margin[s] = 1 }
#ifndef MARGIN1
    :: atomic { busy -> margin[s] = 2 }
#endif
#endif
    fi;
    if
#if OPEN
    :: busy || (opening && (margin[s] != 0 || om != 0)) ->
#else
    :: busy ->
#endif
#if BROKEN == 8
       /* BROKEN 8: no look at the list after the margin is written. */
       skip
#else
       if
#if OPEN
       :: atomic { head[s] != 0 -> busy = 0; opening = 0; om = 0 }
#else
       :: atomic { head[s] != 0 -> busy = 0 }
#endif
          goto top
       :: atomic { head[s] == 0 -> skip }
       fi
#endif
    :: else -> skip
    fi;
    busy = 0;
#endif
#if OPEN
    /* O1: nothing runs or is picked: the slot 0 -> OPEN (a CAS: user code may have written it), then Wait. */
    if
    :: opening -> atomic { if :: slot[s] == 0 -> slot[s] = TID_OPEN :: else -> skip fi; opening = 0; om = 0 }
    :: else -> skip
    fi;
#endif

    /* 6. ServerWait: UpdateState(RUNNABLE -> RUNNABLE) clears TF_COND_WAIT; EAGAIN if a wake came first. */
#if BROKEN == 2
    atomic { sst[s] = RUNNABLE; v = slot[s] }
#else
    /* The slot's read joins the step: with no TID_RUNNING only we write it; with it, we sleep either way. */
    atomic {
        if
        :: (sst[s] & SMASK) == RUNNABLE -> sst[s] = RUNNABLE; r = OK; v = slot[s]
        :: else -> r = EAGAIN
        fi
    }
    if
    :: r == EAGAIN -> r = OK; goto top
    :: else -> skip
    fi;
#endif
    if
#if OPEN
    /* K1: a record a block leaving us open still holds (K12l's window) is not empty: start nobody, and sleep. */
    :: v != 0 && v != TID_OPEN && (v & TID_RUNNING) == 0 && held[s] -> v = 0
    :: v != 0 && v != TID_OPEN && (v & TID_RUNNING) == 0 && !held[s] ->
#else
    :: v != 0 && (v & TID_RUNNING) == 0 ->
#endif
       /* StartWorker: resolve, mark the slot, then wake the worker; undo the mark if it was not RUNNABLE. */
       t = v - 1;
       if
       :: atomic { !reg[t] -> r = ESRCH }
       :: atomic {
              reg[t] ->
              assert(slot[s] == v);          /* "no other thread writes this slot now" */
              assert(srv[t] == s);           /* the pick names a worker of this server */
              slot[s] = v | TID_RUNNING
#if DEMOTE
              ; claiming[s] = 1
#endif
          }
          wake_worker(t);
          if
#if DEMOTE
          :: r != OK -> atomic { slot[s] = v; claiming[s] = 0 }
          :: else -> claiming[s] = 0
#else
          :: r != OK -> slot[s] = v
          :: else -> skip
#endif
          fi
       fi;
       t = 0; v = 0;
       if
       :: r != OK ->
          /* UpdateState(RUNNABLE -> RUNNING) and return the error; ESRCH drops the pick. */
          atomic { if :: (sst[s] & SMASK) == RUNNABLE -> sst[s] = RUNNING :: else -> skip fi }
          if
          :: r == ESRCH -> slot[s] = 0
          :: else -> skip
          fi;
          r = OK;
          goto top
       :: else -> skip
       fi
    :: else -> v = 0
    fi;

    /* SleepUntilRunning; idle here for ever is a valid end (nothing left to run). */
    do
    :: atomic {
           seen = sst[s];
           if
           :: (seen & SMASK) == RUNNING -> seen = 0; break
           :: else -> assert((seen & SMASK) == RUNNABLE)
           fi
       }
       atomic { if :: sst[s] == seen -> ssleep[s] = 1 :: else -> skip fi; seen = 0 }
end_idle:
       if
       :: ssleep[s] == 0
#ifdef LIVE
       /*
        * The time slice's deadline (NextDeadline): a server whose worker runs may time out; ETIMEDOUT puts
        * it back to RUNNING (UpdateState(RUNNABLE -> RUNNING); a wake that won the race did so already).
        */
       :: atomic {
              ssleep[s] == 1 && (slot[s] & TID_RUNNING) != 0 ->
              ssleep[s] = 0;
              if :: (sst[s] & SMASK) == RUNNABLE -> sst[s] = RUNNING :: else -> skip fi
          }
#endif
       fi
    od;
    goto top
}

/* ---- the properties ---------------------------------------------------------------------------- */

/* At most one RUNNING worker per server (among live, registered workers), at every step. */
#define running_on(w, s) (SRV(w) == s && reg[w] && alive[w] && (wst[w] & SMASK) == RUNNING && (wst[w] & BG) == 0)
#define count_running(s) \
    ((running_on(0, s) -> 1 : 0) + (running_on(1, s) -> 1 : 0) + \
     (NW > 2 && running_on(2 % NW, s) -> 1 : 0) + (NW > 3 && running_on(3 % NW, s) -> 1 : 0))

/*
 * DEMOTE (I1'), for worker w: a foreground RUNNING worker is named by its server's record; RUNNING|BG implies
 * the mark; a record names a background worker only inside its server's K1, K9 or K10 (`claiming`); and no server
 * has more than DEMOTE_K background workers.
 */
#define fg_named(w)   (!running_on(w, SRV(w)) || names(SRV(w), w))
#define in_bg_word(w) ((wst[w] & (SMASK | BG)) == (RUNNING | BG))   /* RUNNABLE|COND_WAIT|BG is one leaving */
#define bg_marked(w)  (!in_bg_word(w) || mark[w])
#define bg_unnamed(w) (!in_bg_word(w) || !names(SRV(w), w) || claiming[SRV(w)])
#define i1_bg(w)      (fg_named(w) && bg_marked(w) && bg_unnamed(w))
#define in_bg(w, s)   (SRV(w) == (s) && in_bg_word(w))
#define count_bg(s) \
    ((in_bg(0, s) -> 1 : 0) + (in_bg(1, s) -> 1 : 0) + \
     (NW > 2 && in_bg(2 % NW, s) -> 1 : 0) + (NW > 3 && in_bg(3 % NW, s) -> 1 : 0))
#if DEMOTE
#define demote_ok \
    (i1_bg(0) && i1_bg(1) && (NW <= 2 || i1_bg(2 % NW)) && (NW <= 3 || i1_bg(3 % NW)) && \
     count_bg(0) <= DEMOTE_K && count_bg(NS - 1) <= DEMOTE_K)
#else
#define demote_ok true
#endif

#ifndef LIVE
active proctype one_runner() {
end_watch:
    atomic {
        !(count_running(0) <= 1 && count_running(NS - 1) <= 1 && demote_ok) ->
        assert(count_running(0) <= 1 && count_running(NS - 1) <= 1 && demote_ok)
    }
}

/*
 * When nothing can move any more (every script is over, or somebody waits for ever): every worker
 * finished, no server sleeps past a worker queued for it, and no slot names a worker.
 */
active proctype quiescence() {
    byte w;
    timeout ->
    atomic {
        w = 0;
        do
        :: w < NW ->
           /* a worker that never finished waits for ever: a lost wake-up */
           assert(!alive[w] && !reg[w]);
           assert(!mark[w]);             /* no background mark outlives its worker */
           assert(!idlemark[w]);         /* no offer outlives its worker */
           w++
        :: w == NW -> break
        od;
        w = 0;
        do
        :: w < NS ->
           /* a server asleep with its list or run queue non-empty: it slept past a queued worker */
           assert(!(ssleep[w] && head[w] != 0 && reg[head[w] - 1]));
           assert((slot[w] & TID_RUNNING) == 0);
           w++
        :: w == NS -> break
        od
    }
}
#endif

#ifdef LIVE
#if DEMOTE
/*
 * With DEMOTE worker 0 may spin without a safepoint for ever: a RUNNABLE worker still eventually runs, and a
 * background worker is eventually adopted or leaves the background on its own.
 */
ltl runnable_runs {
    [] (((wst[0] & SMASK) == RUNNABLE -> <> ((wst[0] & SMASK) == RUNNING)) &&
        ((wst[NW - 1] & SMASK) == RUNNABLE -> <> ((wst[NW - 1] & SMASK) == RUNNING)) &&
        ((wst[0] & BG) != 0 -> <> ((wst[0] & BG) == 0)) &&
        ((wst[NW - 1] & BG) != 0 -> <> ((wst[NW - 1] & BG) == 0)))
}
#else
/* A RUNNABLE worker eventually runs (checked with weak fairness, -f). */
ltl runnable_runs {
    [] (((wst[0] & SMASK) == RUNNABLE -> <> ((wst[0] & SMASK) == RUNNING)) &&
        ((wst[NW - 1] & SMASK) == RUNNABLE -> <> ((wst[NW - 1] & SMASK) == RUNNING)))
}
#endif
#endif

init {
    byte i;
    atomic {
        i = 0;
        do
        :: i < NS -> sst[i] = RUNNING; run Server(i); i++
        :: i == NS -> break
        od;
        i = 0;
        do
        :: i < NW -> wst[i] = BLOCKED; srv[i] = i % NS; run Worker(i); i++
        :: i == NW -> break
        od;
#if IDLE
        i = 0;
        do
        :: i < NW -> run Releaser(i); i++
        :: i == NW -> break
        od
#endif
    }
}
