/*
 * load_test.c - hundreds of concurrent keep-alive connections against the
 * real server binary (its generated router, its thread count): 512 clients
 * connect at once, each sends a request, every one gets its answer; then
 * each sends a second on the same connection (DESIGN.md records the stall
 * of a server loop at many ready connections that this guards against).
 * Bounded in time: 20 s a round.
 */
#include "client.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NCONN 512

typedef struct conn {
    int fd;
    char buf[2048];
    size_t len;
    bool done;
} conn;

static conn conns[NCONN];

static int api_port(void)
{
    const char *u = api_url();
    const char *colon = strrchr(u, ':');
    cr_assert_not_null(colon, "API_URL needs a port: %s", u);
    return atoi(colon + 1);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A whole response is in: headers plus Content-Length bytes. */
static bool complete(const conn *c)
{
    const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
    if (!end)
        return false;
    const char *cl = memmem(c->buf, (size_t)(end - c->buf), "Content-Length: ", 16);
    size_t body = cl ? strtoul(cl + 16, NULL, 10) : 0;
    return c->len >= (size_t)(end - c->buf) + 4 + body;
}

/* Send reqs[i] (or reqs[0] to all when each is false) on the first nconn
 * connections and wait until every answer is in; each must be a 200 when
 * want_200. The number left unanswered. */
static int round_trip_each(int nconn, const char *const *reqs, bool each, bool want_200,
                           int64_t deadline_ms)
{
    for (int i = 0; i < nconn; i++) {
        const char *req = reqs[each ? i : 0];
        size_t rl = strlen(req);
        conns[i].len = 0;
        conns[i].done = false;
        cr_assert_eq(send(conns[i].fd, req, rl, MSG_NOSIGNAL), (ssize_t)rl, "send %d: %s", i,
                     strerror(errno));
    }
    static struct pollfd pfd[NCONN];
    int left = nconn;
    int64_t end = now_ms() + deadline_ms;
    while (left > 0 && now_ms() < end) {
        int n = 0;
        int idx[NCONN];
        for (int i = 0; i < nconn; i++)
            if (!conns[i].done) {
                pfd[n] = (struct pollfd){ .fd = conns[i].fd, .events = POLLIN };
                idx[n++] = i;
            }
        if (poll(pfd, (nfds_t)n, 200) < 0)
            break;
        for (int k = 0; k < n; k++) {
            if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            conn *c = &conns[idx[k]];
            ssize_t r = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
            cr_assert_gt(r, 0, "connection %d closed before its answer", idx[k]);
            c->len += (size_t)r;
            if (complete(c)) {
                cr_assert(!want_200 || strncmp(c->buf, "HTTP/1.1 200", 12) == 0, "%.*s",
                          (int)c->len, c->buf);
                cr_assert_null(memmem(c->buf, c->len, "Connection: close", 17));
                c->done = true;
                left--;
            }
        }
    }
    return left;
}

static int round_trip(const char *req, int64_t deadline_ms)
{
    return round_trip_each(NCONN, &req, false, true, deadline_ms);
}

static void open_conns(int n)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < NCONN + 64) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)api_port()) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    for (int i = 0; i < n; i++) {
        conns[i].fd = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_geq(conns[i].fd, 0, "socket: %s", strerror(errno));
        cr_assert_eq(connect(conns[i].fd, (struct sockaddr *)&a, sizeof a), 0, "connect %d: %s", i,
                     strerror(errno));
    }
}

static void run_load(const char *req)
{
    open_conns(NCONN);
    int64_t t0 = now_ms();
    int left = round_trip(req, 20000);
    cr_assert_eq(left, 0, "%d of %d connections got no answer in 20 s", left, NCONN);
    int64_t t1 = now_ms();
    left = round_trip(req, 20000);
    cr_assert_eq(left, 0, "second round: %d of %d unanswered", left, NCONN);
    cr_log_info("512 connections: round 1 %lld ms, round 2 %lld ms", (long long)(t1 - t0),
                (long long)(now_ms() - t1));
    for (int i = 0; i < NCONN; i++)
        close(conns[i].fd);
}

Test(load, connections_512_keep_alive_all_answered, .timeout = 60)
{
    run_load("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n");
}

Test(load, connections_512_reading_users_all_answered, .timeout = 60)
{
    run_load("GET /users?limit=5 HTTP/1.1\r\nHost: t\r\n\r\n");
}

/* Creates that arrive together are inserted together (grouped commits) yet
 * each client gets the answer to its own request: 64 connections post 32
 * names twice each at once; every name is created exactly once (201 with
 * that name) and its twin gets 409, however the inserts were grouped. */
Test(load, concurrent_creates_each_get_their_own_answer, .timeout = 60)
{
    enum { N = 64 };
    static char bufs[N][512];
    const char *reqs[N];
    unsigned tag = (unsigned)getpid() * 7919u + (unsigned)now_ms();
    for (int i = 0; i < N; i++) {
        char body[160];
        int bl = snprintf(body, sizeof body, "{\"username\":\"cc%x%d\",\"email\":\"cc%x%d@t.example\"}",
                          tag, i % 32, tag, i % 32);
        snprintf(bufs[i], sizeof bufs[i],
                 "POST /users HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\n\r\n%s", bl, body);
        reqs[i] = bufs[i];
    }
    open_conns(N);
    cr_assert_eq(round_trip_each(N, reqs, true, false, 20000), 0, "unanswered creates");
    int created[32] = { 0 }, conflicts[32] = { 0 };
    for (int i = 0; i < N; i++) {
        conn *c = &conns[i];
        char name[40];
        snprintf(name, sizeof name, "\"username\":\"cc%x%d\"", tag, i % 32);
        if (strncmp(c->buf, "HTTP/1.1 201", 12) == 0) {
            cr_assert_not_null(memmem(c->buf, c->len, name, strlen(name)),
                               "a 201 carries its own user: %.*s", (int)c->len, c->buf);
            created[i % 32]++;
            /* answered after its commit: the row is there for anyone */
            const char *id = memmem(c->buf, c->len, "\"id\":", 5);
            cr_assert_not_null(id);
            char path[48];
            snprintf(path, sizeof path, "/users/%lld", atoll(id + 5));
            http_resp r;
            cr_assert_eq(http_get(path, &r), 0);
            cr_assert_eq(r.status, 200, "%s: %ld", path, r.status);
            http_resp_free(&r);
        } else {
            cr_assert(strncmp(c->buf, "HTTP/1.1 409", 12) == 0, "%.*s", (int)c->len, c->buf);
            cr_assert_not_null(memmem(c->buf, c->len, "\"CONFLICT\"", 10));
            conflicts[i % 32]++;
        }
    }
    for (int k = 0; k < 32; k++) {
        cr_assert_eq(created[k], 1, "name %d created %d times", k, created[k]);
        cr_assert_eq(conflicts[k], 1, "name %d: %d conflicts", k, conflicts[k]);
    }
    for (int i = 0; i < N; i++)
        close(conns[i].fd);
}
