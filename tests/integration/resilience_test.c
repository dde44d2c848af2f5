/*
 * resilience_test.c - the server under a database outage and on shutdown.
 * Run by scripts/test.sh with --jobs 1 after api_test (it stops and starts
 * the shared test database). Environment: API_URL (the running server),
 * PG_DIR and PG_PORT (the test cluster, driven through scripts/pg.sh),
 * SERVER_BIN, TEST_DATABASE_URL and three free ports SPARE_PORT_1..3 (to start
 * extra servers).
 */
#include "client.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *env(const char *name)
{
    const char *v = getenv(name);
    cr_assert(v && v[0], "%s must be set (scripts/test.sh sets it)", name);
    return v;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pg(const char *verb)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "scripts/pg.sh %s '%s' %s >/dev/null 2>&1", verb, env("PG_DIR"),
             strcmp(verb, "start") == 0 ? env("PG_PORT") : "");
    cr_assert_eq(system(cmd), 0, "%s failed", cmd);
}

static long status_of(const char *method, const char *path, const char *body)
{
    http_resp r;
    long st = http_json(method, path, body, &r) == 0 ? r.status : -1;
    http_resp_free(&r);
    return st;
}

Test(outage, database_down_gives_503_then_recovers_without_restart)
{
    char name[64], body[256];
    unique_name("o", name, sizeof name);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"%s@example.com\"}", name, name);

    pg("stop");
    int64_t t0 = now_ms();
    http_resp r;
    cr_assert_eq(http_get("/readyz", &r), 0);
    cr_assert_eq(r.status, 503, "%s", r.body);
    char buf[64];
    cr_assert_str_eq(json_at(r.body, r.len, "/error/code", buf, sizeof buf), "UNAVAILABLE");
    http_resp_free(&r);
    cr_assert_eq(status_of("POST", "/users", body), 503);
    cr_assert_eq(status_of("GET", "/users?limit=5", NULL), 503);
    cr_assert_eq(status_of("GET", "/users/987654321", NULL), 503);
    cr_assert_eq(status_of("GET", "/healthz", NULL), 200, "liveness must not touch the database");
    cr_assert_lt(now_ms() - t0, 10000, "503s must come fast, not after a hang");

    pg("start");
    long st = 0;
    for (int64_t end = now_ms() + 20000; now_ms() < end;) {
        st = status_of("GET", "/readyz", NULL);
        if (st == 200)
            break;
        usleep(200 * 1000);
    }
    cr_assert_eq(st, 200, "readyz did not recover");
    cr_assert_eq(status_of("POST", "/users", body), 201);
}

/* ---------------------------------------------------------------- shutdown */

static pid_t start_server(int port)
{
    fflush(NULL);
    pid_t pid = fork();
    cr_assert_neq(pid, -1);
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof p, "%d", port);
        setenv("PORT", p, 1);
        setenv("DATABASE_URL", getenv("TEST_DATABASE_URL"), 1);
        setenv("LOG_LEVEL", "warn", 1);
        setenv("SHUTDOWN_TIMEOUT_S", "10", 1);
        execl(getenv("SERVER_BIN"), getenv("SERVER_BIN"), (char *)NULL);
        _exit(127);
    }
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d", port);
    setenv("API_URL", url, 1);
    for (int i = 0; i < 100; i++) {
        if (status_of("GET", "/healthz", NULL) == 200)
            return pid;
        int st;
        cr_assert_eq(waitpid(pid, &st, WNOHANG), 0, "the server on port %d exited at start", port);
        usleep(100 * 1000);
    }
    kill(pid, SIGKILL);
    cr_assert_fail("server did not come up on %d", port);
    return -1;
}

static int wait_exit(pid_t pid, int timeout_ms)
{
    int st = 0;
    for (int64_t end = now_ms() + timeout_ms; now_ms() < end;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        usleep(20 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    return -1;
}

static int connect_port(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

Test(shutdown, sigterm_finishes_the_request_in_flight_then_exits_0)
{
    (void)env("SERVER_BIN");
    (void)env("TEST_DATABASE_URL");
    int port = atoi(env("SPARE_PORT_1"));
    pid_t pid = start_server(port);

    /* A request whose body is still arriving when the signal comes. */
    int fd = connect_port(port);
    cr_assert_geq(fd, 0);
    char name[64], body[256], head[256];
    unique_name("s", name, sizeof name);
    int blen = snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"%s@example.com\"}", name,
                        name);
    int hlen = snprintf(head, sizeof head,
                        "POST /users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                        "Content-Length: %d\r\n\r\n",
                        blen);
    cr_assert_eq(write(fd, head, (size_t)hlen), hlen);
    cr_assert_eq(write(fd, body, 10), 10);
    usleep(200 * 1000);
    kill(pid, SIGTERM);
    usleep(300 * 1000);
    cr_assert_eq(write(fd, body + 10, (size_t)blen - 10), blen - 10);
    char resp[4096];
    ssize_t n = read(fd, resp, sizeof resp - 1);
    cr_assert_gt(n, 0, "no response to the in-flight request (%s)", strerror(errno));
    resp[n] = '\0';
    cr_assert(strncmp(resp, "HTTP/1.1 201", 12) == 0, "%s", resp);
    close(fd);

    cr_assert_eq(wait_exit(pid, 15000), 0, "server did not exit 0 after SIGTERM");
    cr_assert_lt(connect_port(port), 0, "still accepting after shutdown");
}

Test(shutdown, sigint_exits_0)
{
    int port = atoi(env("SPARE_PORT_2"));
    pid_t pid = start_server(port);
    kill(pid, SIGINT);
    cr_assert_eq(wait_exit(pid, 15000), 0);
}

/* ---------------------------------------------------------------- timeouts */

/* Seconds until the server closes fd (reads return 0 or an error), at most
 * limit_s; -1 when it is still open then. */
static double seconds_until_closed(int fd, int limit_s)
{
    int64_t t0 = now_ms();
    struct timeval tv = { .tv_sec = 0, .tv_usec = 200 * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char buf[256];
    while (now_ms() - t0 < limit_s * 1000) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
            return (double)(now_ms() - t0) / 1000.0;
    }
    return -1;
}

Test(timeouts, idle_and_slow_connections_are_closed_after_conn_timeout)
{
    setenv("CONN_TIMEOUT_S", "1", 1);
    int port = atoi(env("SPARE_PORT_3"));
    pid_t pid = start_server(port);
    unsetenv("CONN_TIMEOUT_S");

    /* Idle keep-alive after one answered request. */
    int idle = connect_port(port);
    cr_assert_geq(idle, 0);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    cr_assert_eq(write(idle, req, strlen(req)), (ssize_t)strlen(req));
    char buf[1024];
    cr_assert_gt(read(idle, buf, sizeof buf), 0);

    /* A client that sends half a header block and stalls. */
    int slow = connect_port(port);
    cr_assert_geq(slow, 0);
    cr_assert_eq(write(slow, "GET /healthz HTTP/1.1\r\nHo", 26), 26);

    double t_idle = seconds_until_closed(idle, 10);
    double t_slow = seconds_until_closed(slow, 10);
    cr_assert(t_idle >= 0, "an idle connection was kept past 10 s");
    cr_assert(t_slow >= 0, "a stalled request was kept past 10 s");
    close(idle);
    close(slow);
    cr_assert_eq(status_of("GET", "/healthz", NULL), 200, "new connections still served");
    kill(pid, SIGTERM);
    cr_assert_eq(wait_exit(pid, 15000), 0);
}
