/*
 * co.c - coroutines on ucontext, and the per-loop scheduler.
 *
 * Stacks are mmap'd with a PROT_NONE guard page below them, so an overflow
 * faults instead of corrupting the heap; untouched pages cost no memory, so
 * a generous size is cheap. Under AddressSanitizer every switch is announced
 * (__sanitizer_start/finish_switch_fiber) so that ASan knows which stack is
 * live and reports no false overflows.
 */
#include "co.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define CO_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CO_ASAN 1
#endif
#endif
#ifdef CO_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

struct rt_co {
    ucontext_t ctx;      /* the coroutine's registers while it is parked */
    ucontext_t *back;    /* where park/return switch to */
    rt_co *next;         /* ready or sleeping list */
    void *map;           /* guard page + stack */
    size_t map_len;
    void *stack;
    size_t stack_len;
    rt_co_fn fn;
    void *arg;
    void (*on_done)(rt_co *, void *);
    int64_t wake_ms;     /* sleeping: when to run again */
    bool done;
#ifdef CO_ASAN
    void *fake;                /* ASan's fake stack of the side being left */
    const void *back_bottom;   /* the resumer's stack, for the switch back */
    size_t back_size;
#endif
};

static _Thread_local rt_co *cur;
static _Thread_local rt_sched *self_sched;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- coroutines */

rt_co *rt_co_new(size_t stack)
{
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    if (stack < 4 * page)
        stack = 4 * page;
    stack = (stack + page - 1) / page * page;
    rt_co *co = calloc(1, sizeof *co);
    if (!co)
        return NULL;
    co->map_len = stack + page;
    co->map = mmap(NULL, co->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
                   -1, 0);
    if (co->map == MAP_FAILED) {
        free(co);
        return NULL;
    }
    (void)mprotect(co->map, page, PROT_NONE); /* the guard; best effort */
    co->stack = (char *)co->map + page;
    co->stack_len = stack;
    co->done = true;
    return co;
}

void rt_co_free(rt_co *co)
{
    if (!co)
        return;
    munmap(co->map, co->map_len);
    free(co);
}

rt_co *rt_co_self(void)
{
    return cur;
}

/* Switch from the resumer (a plain stack or the loop) into co. */
static void enter(rt_co *co)
{
    ucontext_t here;
    co->back = &here;
    rt_co *prev = cur;
    cur = co;
#ifdef CO_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, co->stack, co->stack_len);
#endif
    swapcontext(&here, &co->ctx);
#ifdef CO_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    cur = prev;
}

static void trampoline(unsigned hi, unsigned lo)
{
    rt_co *co = (rt_co *)(((uintptr_t)hi << 32) | (uintptr_t)lo);
#ifdef CO_ASAN
    __sanitizer_finish_switch_fiber(NULL, &co->back_bottom, &co->back_size);
#endif
    co->fn(co->arg);
    co->done = true;
#ifdef CO_ASAN
    /* NULL: this side is finished, ASan may drop its fake stack */
    __sanitizer_start_switch_fiber(NULL, co->back_bottom, co->back_size);
#endif
    setcontext(co->back);
}

bool rt_co_start(rt_co *co, rt_co_fn fn, void *arg, void (*on_done)(rt_co *co, void *arg))
{
    if (!co || cur || !co->done)
        return false;
    getcontext(&co->ctx);
    co->ctx.uc_stack.ss_sp = co->stack;
    co->ctx.uc_stack.ss_size = co->stack_len;
    co->ctx.uc_link = NULL;
    uintptr_t p = (uintptr_t)co;
    makecontext(&co->ctx, (void (*)(void))trampoline, 2, (unsigned)(p >> 32),
                (unsigned)(p & 0xffffffffu));
    co->fn = fn;
    co->arg = arg;
    co->on_done = on_done;
    co->done = false;
    co->next = NULL;
    enter(co);
    if (!co->done && self_sched)
        self_sched->parked++;
    return co->done;
}

void rt_co_park(void)
{
    rt_co *co = cur;
    if (!co)
        return;
#ifdef CO_ASAN
    __sanitizer_start_switch_fiber(&co->fake, co->back_bottom, co->back_size);
#endif
    swapcontext(&co->ctx, co->back);
#ifdef CO_ASAN
    __sanitizer_finish_switch_fiber(co->fake, &co->back_bottom, &co->back_size);
#endif
}

/* Resume a parked coroutine from the scheduler; on_done when it returned. */
static void resume(rt_sched *s, rt_co *co)
{
    enter(co);
    if (co->done) {
        s->parked--;
        if (co->on_done)
            co->on_done(co, co->arg);
    }
}

