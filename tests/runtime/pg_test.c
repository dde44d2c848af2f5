/*
 * pg_test.c - the PostgreSQL pool and the migration runner against a REAL
 * server. The database comes from TEST_DATABASE_URL (the Makefile starts a
 * throwaway cluster with scripts/pg.sh and exports it); without it every test
 * fails, loudly, rather than skipping.
 *
 * Tests may run in parallel processes, so every table and database a test
 * creates carries the test process's pid.
 */
#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "migrate.h"
#include "pg.h"
#include "testutil.h"

/* ================================================================ helpers */

static const char *db_url(void)
{
    const char *url = getenv("TEST_DATABASE_URL");
    cr_assert(url && *url,
              "TEST_DATABASE_URL is not set: start a cluster with "
              "`scripts/pg.sh start DIR PORT` and export the URL it prints");
    return url;
}

static void quiet_logs(void)
{
    rt_log_init(RT_LOG_WARN, 2);
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void no_notices(void *arg, const char *msg)
{
    (void)arg;
    (void)msg;
}

/* A plain libpq connection for test setup and for looking behind the pool. */
static PGconn *raw_conn(const char *conninfo)
{
    PGconn *pg = PQconnectdb(conninfo);
    cr_assert(pg && PQstatus(pg) == CONNECTION_OK, "raw connect failed: %s",
              pg ? PQerrorMessage(pg) : "oom");
    PQsetNoticeProcessor(pg, no_notices, NULL); /* "does not exist, skipping" */
    return pg;
}

static void raw_exec(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    ExecStatusType s = PQresultStatus(r);
    cr_assert(s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK, "%s: %s", sql,
              PQerrorMessage(pg));
    PQclear(r);
}

/* First column of the first row as a long (text). */
static long raw_long(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
    cr_assert_eq(PQntuples(r), 1);
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

/* Append key='value' (libpq quoting) to buf. */
static void kv(char *buf, size_t cap, const char *key, const char *val)
{
    size_t n = strlen(buf);
    n += (size_t)snprintf(buf + n, cap - n, "%s%s='", n ? " " : "", key);
    for (const char *p = val; *p && n + 3 < cap; p++) {
        if (*p == '\'' || *p == '\\')
            buf[n++] = '\\';
        buf[n++] = *p;
    }
    snprintf(buf + n, cap - n, "'");
}

/* The test URL as a key=value string with one or two parameters replaced. */
static void conninfo_with(char *buf, size_t cap, const char *k1, const char *v1,
                          const char *k2, const char *v2)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(db_url(), &perr);
    cr_assert_not_null(opts, "TEST_DATABASE_URL does not parse: %s", perr ? perr : "?");
    buf[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        const char *v = o->val;
        if (k1 && strcmp(o->keyword, k1) == 0)
            v = v1;
        else if (k2 && strcmp(o->keyword, k2) == 0)
            v = v2;
        if (v)
            kv(buf, cap, o->keyword, v);
    }
    PQconninfoFree(opts);
}

/* A port on 127.0.0.1 that is bound but not listening: connecting is refused
 * at once, and nobody else can take the port meanwhile. */
static int closed_port(int *port)
{
    int fd = test_local_port(false, port);
    cr_assert_geq(fd, 0);
    return fd;
}

static rt_pg_opts base_opts(const char *conninfo, unsigned size, const rt_pg_stmt *stmts,
                            size_t nstmts)
{
    return (rt_pg_opts){
        .conninfo = conninfo,
        .size = size,
        .wait_ms = 2000,
        .query_timeout_ms = 3000,
        .connect_timeout_s = 2,
        .stmts = stmts,
        .nstmts = nstmts,
    };
}

enum { S_ADD, S_PID, S_SLEEP, S_NSTMTS };
static const rt_pg_stmt stmts[S_NSTMTS] = {
    [S_ADD] = { "t_add", "SELECT $1::int4 + 1, $2::text || '!'", 2 },
    [S_PID] = { "t_pid", "SELECT pg_backend_pid()", 0 },
    [S_SLEEP] = { "t_sleep", "SELECT pg_sleep(5)", 0 },
};

static long exec_pid(rt_pg_conn *c)
{
    PGresult *r = NULL;
    char state[6];
    rt_status st = rt_pg_exec(c, S_PID, 0, NULL, NULL, NULL, 0, &r, state);
    cr_assert_eq(st, RT_OK, "pid query: %s", rt_status_name(st));
    long pid = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return pid;
}

static void exec_add_ok(rt_pg_conn *c)
{
    const char *vals[2] = { "41", "hi" };
    PGresult *r = NULL;
    char state[6];
    rt_status st = rt_pg_exec(c, S_ADD, 2, vals, NULL, NULL, 0, &r, state);
    cr_assert_eq(st, RT_OK, "add: %s (%s)", rt_status_name(st), rt_pg_error(c));
    cr_assert_str_eq(PQgetvalue(r, 0, 0), "42");
    PQclear(r);
}

/* Wait (bounded) until backend `pid` is gone. */
static void wait_backend_gone(PGconn *raw, long pid)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %ld", pid);
    for (int i = 0; i < 100 && raw_long(raw, sql) != 0; i++)
        sleep_ms(20);
    cr_assert_eq(raw_long(raw, sql), 0, "backend %ld still there", pid);
}

