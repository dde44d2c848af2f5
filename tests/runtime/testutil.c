/* testutil.c - see testutil.h. */
#include "testutil.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rt.h"

bool test_loop_init(test_loop *l)
{
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return false;
    rt_sched_init(&l->s, l->epfd);
    return true;
}

static void turn(test_loop *l, int max_wait_ms)
{
    int t = rt_sched_turn(&l->s, max_wait_ms);
    struct epoll_event ev[16];
    int n = epoll_wait(l->epfd, ev, 16, t);
    for (int i = 0; i < n; i++)
        rt_sched_dispatch(&l->s, ev[i].data.ptr, ev[i].events);
}

void test_loop_run(test_loop *l, const unsigned *pending, int64_t max_ms)
{
    int64_t until = rt_mono_ms() + max_ms;
    while (*pending > 0 && rt_mono_ms() < until)
        turn(l, 20);
}

void test_loop_idle(test_loop *l, int64_t ms)
{
    int64_t until = rt_mono_ms() + ms;
    while (rt_mono_ms() < until)
        turn(l, 10);
}

unsigned test_loop_end(test_loop *l, unsigned wait_ms)
{
    unsigned left = rt_sched_exit(&l->s, wait_ms);
    close(l->epfd);
    l->epfd = -1;
    return left;
}

int test_local_port(bool listening, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0 || (listening && listen(fd, 16) != 0)) {
        close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/* ---------------------------------------------------------------- copies */

static char **copies;
static size_t ncopies, capcopies;

char *test_copy(const char *s, size_t n)
{
    if (ncopies == capcopies) {
        size_t cap = capcopies ? capcopies * 2 : 256;
        char **grown = realloc(copies, cap * sizeof *grown);
        if (!grown)
            abort(); /* a test without memory has nothing to report */
        copies = grown;
        capcopies = cap;
    }
    char *p = malloc(n ? n : 1);
    if (!p)
        abort();
    if (n)
        memcpy(p, s, n);
    copies[ncopies++] = p;
    return p;
}

void test_free_copies(void)
{
    for (size_t i = 0; i < ncopies; i++)
        free(copies[i]);
    free(copies);
    copies = NULL;
    ncopies = capcopies = 0;
}
