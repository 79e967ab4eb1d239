// What a runnable SCHED_IDLE thread costs the hand-offs on its CPU (docs/detection.md, "The calm interval").
//
// Two threads pinned to CPU 0 pass a turn back and forth through a futex (wake the other, then wait), as two
// workers hand a CPU to each other. With an argument N > 0 a third thread, SCHED_IDLE on the same CPU, sleeps N µs
// at a time (so it is runnable, waiting for a tick or an idle moment, most of the time). BATCH=1 runs the two
// players under SCHED_BATCH, whose wake-ups never preempt: the comparison that shows what the idle thread takes away.
//
//   gcc -O2 -pthread bench/kernel/idle-class-pingpong.c -o /tmp/idle-class-pingpong
//   /tmp/idle-class-pingpong 0; /tmp/idle-class-pingpong 30; BATCH=1 /tmp/idle-class-pingpong 0
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile int stop;
static atomic_int turn;
static long rounds, idle_sleep_us, idle_runs;

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void futex_wait(atomic_int *w, int v) { syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, v, 0, 0, 0); }
static void futex_wake(atomic_int *w) { syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, 0, 0, 0); }

static void *player(void *arg)
{
    int me = (int)(long)arg;
    pin(0);
    if (getenv("BATCH")) {
        struct sched_param p = {0};
        sched_setscheduler(0, SCHED_BATCH, &p);
    }
    while (!stop) {
        while (atomic_load(&turn) != me && !stop)
            futex_wait(&turn, 1 - me);
        if (stop)
            break;
        if (me == 0)
            rounds++;
        atomic_store(&turn, 1 - me);
        futex_wake(&turn);
    }
    futex_wake(&turn);
    return 0;
}

static void *idle_sleeper(void *arg)
{
    (void)arg;
    pin(0);
    prctl(PR_SET_TIMERSLACK, 1000);
    struct sched_param p = {0};
    sched_setscheduler(0, SCHED_IDLE, &p);
    while (!stop) {
        idle_runs++;
        struct timespec t = {0, idle_sleep_us * 1000};
        nanosleep(&t, 0);
    }
    return 0;
}

int main(int argc, char **argv)
{
    idle_sleep_us = argc > 1 ? atol(argv[1]) : 0;
    pthread_t a, b, i;
    pthread_create(&a, 0, player, (void *)0);
    pthread_create(&b, 0, player, (void *)1);
    if (idle_sleep_us)
        pthread_create(&i, 0, idle_sleeper, 0);
    long t0 = now_ns();
    sleep(2);
    stop = 1;
    long t1 = now_ns();
    futex_wake(&turn);
    pthread_join(a, 0);
    pthread_join(b, 0);
    if (idle_sleep_us)
        pthread_join(i, 0);
    printf("SCHED_IDLE sleeper %ld us%s: round trip %.2f us, sleeper runs/s %.0f\n", idle_sleep_us,
           getenv("BATCH") ? " (players SCHED_BATCH)" : "", (t1 - t0) / 1e3 / rounds, idle_runs / 2.0);
    return 0;
}