/* ================================================================ pool */

Test(pg, exec_text_and_binary, .init = quiet_logs, .timeout = 30)
{
    rt_pg_opts o = base_opts(db_url(), 2, stmts, S_NSTMTS);
    rt_pg_pool *p = rt_pg_pool_new(&o);
    cr_assert_not_null(p);
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "acquire: %s", rt_status_name(st));
    cr_assert_eq(st, RT_OK);

    /* Text in, text out. */
    const char *vals[2] = { "41", "hi" };
    PGresult *r = NULL;
    char state[6] = "xxxxx";
    st = rt_pg_exec(c, S_ADD, 2, vals, NULL, NULL, 0, &r, state);
    cr_assert_eq(st, RT_OK, "%s: %s", rt_status_name(st), rt_pg_error(c));
    cr_assert_str_eq(state, "");
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK);
    cr_assert_str_eq(PQgetvalue(r, 0, 0), "42");
    cr_assert_str_eq(PQgetvalue(r, 0, 1), "hi!");
    PQclear(r);

    /* Binary int4 in, binary out. */
    uint32_t be = htonl(41);
    const char *bvals[2] = { (const char *)&be, "hi" };
    int lens[2] = { 4, 0 };
    int fmts[2] = { 1, 0 };
    st = rt_pg_exec(c, S_ADD, 2, bvals, lens, fmts, 1, &r, state);
    cr_assert_eq(st, RT_OK, "%s: %s", rt_status_name(st), rt_pg_error(c));
    cr_assert_eq(PQfformat(r, 0), 1);
    cr_assert_eq(PQgetlength(r, 0, 0), 4);
    uint32_t got;
    memcpy(&got, PQgetvalue(r, 0, 0), 4);
    cr_assert_eq(ntohl(got), 42);
    cr_assert_eq(PQgetlength(r, 0, 1), 3);
    cr_assert(memcmp(PQgetvalue(r, 0, 1), "hi!", 3) == 0);
    PQclear(r);

    /* Programming errors are reported, not sent. */
    r = (PGresult *)1;
    cr_assert_eq(rt_pg_exec(c, S_ADD, 1, vals, NULL, NULL, 0, &r, state), RT_E_INTERNAL);
    cr_assert_null(r, "*out must be NULL unless RT_OK");
    cr_assert_eq(rt_pg_exec(c, S_NSTMTS, 0, NULL, NULL, NULL, 0, &r, state), RT_E_INTERNAL);
    exec_add_ok(c);

    rt_pg_release(p, c);
    cr_assert_eq(rt_pg_ping(p), RT_OK);
    rt_pg_pool_free(p);
}