void rt_co_sleep_ms(unsigned ms)
{
    rt_co *co = cur;
    rt_sched *s = self_sched;
    if (!co || !s) {
        struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        return;
    }
    co->wake_ms = now_ms() + ms;
    co->next = s->sleepers;
    s->sleepers = co;
    rt_co_park();
}

/* ---------------------------------------------------------------- scheduler */

rt_sched *rt_sched_self(void)
{
    return self_sched;
}

void rt_sched_init(rt_sched *s, int epfd)
{
    *s = (rt_sched){ .epfd = epfd };
    self_sched = s;
}

bool rt_sched_watch(rt_sched *s, rt_watch *w, int fd, uint32_t events)
{
    if (w->fd >= 0 && w->fd != fd)
        rt_sched_unwatch(s, w);
    struct epoll_event ev = { .events = events, .data.ptr = w };
    if (w->fd == fd) {
        if (w->events == events)
            return true;
        if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) != 0)
            return false;
    } else if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
        return false;
    }
    w->fd = fd;
    w->events = events;
    return true;
}

void rt_sched_unwatch(rt_sched *s, rt_watch *w)
{
    if (w->fd >= 0)
        (void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, w->fd, NULL); /* fd may be closed already */
    w->fd = -1;
    w->events = 0;
}

void rt_sched_ready(rt_sched *s, rt_co *co)
{
    co->next = NULL;
    if (s->ready_tail)
        s->ready_tail->next = co;
    else
        s->ready_head = co;
    s->ready_tail = co;
}

bool rt_sched_hook(rt_sched *s, rt_tick_fn tick, rt_exit_fn on_exit, void *ctx)
{
    if (s->nhooks >= RT_SCHED_HOOKS)
        return false;
    s->hooks[s->nhooks].tick = tick;
    s->hooks[s->nhooks].on_exit = on_exit;
    s->hooks[s->nhooks].ctx = ctx;
    s->nhooks++;
    return true;
}

void rt_sched_dispatch(rt_sched *s, void *ptr, uint32_t events)
{
    (void)s;
    rt_watch *w = ptr;
    w->fn(w->ctx, events);
}

/* Move the sleepers whose time came to the ready list; the ms until the
 * next one wakes (-1: none sleeps). */
static int wake_sleepers(rt_sched *s)
{
    int64_t now = now_ms();
    int64_t next = -1;
    rt_co **pp = &s->sleepers;
    while (*pp) {
        rt_co *co = *pp;
        if (co->wake_ms <= now) {
            *pp = co->next;
            rt_sched_ready(s, co);
            continue;
        }
        if (next < 0 || co->wake_ms - now < next)
            next = co->wake_ms - now;
        pp = &co->next;
    }
    return (int)next;
}

static void run_ready(rt_sched *s)
{
    /* What runs may make others ready (or itself, by sleeping 0): those
     * wait for the next turn, so one turn is bounded. */
    rt_co *co = s->ready_head;
    s->ready_head = s->ready_tail = NULL;
    while (co) {
        rt_co *next = co->next;
        co->next = NULL;
        resume(s, co);
        co = next;
    }
}

int rt_sched_turn(rt_sched *s, int max_wait_ms)
{
    (void)wake_sleepers(s);
    run_ready(s);
    int wait = max_wait_ms;
    for (unsigned i = 0; i < s->nhooks; i++) {
        if (!s->hooks[i].tick)
            continue;
        int t = s->hooks[i].tick(s->hooks[i].ctx);
        if (t >= 0 && t < wait)
            wait = t;
    }
    int t = wake_sleepers(s);
    if (t >= 0 && t < wait)
        wait = t;
    if (s->ready_head)
        wait = 0;
    return wait;
}

unsigned rt_sched_exit(rt_sched *s, unsigned deadline_ms)
{
    for (unsigned i = 0; i < s->nhooks; i++)
        if (s->hooks[i].on_exit)
            s->hooks[i].on_exit(s->hooks[i].ctx);
    int64_t until = now_ms() + deadline_ms;
    while (s->parked > 0 && now_ms() < until) {
        int wait = rt_sched_turn(s, 10);
        if (s->ready_head || s->parked == 0)
            continue;
        /* something sleeps or waits on an fd: give it its turn */
        struct epoll_event ev[8];
        int n = epoll_wait(s->epfd, ev, 8, wait);
        for (int i = 0; i < n; i++)
            if (ev[i].data.ptr)
                rt_sched_dispatch(s, ev[i].data.ptr, ev[i].events);
    }
    self_sched = NULL;
    return s->parked;
}
