/*
 * testutil.h - helpers shared by the runtime tests: an epoll loop that
 * drives a coroutine scheduler the way http.c does, local ports that
 * refuse or ignore connections, and exact-length copies of test input.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "co.h"

typedef struct test_loop {
    rt_sched s;
    int epfd;
} test_loop;

/* Binds a scheduler to this thread (false when epoll_create1 fails). */
bool test_loop_init(test_loop *l);
/* Turns until *pending is 0 or max_ms passed. */
void test_loop_run(test_loop *l, const unsigned *pending, int64_t max_ms);
/* Turns for ms whatever is pending: lets watches see what arrives. */
void test_loop_idle(test_loop *l, int64_t ms);
/* Ends the scheduler (exit hooks, then up to wait_ms for parked coroutines)
 * and closes the loop; returns how many were left parked. */
unsigned test_loop_end(test_loop *l, unsigned wait_ms);

/* A bound TCP socket on 127.0.0.1 and its port: not listening (connects are
 * refused at once) or listening and never answering (the kernel completes
 * the handshake, nobody reads). -1 on failure. Nobody else can take the
 * port while the socket is open. */
int test_local_port(bool listening, int *port);

/* An exact-length heap copy of s[0..n) (no NUL after it, so a read past
 * the end is a sanitizer report), kept until test_free_copies(). */
char *test_copy(const char *s, size_t n);
/* Frees every test_copy so far (a suite's .fini, or per iteration). */
void test_free_copies(void);

#endif