Test(pg, unique_violation_reports_sqlstate, .init = quiet_logs, .timeout = 30)
{
    char table[64], ddl[256], ins[160];
    snprintf(table, sizeof table, "capi_pg_test_uniq_%ld", (long)getpid());
    PGconn *raw = raw_conn(db_url());
    snprintf(ddl, sizeof ddl, "DROP TABLE IF EXISTS %s; CREATE TABLE %s (id int4 PRIMARY KEY)",
             table, table);
    raw_exec(raw, ddl);

    snprintf(ins, sizeof ins, "INSERT INTO %s (id) VALUES ($1::int4)", table);
    rt_pg_stmt s[1] = { { "t_ins", ins, 1, false } };
    rt_pg_opts o = base_opts(db_url(), 1, s, 1);
    rt_pg_pool *p = rt_pg_pool_new(&o);
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "acquire: %s", rt_status_name(st));

    const char *one[1] = { "1" }, *two[1] = { "2" };
    PGresult *r = NULL;
    char state[6];
    cr_assert_eq(rt_pg_exec(c, 0, 1, one, NULL, NULL, 0, &r, state), RT_OK);
    cr_assert_eq(PQresultStatus(r), PGRES_COMMAND_OK);
    cr_assert_str_eq(PQcmdTuples(r), "1");
    PQclear(r);

    st = rt_pg_exec(c, 0, 1, one, NULL, NULL, 0, &r, state);
    cr_assert_eq(st, RT_E_INTERNAL, "got %s", rt_status_name(st));
    cr_assert_null(r);
    cr_assert_str_eq(state, "23505");
    cr_assert(strstr(rt_pg_error(c), "duplicate key") != NULL, "error: %s", rt_pg_error(c));

    /* A server error leaves the connection usable. */
    cr_assert_eq(rt_pg_exec(c, 0, 1, two, NULL, NULL, 0, &r, state), RT_OK);
    PQclear(r);
    rt_pg_release(p, c);
    rt_pg_pool_free(p);

    snprintf(ddl, sizeof ddl, "DROP TABLE %s", table);
    raw_exec(raw, ddl);
    PQfinish(raw);
}

Test(pg, bounded_wait_when_exhausted, .init = quiet_logs, .timeout = 30)
{
    rt_pg_opts o = base_opts(db_url(), 1, stmts, S_NSTMTS);
    o.wait_ms = 300;
    rt_pg_pool *p = rt_pg_pool_new(&o);
    rt_status st;
    rt_pg_conn *held = rt_pg_acquire(p, &st);
    cr_assert_not_null(held);

    int64_t t0 = rt_mono_ms();
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    int64_t took = rt_mono_ms() - t0;
    cr_assert_null(c);
    cr_assert_eq(st, RT_E_UNAVAILABLE);
    cr_assert_geq(took, 280, "gave up too early: %lld ms", (long long)took);
    cr_assert_lt(took, 800, "waited too long: %lld ms", (long long)took);

    rt_pg_release(p, held);
    c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "free again after release");
    exec_add_ok(c);
    rt_pg_release(p, c);
    rt_pg_pool_free(p);
}

typedef struct holder {
    rt_pg_pool *p;
    rt_pg_conn *c;
    long hold_ms;
} holder;

static void *release_later(void *arg)
{
    holder *h = arg;
    sleep_ms(h->hold_ms);
    rt_pg_release(h->p, h->c);
    return NULL;
}

Test(pg, waiter_woken_by_release, .init = quiet_logs, .timeout = 30)
{
    rt_pg_opts o = base_opts(db_url(), 1, stmts, S_NSTMTS);
    o.wait_ms = 5000;
    rt_pg_pool *p = rt_pg_pool_new(&o);
    rt_status st;
    holder h = { p, rt_pg_acquire(p, &st), 150 };
    cr_assert_not_null(h.c);
    long pid = exec_pid(h.c);
    pthread_t th;
    cr_assert_eq(pthread_create(&th, NULL, release_later, &h), 0);

    int64_t t0 = rt_mono_ms();
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    int64_t took = rt_mono_ms() - t0;
    pthread_join(th, NULL);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    cr_assert_lt(took, 2000, "woken late: %lld ms", (long long)took);
    cr_assert_eq(exec_pid(c), pid, "the same live connection is reused");
    rt_pg_release(p, c);
    rt_pg_pool_free(p);
}

