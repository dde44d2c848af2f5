/*
 * co_test.c - coroutines and the loop scheduler (co.h), driven by a small
 * epoll loop of the test's own, the way http.c drives them.
 */
#include <criterion/criterion.h>

#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "co.h"
#include "rt.h"
#include "testutil.h"

typedef test_loop loop;

static void loop_init(loop *l)
{
    cr_assert(test_loop_init(l));
}

static void loop_run(loop *l, const unsigned *pending, int64_t max_ms)
{
    test_loop_run(l, pending, max_ms);
}

static void loop_end(loop *l)
{
    cr_expect_eq(test_loop_end(l, 1000), 0u, "coroutines left parked");
}

static unsigned pending;

static void count_done(rt_co *co, void *arg)
{
    (void)co;
    (void)arg;
    pending--;
}

/* ---------------------------------------------------------------- basics */

static void add_one(void *arg)
{
    int *x = arg;
    cr_assert_not_null(rt_co_self());
    (*x)++;
}

Test(co, runs_to_completion_without_parking)
{
    loop l;
    loop_init(&l);
    rt_co *co = rt_co_new(64 * 1024);
    cr_assert_not_null(co);
    int x = 41;
    cr_assert(rt_co_start(co, add_one, &x, count_done), "returned without parking");
    cr_assert_eq(x, 42);
    cr_assert_null(rt_co_self(), "back on the plain stack");
    /* reusable once returned */
    cr_assert(rt_co_start(co, add_one, &x, count_done));
    cr_assert_eq(x, 43);
    rt_co_free(co);
    loop_end(&l);
}

/* Parks on an eventfd: the watch callback makes it ready, as pg.c does. */
typedef struct waiter {
    rt_co *co;
    rt_watch w;
    int fd;
    uint64_t got;
    int steps;
} waiter;

static void on_fd(void *ctx, uint32_t events)
{
    waiter *wt = ctx;
    (void)events;
    uint64_t v = 0;
    if (read(wt->fd, &v, sizeof v) == (ssize_t)sizeof v)
        wt->got += v;
    rt_sched_ready(rt_sched_self(), wt->co);
}

static void wait_fd(void *arg)
{
    waiter *wt = arg;
    wt->steps++;
    cr_assert(rt_sched_watch(rt_sched_self(), &wt->w, wt->fd, EPOLLIN));
    while (wt->got == 0)
        rt_co_park();
    rt_sched_unwatch(rt_sched_self(), &wt->w);
    wt->steps++;
}

Test(co, parks_until_its_fd_is_ready)
{
    loop l;
    loop_init(&l);
    waiter wt = { .fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC) };
    wt.w = (rt_watch){ .fn = on_fd, .ctx = &wt, .fd = -1 };
    wt.co = rt_co_new(64 * 1024);
    pending = 1;
    cr_assert_not(rt_co_start(wt.co, wait_fd, &wt, count_done), "must park: nothing to read");
    cr_assert_eq(wt.steps, 1);
    loop_run(&l, &pending, 50);
    cr_assert_eq(pending, 1u, "woke up with nothing written");
    uint64_t one = 7;
    cr_assert_eq(write(wt.fd, &one, sizeof one), (ssize_t)sizeof one);
    loop_run(&l, &pending, 2000);
    cr_assert_eq(pending, 0u, "on_done was not called");
    cr_assert_eq(wt.got, 7u);
    cr_assert_eq(wt.steps, 2);
    close(wt.fd);
    rt_co_free(wt.co);
    loop_end(&l);
}

/* ---------------------------------------------------------------- many at once */

typedef struct sleeper {
    unsigned ms;
    int64_t woke;
    char pattern;
} sleeper;

/* Each keeps data on its own stack across parks: a shared stack would
 * mix them up. */
static void sleep_then_check(void *arg)
{
    sleeper *sl = arg;
    char mine[2048];
    memset(mine, sl->pattern, sizeof mine);
    rt_co_sleep_ms(sl->ms);
    for (size_t i = 0; i < sizeof mine; i++)
        cr_assert_eq(mine[i], sl->pattern, "stack of coroutine %c was overwritten", sl->pattern);
    sl->woke = rt_mono_ms();
}

Test(co, many_sleepers_overlap_on_one_thread)
{
    loop l;
    loop_init(&l);
    enum { N = 50 };
    rt_co *cos[N];
    sleeper sl[N];
    pending = N;
    int64_t t0 = rt_mono_ms();
    for (int i = 0; i < N; i++) {
        cos[i] = rt_co_new(64 * 1024);
        cr_assert_not_null(cos[i]);
        sl[i] = (sleeper){ .ms = 100, .pattern = (char)('A' + i % 26) };
        cr_assert_not(rt_co_start(cos[i], sleep_then_check, &sl[i], count_done));
    }
    loop_run(&l, &pending, 5000);
    int64_t took = rt_mono_ms() - t0;
    cr_assert_eq(pending, 0u);
    /* 50 sleeps of 100 ms one after another would take 5 s */
    cr_assert_lt(took, 2000, "the sleeps did not overlap: %lld ms", (long long)took);
    for (int i = 0; i < N; i++) {
        cr_assert_geq(sl[i].woke - t0, 95, "woke early");
        rt_co_free(cos[i]);
    }
    loop_end(&l);
}

/* ---------------------------------------------------------------- hooks */

typedef struct hookstate {
    int ticks, exits;
    rt_co *parked;
} hookstate;

static int tick(void *ctx)
{
    hookstate *h = ctx;
    h->ticks++;
    return 5;
}

/* The exit hook must let parked coroutines finish: it readies them. */
static void on_exit_hook(void *ctx)
{
    hookstate *h = ctx;
    h->exits++;
    if (h->parked)
        rt_sched_ready(rt_sched_self(), h->parked);
}

static void park_once(void *arg)
{
    hookstate *h = arg;
    h->parked = rt_co_self();
    rt_co_park();
    h->parked = NULL;
}

Test(co, tick_and_exit_hooks)
{
    loop l;
    loop_init(&l);
    hookstate h = { 0 };
    cr_assert(rt_sched_hook(&l.s, tick, on_exit_hook, &h));
    rt_co *co = rt_co_new(64 * 1024);
    pending = 1;
    cr_assert_not(rt_co_start(co, park_once, &h, count_done));
    cr_assert_eq(rt_sched_turn(&l.s, 1000), 5, "the tick's deadline bounds the wait");
    cr_assert_geq(h.ticks, 1);
    cr_assert_eq(test_loop_end(&l, 1000), 0u, "the exit hook let it finish");
    cr_assert_eq(h.exits, 1);
    cr_assert_eq(pending, 0u);
    cr_assert_null(h.parked);
    rt_co_free(co);
}

Test(co, sleep_on_a_plain_thread_sleeps)
{
    cr_assert_null(rt_co_self());
    int64_t t0 = rt_mono_ms();
    rt_co_sleep_ms(30);
    cr_assert_geq(rt_mono_ms() - t0, 29);
}
