/*
 * co.c - coroutines, and the per-loop scheduler.
 *
 * Switching: on x86-64 a dozen instructions of our own save the registers
 * the ABI says a call preserves (rbx, rbp, r12-r15, the SSE and x87 control
 * words) on the old stack and load them from the new one: no system call
 * per switch, where glibc's swapcontext makes one (sigprocmask) every time.
 * Other architectures use ucontext.
 *
 * Stacks are mmap'd with a PROT_NONE guard page below them, so an overflow
 * faults instead of corrupting the heap; untouched pages cost no memory, so
 * a generous size is cheap. Under AddressSanitizer every switch is announced
 * (__sanitizer_start/finish_switch_fiber) so that ASan knows which stack is
 * live and reports no false overflows.
 */
#include "co.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <time.h>
#ifndef __x86_64__
#include <ucontext.h>
#endif
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

#if defined(__x86_64__)
#define CO_ASM 1
/* rt__co_switch(&save, to): push the callee-saved state, store the stack
 * pointer in *save, load `to`, pop its state, return into it. */
void rt__co_switch(void **save, void *to);
void rt__co_entry(void);
__asm__(".text\n"
        ".globl rt__co_switch\n"
        ".type rt__co_switch,@function\n"
        "rt__co_switch:\n"
        "  pushq %rbp\n"
        "  pushq %rbx\n"
        "  pushq %r12\n"
        "  pushq %r13\n"
        "  pushq %r14\n"
        "  pushq %r15\n"
        "  subq $8, %rsp\n"
        "  stmxcsr (%rsp)\n"
        "  fnstcw 4(%rsp)\n"
        "  movq %rsp, (%rdi)\n"
        "  movq %rsi, %rsp\n"
        "  ldmxcsr (%rsp)\n"
        "  fldcw 4(%rsp)\n"
        "  addq $8, %rsp\n"
        "  popq %r15\n"
        "  popq %r14\n"
        "  popq %r13\n"
        "  popq %r12\n"
        "  popq %rbx\n"
        "  popq %rbp\n"
        "  ret\n"
        ".size rt__co_switch,.-rt__co_switch\n"
        /* a new coroutine's first switch returns here, its rt_co in rbx */
        ".globl rt__co_entry\n"
        ".type rt__co_entry,@function\n"
        "rt__co_entry:\n"
        "  movq %rbx, %rdi\n"
        "  call rt__co_main\n"
        "  ud2\n"
        ".size rt__co_entry,.-rt__co_entry\n");
#endif

struct rt_co {
#ifdef CO_ASM
    void *sp;            /* the coroutine's saved stack pointer while parked */
    void *back_sp;       /* the resumer's, while the coroutine runs */
#else
    ucontext_t ctx;      /* the coroutine's registers while it is parked */
    ucontext_t *back;    /* where park/return switch to */
#endif
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
    rt_co *prev = cur;
    cur = co;
#ifdef CO_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, co->stack, co->stack_len);
#endif
#ifdef CO_ASM
    rt__co_switch(&co->back_sp, co->sp);
#else
    ucontext_t here;
    co->back = &here;
    swapcontext(&here, &co->ctx);
#endif
#ifdef CO_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    cur = prev;
}

/* The coroutine's first frame: run fn, then switch back for good. */
void rt__co_main(rt_co *co);
void rt__co_main(rt_co *co)
{
#ifdef CO_ASAN
    __sanitizer_finish_switch_fiber(NULL, &co->back_bottom, &co->back_size);
#endif
    co->fn(co->arg);
    co->done = true;
#ifdef CO_ASAN
    /* NULL: this side is finished, ASan may drop its fake stack */
    __sanitizer_start_switch_fiber(NULL, co->back_bottom, co->back_size);
#endif
#ifdef CO_ASM
    rt__co_switch(&co->sp, co->back_sp);
#else
    setcontext(co->back);
#endif
    abort(); /* a finished coroutine is never switched back into */
}

#ifndef CO_ASM
static void trampoline(unsigned hi, unsigned lo)
{
    rt__co_main((rt_co *)(((uintptr_t)hi << 32) | (uintptr_t)lo));
}
#endif

bool rt_co_start(rt_co *co, rt_co_fn fn, void *arg, void (*on_done)(rt_co *co, void *arg))
{
    if (!co || cur || !co->done)
        abort(); /* a bug in the caller: false would read as "parked" and hang it */
#ifdef CO_ASM
    /* The frame rt__co_switch pops: control words, r15..r12, rbx (= co, for
     * rt__co_entry), rbp, and the return address. The top is 16-aligned so
     * that rt__co_entry's call sees the ABI's alignment. */
    uintptr_t top = ((uintptr_t)co->stack + co->stack_len) & ~(uintptr_t)15;
    uint64_t *f = (uint64_t *)(top - 8 * sizeof(uint64_t));
    f[0] = 0x1F80u | ((uint64_t)0x037Fu << 32); /* MXCSR and x87 defaults */
    f[1] = f[2] = f[3] = f[4] = 0;               /* r15 r14 r13 r12 */
    f[5] = (uint64_t)(uintptr_t)co;              /* rbx */
    f[6] = 0;                                    /* rbp */
    f[7] = (uint64_t)(uintptr_t)rt__co_entry;
    co->sp = f;
#else
    getcontext(&co->ctx);
    co->ctx.uc_stack.ss_sp = co->stack;
    co->ctx.uc_stack.ss_size = co->stack_len;
    co->ctx.uc_link = NULL;
    uintptr_t p = (uintptr_t)co;
    makecontext(&co->ctx, (void (*)(void))trampoline, 2, (unsigned)(p >> 32),
                (unsigned)(p & 0xffffffffu));
#endif
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
#ifdef CO_ASM
    rt__co_switch(&co->sp, co->back_sp);
#else
    swapcontext(&co->ctx, co->back);
#endif
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
    static _Atomic uint64_t ids;
    *s = (rt_sched){ .epfd = epfd, .id = atomic_fetch_add(&ids, 1) + 1 };
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