Test(pg, query_deadline_cancels, .init = quiet_logs, .timeout = 30)
{
    rt_pg_opts o = base_opts(db_url(), 1, stmts, S_NSTMTS);
    o.query_timeout_ms = 200;
    rt_pg_pool *p = rt_pg_pool_new(&o);
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    long pid = exec_pid(c);

    PGresult *r = NULL;
    char state[6];
    int64_t t0 = rt_mono_ms();
    st = rt_pg_exec(c, S_SLEEP, 0, NULL, NULL, NULL, 0, &r, state);
    int64_t took = rt_mono_ms() - t0;
    cr_assert_eq(st, RT_E_TIMEOUT, "got %s", rt_status_name(st));
    cr_assert_null(r);
    cr_assert_lt(took, 2000, "deadline overshot: %lld ms", (long long)took);
    rt_pg_release(p, c);

    /* The server stopped the query instead of sleeping on. */
    PGconn *raw = raw_conn(db_url());
    char sql[160];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE pid = %ld AND query LIKE '%%pg_sleep%%' "
             "AND state = 'active'", pid);
    long active = 1;
    for (int i = 0; i < 100 && (active = raw_long(raw, sql)) != 0; i++)
        sleep_ms(20);
    cr_assert_eq(active, 0, "pg_sleep still running on the server");
    PQfinish(raw);

    /* And the pool works again. */
    c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    exec_add_ok(c);
    rt_pg_release(p, c);
    rt_pg_pool_free(p);
}

Test(pg, terminated_backend_is_replaced, .init = quiet_logs, .timeout = 30)
{
    rt_pg_opts o = base_opts(db_url(), 1, stmts, S_NSTMTS);
    rt_pg_pool *p = rt_pg_pool_new(&o);
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    long pid = exec_pid(c);

    PGconn *raw = raw_conn(db_url());
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%ld)", pid);
    raw_exec(raw, sql);
    wait_backend_gone(raw, pid);

    /* The borrower sees it fail... */
    const char *vals[2] = { "1", "x" };
    PGresult *r = NULL;
    char state[6];
    st = rt_pg_exec(c, S_ADD, 2, vals, NULL, NULL, 0, &r, state);
    cr_assert_eq(st, RT_E_UNAVAILABLE, "got %s", rt_status_name(st));
    cr_assert_null(r);
    cr_assert_neq(rt_pg_error(c)[0], '\0');
    rt_pg_release(p, c);

    /* ...and the next borrower gets a fresh connection, no restart. */
    c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    long pid2 = exec_pid(c);
    cr_assert_neq(pid2, pid);
    exec_add_ok(c);
    rt_pg_release(p, c);

    /* Killed while idle in the pool: acquire notices and reconnects, so no
     * request has to fail for it. */
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%ld)", pid2);
    raw_exec(raw, sql);
    wait_backend_gone(raw, pid2);
    c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    cr_assert_neq(exec_pid(c), pid2);
    rt_pg_release(p, c);

    PQfinish(raw);
    rt_pg_pool_free(p);
}

Test(pg, unreachable_database_fails_fast, .init = quiet_logs, .timeout = 30)
{
    (void)db_url(); /* no database needed, but the suite's contract holds */
    int port;
    int fd = closed_port(&port);
    char url[128];
    snprintf(url, sizeof url, "postgres://postgres@127.0.0.1:%d/api?sslmode=disable", port);
    rt_pg_opts o = base_opts(url, 2, stmts, S_NSTMTS);
    rt_pg_pool *p = rt_pg_pool_new(&o);
    cr_assert_not_null(p);

    for (int i = 0; i < 3; i++) {
        rt_status st = RT_OK;
        int64_t t0 = rt_mono_ms();
        rt_pg_conn *c = rt_pg_acquire(p, &st);
        int64_t took = rt_mono_ms() - t0;
        cr_assert_null(c);
        cr_assert_eq(st, RT_E_UNAVAILABLE);
        cr_assert_lt(took, 500, "refused connection took %lld ms", (long long)took);
    }
    cr_assert_eq(rt_pg_ping(p), RT_E_UNAVAILABLE);
    rt_pg_pool_free(p);
    close(fd);
}

/* ---------------------------------------------------------------- database comes back */

/* A one-connection-at-a-time TCP relay from a listening fd to the real
 * server: the "database" is down until the relay starts listening, and a
 * frozen relay is a server that stopped answering (a network partition). */
typedef struct relay {
    int lfd;
    int dst_port;
    char dst_host[64];
    _Atomic int stop, freeze;
    pthread_t th;
} relay;

