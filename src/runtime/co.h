/*
 * co.h - coroutines, and the scheduler of the event loop they run on.
 *
 * A request that waits for the database runs as a coroutine on the event
 * loop that owns its connection: its handler keeps the plain synchronous
 * shape (call, get the result), but where a thread would block, the
 * coroutine parks and the loop goes on serving other connections. Whoever
 * holds what it waits for (the pipelined PostgreSQL connection, a timer)
 * makes it ready again on the same thread. No thread hand-off, no lock, no
 * wake-up of another thread per query.
 *
 * Rules:
 *  - A coroutine only ever runs on the thread that started it.
 *  - rt_co_park() is the only way to give the thread back; the code that
 *    parks has first arranged for someone on this thread to call
 *    rt_sched_ready() (an fd watch callback, a tick hook) or used
 *    rt_co_sleep_ms(). A coroutine parked with no such arrangement would
 *    never run again.
 *  - rt_sched is the loop's side: fd watches on its epoll set, hooks run
 *    before every wait (flushing, deadlines) and when the loop ends, the
 *    ready and sleeping coroutines.
 */
#ifndef RT_CO_H
#define RT_CO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rt_co rt_co;
typedef struct rt_sched rt_sched;
typedef void (*rt_co_fn)(void *arg);

/* A coroutine with a stack of `stack` bytes (rounded to pages, plus a guard
 * page that faults on overflow). NULL when out of memory. Reusable: start it
 * again after it has returned. */
rt_co *rt_co_new(size_t stack);
void rt_co_free(rt_co *co);

/* Run fn(arg) on co until it parks or returns. True when it returned (the
 * coroutine is then free to start again); false when it parked, in which
 * case on_done(co, arg) is called, by whoever resumes it last, once it has
 * returned. Must not be called from inside a coroutine, nor on a coroutine
 * that has not returned (both abort: they are bugs). */
bool rt_co_start(rt_co *co, rt_co_fn fn, void *arg, void (*on_done)(rt_co *co, void *arg));

/* The coroutine running on this thread, NULL on a plain thread stack. */
rt_co *rt_co_self(void);

/* Give the thread back to the scheduler until rt_sched_ready(co). */
void rt_co_park(void);

/* Park for about ms milliseconds (0: until the loop's next turn). On a
 * plain thread, sleeps. */
void rt_co_sleep_ms(unsigned ms);

/* ---------------------------------------------------------------- scheduler */

typedef void (*rt_watch_fn)(void *ctx, uint32_t events);

/* An fd on the loop's epoll set; the caller owns the struct and keeps it
 * alive until rt_sched_unwatch. */
typedef struct rt_watch {
    rt_watch_fn fn;
    void *ctx;
    int fd;           /* -1: not watched */
    uint32_t events;  /* EPOLLIN / EPOLLOUT as last set */
} rt_watch;

/* Run before each wait of the loop; returns the ms until it must run again
 * at the latest (-1: no deadline of its own). */
typedef int (*rt_tick_fn)(void *ctx);
/* Run when the loop ends, before its last ready coroutines are finished:
 * must fail whatever coroutines wait on, so they can return. */
typedef void (*rt_exit_fn)(void *ctx);

/* The scheduler of this thread's event loop, NULL on other threads. */
rt_sched *rt_sched_self(void);

/* Watch fd for events (EPOLLIN/EPOLLOUT, level-triggered); call again to
 * change the fd or the events. False on failure (errno from epoll_ctl). */
bool rt_sched_watch(rt_sched *s, rt_watch *w, int fd, uint32_t events);
void rt_sched_unwatch(rt_sched *s, rt_watch *w);

/* Mark a parked coroutine of this thread runnable. */
void rt_sched_ready(rt_sched *s, rt_co *co);

/* Register hooks (at most RT_SCHED_HOOKS). False when full. */
#define RT_SCHED_HOOKS 8
bool rt_sched_hook(rt_sched *s, rt_tick_fn tick, rt_exit_fn on_exit, void *ctx);

/* ---------------------------------------------------------------- the loop's side */

struct rt_sched {
    int epfd;
    uint64_t id;      /* unique in the process (addresses get reused) */
    rt_co *ready_head, *ready_tail;
    rt_co *sleepers;  /* unsorted: sleeping is rare (waits for another's fill) */
    unsigned nhooks;
    struct {
        rt_tick_fn tick;
        rt_exit_fn on_exit;
        void *ctx;
    } hooks[RT_SCHED_HOOKS];
    unsigned parked; /* coroutines started and not yet returned */
};

/* Bind s to this thread with the loop's epoll fd. */
void rt_sched_init(rt_sched *s, int epfd);
/* Run the ready coroutines (and the sleepers whose time came) until none is
 * left; then the tick hooks. Returns the longest the loop may wait (ms,
 * capped by max_wait_ms; 0 when something is already runnable). */
int rt_sched_turn(rt_sched *s, int max_wait_ms);
/* An epoll event whose data.ptr is a watch of this scheduler. */
void rt_sched_dispatch(rt_sched *s, void *ptr, uint32_t events);
/* The loop ends: exit hooks, then run what they made ready until no
 * coroutine is parked (bounded by a deadline: a coroutine that keeps
 * parking is left, and reported in the return value, not waited for). */
unsigned rt_sched_exit(rt_sched *s, unsigned deadline_ms);

#endif
