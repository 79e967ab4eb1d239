/*
 * The scheduler's park word (src/Umcg/Scheduling/WorkerThread.Parking.cs): (sequence << 8) | state, one
 * word so that a signal or a timer meant for one park can never end a later park of the same worker.
 * docs/model.md maps each step to its method.
 *
 * One worker parks PARKS times. Each park publishes its sequence in a wait queue (as the worker-aware
 * primitives do) and then either completes (yields; its server holds it aside and may arm a timer) or
 * cancels. A waker takes whatever sequence the wait queue holds, maybe late, and unparks it; the
 * server's timer may time a held park out. Checked: every park ends (no lost wake-up), a park is made
 * runnable at most once, a park reports "unparked" exactly when an Unpark for its sequence returned
 * true, an Unpark that returns true lands on a park that has not ended, and only a park's own timer
 * times it out.
 *
 * BROKEN=1: Unpark(seq) does not compare the sequence (the plain Unpark()): a late waker ends a later park.
 */

#define PARKS 2       /* the timer choice in Server names parks 1 and 2 */
#ifndef BROKEN
#define BROKEN 0
#endif

#define P_RUNNING  0
#define P_PARKING  1
#define P_PARKED   2
#define P_UNPARKED 3
#define P_TIMEDOUT 4

byte seq;            /* the park word's sequence */
byte st;             /* the park word's state */
byte waitq;          /* the sequence published in the wait queue, 0 when empty */
byte arrived;        /* the sequence of a park whose yield reached the server's drain, 0 when none */
bit  armed[PARKS + 1]; /* the server's timer for this park is armed (it may fire late, after the park ended) */
bit  ready;          /* the worker is in its server's run queue */
bit  done;           /* the worker finished all its parks */

/* Ghosts, indexed by sequence. */
bit  signalled[PARKS + 1];   /* an Unpark for this sequence returned true */
bit  ended[PARKS + 1];       /* this park returned */
bit  timed[PARKS + 1];       /* this park's own timer fired */

/* Server.MakeReady / Enqueue: the worker goes to its run queue, once per park. */
inline make_ready() {
    assert(!ready);
    ready = 1
}

proctype Worker() {
    byte old;
    do
    :: seq < PARKS ->
       /* PrepareToPark: the deadline, then (seq + 1, Parking) in one store; then publish in the wait queue. */
       atomic { seq++; st = P_PARKING }
       waitq = seq;
       if
       :: /* CompletePark: Yield puts us on the runnable list; the server's drain sees us. */
          arrived = seq;
          ready == 1;            /* run again: by the server's pick after an Unpark or a timeout */
          ready = 0;
          /* Exchange (seq, Running) */
          atomic { old = st; st = P_RUNNING }
       :: /* CancelPark: never yielded; only an Unpark can have changed the word. */
          atomic { old = st; st = P_RUNNING; assert(old == P_PARKING || old == P_UNPARKED) }
       fi;
       /* A timed-out or cancelled waiter takes itself out of the wait queue. */
       atomic { if :: waitq == seq -> waitq = 0 :: else -> skip fi }
       atomic {
           assert((old == P_UNPARKED) == signalled[seq]);   /* unparked exactly when an Unpark said so */
           assert(old != P_TIMEDOUT || timed[seq]);          /* timed out only by its own timer */
           ended[seq] = 1;
           old = 0
       }
    :: seq == PARKS -> break
    od;
    done = 1
}

/* A signal (Unpark(seq)) from another worker, for whatever park it found in the wait queue, maybe late. */
proctype Waker() {
    byte mine, park;
    do
    :: atomic { waitq != 0 -> mine = waitq; waitq = 0 }
       do
       :: atomic {
              park = st;
#if BROKEN == 1
              if :: true -> skip fi;
#else
              if :: seq != mine -> break :: else -> skip fi;
#endif
              if
              :: park == P_PARKING ->
                 /* its server has not drained it yet; the drain will queue it */
                 st = P_UNPARKED; assert(!ended[mine]); signalled[mine] = 1; break
              :: park == P_PARKED -> skip
              :: else -> break
              fi
          }
          /* Parked: CAS to Unparked, then MakeReady (a separate step). */
          if
          :: atomic { st == P_PARKED && seq == mine -> st = P_UNPARKED; assert(!ended[mine]); signalled[mine] = 1 }
             make_ready();
             break
          :: atomic { !(st == P_PARKED && seq == mine) -> skip }   /* the CAS failed: read again */
          fi
       od;
       mine = 0; park = 0
    :: done -> break
    od
}

/* The server: TryHoldParked in its drain, and TryTimeOut when a held park's deadline passes. */
proctype Server() {
    byte s;
end_serve:
    do
    :: atomic { arrived != 0 -> s = arrived; arrived = 0 }
       /* TryHoldParked: CAS (s, Parking) -> (s, Parked), else to the run queue. */
       if
       :: atomic { st == P_PARKING && seq == s -> st = P_PARKED }
          armed[s] = 1         /* the park's deadline arms a timer */
       :: atomic { !(st == P_PARKING && seq == s) -> skip }
          make_ready()
       fi;
       s = 0
    :: atomic {
           armed[1] || armed[2] ->
           if :: armed[1] -> s = 1 :: armed[2] -> s = 2 fi;
           armed[s] = 0
       }
       /* TryTimeOut: CAS (s, Parked) -> (s, TimedOut); then Enqueue. */
       if
       :: atomic { st == P_PARKED && seq == s -> st = P_TIMEDOUT; timed[s] = 1 }
          make_ready()
       :: atomic { !(st == P_PARKED && seq == s) -> skip }
       fi;
       s = 0
    od
}

init {
    atomic { run Worker(); run Waker(); run Server() }
}