static int dial(const char *host, int port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    if (fd < 0 || inet_pton(AF_INET, host, &a.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static void pump(relay *rl, int a, int b)
{
    char buf[16384];
    struct pollfd pf[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
    while (!rl->stop) {
        if (rl->freeze) {
            sleep_ms(10);
            continue;
        }
        if (poll(pf, 2, 50) < 0 && errno != EINTR)
            return;
        for (int i = 0; i < 2; i++) {
            if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            ssize_t n = read(pf[i].fd, buf, sizeof buf);
            if (n <= 0)
                return;
            for (ssize_t off = 0; off < n;) {
                ssize_t w = write(pf[1 - i].fd, buf + off, (size_t)(n - off));
                if (w <= 0)
                    return;
                off += w;
            }
        }
    }
}

static void *relay_main(void *arg)
{
    relay *rl = arg;
    while (!rl->stop) {
        struct pollfd pf = { .fd = rl->lfd, .events = POLLIN };
        if (poll(&pf, 1, 50) <= 0)
            continue;
        int cfd = accept(rl->lfd, NULL, NULL);
        if (cfd < 0)
            continue;
        int sfd = dial(rl->dst_host, rl->dst_port);
        if (sfd >= 0) {
            pump(rl, cfd, sfd);
            close(sfd);
        }
        close(cfd);
    }
    return NULL;
}

/* Bind the relay's port (not yet listening) and write a conninfo that goes
 * through it. */
static void relay_prepare(relay *rl, char *conninfo, size_t cap)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(db_url(), &perr);
    cr_assert_not_null(opts);
    rl->dst_port = 5432;
    snprintf(rl->dst_host, sizeof rl->dst_host, "127.0.0.1");
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (strcmp(o->keyword, "port") == 0 && o->val)
            rl->dst_port = atoi(o->val);
        if ((strcmp(o->keyword, "hostaddr") == 0 || strcmp(o->keyword, "host") == 0) && o->val &&
            o->val[0] != '/')
            snprintf(rl->dst_host, sizeof rl->dst_host, "%s",
                     strcmp(o->val, "localhost") == 0 ? "127.0.0.1" : o->val);
    }
    PQconninfoFree(opts);
    int port;
    rl->lfd = closed_port(&port);
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%d", port);
    conninfo_with(conninfo, cap, "port", portstr, "host", "127.0.0.1");
}

static void relay_start(relay *rl)
{
    cr_assert_eq(listen(rl->lfd, 8), 0);
    cr_assert_eq(pthread_create(&rl->th, NULL, relay_main, rl), 0);
}

static void relay_stop(relay *rl)
{
    rl->stop = 1;
    pthread_join(rl->th, NULL);
    close(rl->lfd);
}

Test(pg, reconnects_when_database_returns, .init = quiet_logs, .timeout = 30)
{
    relay rl = { 0 };
    char conninfo[1024];
    relay_prepare(&rl, conninfo, sizeof conninfo);
    rt_pg_opts o = base_opts(conninfo, 1, stmts, S_NSTMTS);
    rt_pg_pool *p = rt_pg_pool_new(&o);

    rt_status st;
    cr_assert_null(rt_pg_acquire(p, &st), "database is down");
    cr_assert_eq(st, RT_E_UNAVAILABLE);

    /* The database comes back. */
    relay_start(&rl);
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "no reconnect after the database returned: %s", rt_status_name(st));
    exec_add_ok(c);
    rt_pg_release(p, c);
    rt_pg_pool_free(p);
    relay_stop(&rl);
}

Test(pg, client_deadline_when_server_is_silent, .init = quiet_logs, .timeout = 30)
{
    /* The server's statement_timeout cannot help here: the query never
     * reaches it. Only the client-side deadline bounds the wait, and the
     * cancel (which cannot get through either) must not block the caller. */
    relay rl = { 0 };
    char conninfo[1024];
    relay_prepare(&rl, conninfo, sizeof conninfo);
    relay_start(&rl);
    rt_pg_opts o = base_opts(conninfo, 1, stmts, S_NSTMTS);
    o.query_timeout_ms = 300;
    rt_pg_pool *p = rt_pg_pool_new(&o);
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    exec_add_ok(c);

    rl.freeze = 1;
    const char *vals[2] = { "1", "x" };
    PGresult *r = NULL;
    char state[6];
    int64_t t0 = rt_mono_ms();
    st = rt_pg_exec(c, S_ADD, 2, vals, NULL, NULL, 0, &r, state);
    int64_t took = rt_mono_ms() - t0;
    cr_assert_eq(st, RT_E_TIMEOUT, "got %s", rt_status_name(st));
    cr_assert_null(r);
    cr_assert_geq(took, 280, "deadline fired early: %lld ms", (long long)took);
    cr_assert_lt(took, 1500, "deadline overshot: %lld ms", (long long)took);
    cr_assert(strstr(rt_pg_error(c), "deadline") != NULL, "%s", rt_pg_error(c));
    rt_pg_release(p, c);

    /* The network heals: the pool recovers by itself. */
    rl.freeze = 0;
    c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    exec_add_ok(c);
    rt_pg_release(p, c);
    rt_pg_pool_free(p);
    relay_stop(&rl);
}

/* ---------------------------------------------------------------- misc */

Test(pg, bad_statement_or_config, .init = quiet_logs, .timeout = 30)
{
    rt_pg_stmt bad[1] = { { "t_bad", "SELEC 1", 0, false } };
    rt_pg_opts o = base_opts(db_url(), 1, bad, 1);
    rt_pg_pool *p = rt_pg_pool_new(&o);
    rt_status st = RT_OK;
    cr_assert_null(rt_pg_acquire(p, &st), "a statement that cannot be prepared fails acquire");
    cr_assert_eq(st, RT_E_UNAVAILABLE);
    rt_pg_pool_free(p);

    o = base_opts("postgres://[::1", 1, NULL, 0);
    cr_assert_null(rt_pg_pool_new(&o), "unparsable conninfo");
    o = base_opts(db_url(), 0, NULL, 0);
    cr_assert_null(rt_pg_pool_new(&o), "size 0");
    rt_pg_pool_free(NULL);
    rt_pg_release(NULL, NULL);
}

/* The sessions' plan_cache_mode: with force_generic_plan a page query whose
 * LIMIT is a parameter (PostgreSQL's own choice re-plans it on every
 * execution) is planned once; the URL's own options still win. The table
 * carries the test's pid, so the statements are written at run time. */
static char plan_sql[3][160];
static rt_pg_stmt plan_stmts[3];

static void plan_table(PGconn *raw)
{
    int pid = (int)getpid();
    char sql[256];
    snprintf(sql, sizeof sql,
             "DROP TABLE IF EXISTS plan_t_%d; CREATE TABLE plan_t_%d (id bigint PRIMARY KEY);"
             " INSERT INTO plan_t_%d SELECT generate_series(1, 10000); ANALYZE plan_t_%d",
             pid, pid, pid, pid);
    raw_exec(raw, sql);
    snprintf(plan_sql[0], sizeof plan_sql[0],
             "SELECT id FROM plan_t_%d WHERE id > $1 ORDER BY id LIMIT $2", pid);
    snprintf(plan_sql[1], sizeof plan_sql[1],
             "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 't_page'");
    snprintf(plan_sql[2], sizeof plan_sql[2], "SELECT current_setting('plan_cache_mode')");
    plan_stmts[0] = (rt_pg_stmt){ "t_page", plan_sql[0], 2, false };
    plan_stmts[1] = (rt_pg_stmt){ "t_plans", plan_sql[1], 0, false };
    plan_stmts[2] = (rt_pg_stmt){ "t_mode", plan_sql[2], 0, false };
}

/* Run t_page 8 times on c; generic and custom plans PostgreSQL counted. */
static void plans_after_8(rt_pg_conn *c, long *generic, long *custom, char mode[32])
{
    PGresult *r = NULL;
    char state[6];
    for (int i = 0; i < 8; i++) {
        char after[8];
        snprintf(after, sizeof after, "%d", i * 10);
        const char *vals[2] = { after, "21" };
        cr_assert_eq(rt_pg_exec(c, 0, 2, vals, NULL, NULL, 0, &r, state), RT_OK);
        cr_assert_eq(PQntuples(r), 21);
        cr_assert_eq(atoi(PQgetvalue(r, 0, 0)), i * 10 + 1);
        PQclear(r);
    }
    cr_assert_eq(rt_pg_exec(c, 1, 0, NULL, NULL, NULL, 0, &r, state), RT_OK);
    *generic = atol(PQgetvalue(r, 0, 0));
    *custom = atol(PQgetvalue(r, 0, 1));
    PQclear(r);
    cr_assert_eq(rt_pg_exec(c, 2, 0, NULL, NULL, NULL, 0, &r, state), RT_OK);
    snprintf(mode, 32, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

/* plans_after_8 on a fresh pool over conninfo with plan_cache_mode mode. */
static void plans_with(const char *conninfo, const char *mode, long *generic, long *custom,
                       char got[32])
{
    rt_pg_opts o = base_opts(conninfo, 1, plan_stmts, 3);
    o.plan_cache_mode = mode;
    rt_pg_pool *p = rt_pg_pool_new(&o);
    cr_assert_not_null(p);
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "acquire: %s", rt_status_name(st));
    plans_after_8(c, generic, custom, got);
    rt_pg_release(p, c);
    rt_pg_pool_free(p);
}

Test(pg, plan_cache_mode_reaches_the_sessions, .init = quiet_logs, .timeout = 30)
{
    PGconn *raw = raw_conn(db_url());
    plan_table(raw);
    long generic, custom;
    char mode[32];

    /* the server's default: a custom plan every time (why the option exists) */
    plans_with(db_url(), NULL, &generic, &custom, mode);
    cr_assert_str_eq(mode, "auto");
    cr_assert_eq(custom, 8, "generic %ld, custom %ld", generic, custom);

    plans_with(db_url(), "force_generic_plan", &generic, &custom, mode);
    cr_assert_str_eq(mode, "force_generic_plan");
    cr_assert_eq(custom, 0, "planned %ld times for its parameters", custom);
    cr_assert_eq(generic, 8);

    /* The URL's options come after ours. */
    char ci[1024];
    conninfo_with(ci, sizeof ci, "options", "-c plan_cache_mode=force_custom_plan", NULL, NULL);
    plans_with(ci, "force_generic_plan", &generic, &custom, mode);
    cr_assert_str_eq(mode, "force_custom_plan");
    cr_assert_eq(generic, 0);

    /* Anything else is refused before it reaches the options string. */
    rt_pg_opts o = base_opts(db_url(), 1, NULL, 0);
    o.plan_cache_mode = "auto -c work_mem=1TB";
    cr_assert_null(rt_pg_pool_new(&o));
    cr_assert(!rt_pg_plan_cache_mode_ok(""));
    cr_assert(rt_pg_plan_cache_mode_ok("auto"));

    char drop[64];
    snprintf(drop, sizeof drop, "DROP TABLE plan_t_%d", (int)getpid());
    raw_exec(raw, drop);
    PQfinish(raw);
}

typedef struct hammer_arg {
    rt_pg_pool *p;
    int ok, fail;
} hammer_arg;

static void *hammer(void *arg)
{
    hammer_arg *h = arg;
    for (int i = 0; i < 40; i++) {
        rt_status st;
        rt_pg_conn *c = rt_pg_acquire(h->p, &st);
        if (!c) {
            h->fail++;
            continue;
        }
        char num[16];
        snprintf(num, sizeof num, "%d", i);
        const char *vals[2] = { num, "t" };
        PGresult *r = NULL;
        char state[6];
        if (rt_pg_exec(c, S_ADD, 2, vals, NULL, NULL, 0, &r, state) == RT_OK &&
            atoi(PQgetvalue(r, 0, 0)) == i + 1)
            h->ok++;
        else
            h->fail++;
        PQclear(r);
        rt_pg_release(h->p, c);
    }
    return NULL;
}

Test(pg, shared_by_threads, .init = quiet_logs, .timeout = 60)
{
    rt_pg_opts o = base_opts(db_url(), 3, stmts, S_NSTMTS);
    o.wait_ms = 10000;
    rt_pg_pool *p = rt_pg_pool_new(&o);
    hammer_arg h[8];
    pthread_t th[8];
    for (int i = 0; i < 8; i++) {
        h[i] = (hammer_arg){ .p = p };
        cr_assert_eq(pthread_create(&th[i], NULL, hammer, &h[i]), 0);
    }
    int ok = 0, fail = 0;
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        ok += h[i].ok;
        fail += h[i].fail;
    }
    cr_assert_eq(fail, 0);
    cr_assert_eq(ok, 8 * 40);
    rt_pg_pool_free(p);
}

/* ================================================================ migrations */

/* A fresh database for one test, dropped by drop_db. */
static void make_db(char *name, size_t cap, const char *tag, char *conninfo, size_t ccap)
{
    snprintf(name, cap, "capi_mig_%s_%ld", tag, (long)getpid());
    PGconn *raw = raw_conn(db_url());
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    raw_exec(raw, sql);
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
    raw_exec(raw, sql);
    PQfinish(raw);
    conninfo_with(conninfo, ccap, "dbname", name, NULL, NULL);
}

static void drop_db(const char *name)
{
    PGconn *raw = raw_conn(db_url());
    char sql[160];
    snprintf(sql, sizeof sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", name);
    raw_exec(raw, sql);
    PQfinish(raw);
}

static const rt_migration two[] = {
    { "0001_a.sql", "CREATE TABLE a (id int PRIMARY KEY);" },
    { "0002_b.sql", "CREATE TABLE b (id int); INSERT INTO b VALUES (1), (2);" },
};

Test(migrate, applies_once_and_rolls_back_failures, .init = quiet_logs, .timeout = 60)
{
    char db[64], ci[1024], err[256];
    make_db(db, sizeof db, "once", ci, sizeof ci);

    cr_assert_eq(rt_migrate(ci, two, 2, err, sizeof err), RT_OK, "%s", err);
    PGconn *pg = raw_conn(ci);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM schema_migrations"), 2);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM b"), 2);

    /* Re-applying would fail (CREATE TABLE a without IF NOT EXISTS) or
     * duplicate b's rows: neither happens. */
    cr_assert_eq(rt_migrate(ci, two, 2, err, sizeof err), RT_OK, "%s", err);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM schema_migrations"), 2);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM b"), 2);

    /* A failing migration leaves nothing behind, and is not recorded. */
    const rt_migration three[] = {
        two[0], two[1],
        { "0003_bad.sql", "CREATE TABLE c (id int); INSERT INTO b VALUES (3); SELECT 1/0;" },
    };
    cr_assert_eq(rt_migrate(ci, three, 3, err, sizeof err), RT_E_INTERNAL);
    cr_assert(strstr(err, "0003_bad.sql") && strstr(err, "division by zero"), "err: %s", err);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM schema_migrations"), 2);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM b"), 2);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM pg_tables WHERE tablename = 'c'"), 0);

    /* Fixed, it applies. */
    const rt_migration fixed[] = {
        two[0], two[1], { "0003_c.sql", "CREATE TABLE c (id int);" },
    };
    cr_assert_eq(rt_migrate(ci, fixed, 3, err, sizeof err), RT_OK, "%s", err);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM schema_migrations"), 3);
    PQfinish(pg);
    drop_db(db);
}

typedef struct mig_arg {
    const char *ci;
    rt_status st;
    char err[256];
} mig_arg;

static void *migrate_thread(void *arg)
{
    mig_arg *m = arg;
    m->st = rt_migrate(m->ci, two, 2, m->err, sizeof m->err);
    return NULL;
}

Test(migrate, concurrent_instances_take_turns, .init = quiet_logs, .timeout = 60)
{
    char db[64], ci[1024];
    make_db(db, sizeof db, "conc", ci, sizeof ci);
    mig_arg m[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        m[i] = (mig_arg){ .ci = ci };
        cr_assert_eq(pthread_create(&th[i], NULL, migrate_thread, &m[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        cr_assert_eq(m[i].st, RT_OK, "instance %d: %s", i, m[i].err);
    }
    PGconn *pg = raw_conn(ci);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM schema_migrations"), 2);
    cr_assert_eq(raw_long(pg, "SELECT count(*) FROM b"), 2);
    PQfinish(pg);
    drop_db(db);
}

Test(migrate, bad_input_and_unreachable, .init = quiet_logs, .timeout = 30)
{
    char err[256];
    const rt_migration unsorted[] = { two[1], two[0] };
    cr_assert_eq(rt_migrate(db_url(), unsorted, 2, err, sizeof err), RT_E_INTERNAL);
    cr_assert(strstr(err, "sorted") != NULL, "err: %s", err);

    int port;
    int fd = closed_port(&port);
    char url[128];
    snprintf(url, sizeof url, "postgres://postgres:secretpw@127.0.0.1:%d/api", port);
    cr_assert_eq(rt_migrate(url, two, 2, err, sizeof err), RT_E_UNAVAILABLE);
    cr_assert(strstr(err, "connect") != NULL, "err: %s", err);
    cr_assert(strstr(err, "secretpw") == NULL, "the password must not leak: %s", err);
    close(fd);
}
