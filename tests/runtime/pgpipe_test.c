/*
 * pgpipe_test.c - the pool's pipelined path (pg.c, "pipelines"): queries
 * made by coroutines on an event loop, against a REAL PostgreSQL from
 * TEST_DATABASE_URL (the suite fails without it). The loop is a small
 * epoll loop of the test's own, driving the scheduler as http.c does.
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "co.h"
#include "log.h"
#include "pg.h"
#include "testutil.h"

static const char *db_url(void)
{
    const char *url = getenv("TEST_DATABASE_URL");
    cr_assert(url && *url, "TEST_DATABASE_URL is not set (scripts/pg.sh start DIR PORT)");
    return url;
}

static void quiet_logs(void)
{
    rt_log_init(RT_LOG_ERROR, 2);
}

enum { S_ADD, S_PID, S_SLEEP, S_DIV, S_NSTMTS };
static const rt_pg_stmt stmts[S_NSTMTS] = {
    [S_ADD] = { "p_add", "SELECT $1::int4 + 1", 1 },
    [S_PID] = { "p_pid", "SELECT pg_backend_pid()", 0 },
    [S_SLEEP] = { "p_sleep", "SELECT pg_sleep(5)", 0 },
    [S_DIV] = { "p_div", "SELECT 100 / $1::int4", 1 },
};

static rt_pg_pool *pool_for(const char *url, unsigned pipe, unsigned timeout_ms)
{
    rt_pg_opts o = {
        .conninfo = url,
        .size = 2,
        .wait_ms = 2000,
        .query_timeout_ms = timeout_ms,
        .connect_timeout_s = 1,
        .stmts = stmts,
        .nstmts = S_NSTMTS,
        .pipe_size = pipe,
    };
    rt_pg_pool *p = rt_pg_pool_new(&o);
    cr_assert_not_null(p);
    return p;
}

/* ---------------------------------------------------------------- the loop */

typedef test_loop loop;

static unsigned pending;

static void loop_init(loop *l)
{
    cr_assert(test_loop_init(l));
}

static void loop_run(loop *l, int64_t max_ms)
{
    test_loop_run(l, &pending, max_ms);
}

static void loop_end(loop *l)
{
    cr_expect_eq(test_loop_end(l, 2000), 0u, "coroutines left parked");
}

/* One query made by one coroutine. */
typedef struct job {
    rt_pg_pool *p;
    size_t stmt;
    int nparams;
    char arg[16];
    rt_status st;
    char sqlstate[6];
    char value[32]; /* first column of the first row */
    char err[128];
    rt_co *co;
} job;

static void run_job(void *arg)
{
    job *j = arg;
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(j->p, &st);
    if (!c) {
        j->st = st;
        return;
    }
    const char *vals[1] = { j->arg };
    PGresult *r = NULL;
    j->st = rt_pg_exec(c, j->stmt, j->nparams, vals, NULL, NULL, 0, &r, j->sqlstate);
    if (j->st == RT_OK && PQntuples(r) > 0)
        snprintf(j->value, sizeof j->value, "%s", PQgetvalue(r, 0, 0));
    snprintf(j->err, sizeof j->err, "%s", rt_pg_error(c));
    PQclear(r);
    rt_pg_release(j->p, c);
}

static void job_done(rt_co *co, void *arg)
{
    (void)co;
    (void)arg;
    pending--;
}

static void start(job *j)
{
    if (!j->co)
        j->co = rt_co_new(128 * 1024);
    cr_assert_not_null(j->co);
    pending++;
    if (rt_co_start(j->co, run_job, j, job_done))
        pending--;
}

/* A job running statement stmt (nparams parameters, all arg) on p. */
static job job_of(rt_pg_pool *p, size_t stmt, int nparams, long arg)
{
    job j = { .p = p, .stmt = stmt, .nparams = nparams, .st = RT_E_INTERNAL };
    snprintf(j.arg, sizeof j.arg, "%ld", arg);
    return j;
}

static job mk(rt_pg_pool *p, size_t stmt, long arg)
{
    return job_of(p, stmt, stmts[stmt].nparams, arg);
}

/* The backend pid of the loop's (first) connection. */
static job backend_pid(rt_pg_pool *p, loop *l)
{
    job pid = mk(p, S_PID, 0);
    start(&pid);
    loop_run(l, 5000);
    cr_assert_eq(pid.st, RT_OK, "%s (%s)", rt_status_name(pid.st), pid.err);
    return pid;
}

/* ---------------------------------------------------------------- tests */

Test(pgpipe, many_coroutines_get_their_own_results, .init = quiet_logs, .timeout = 60)
{
    loop l;
    loop_init(&l);
    rt_pg_pool *p = pool_for(db_url(), 2, 5000);
    enum { N = 300 };
    static job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = mk(p, S_ADD, i);
        start(&jobs[i]);
    }
    cr_assert_eq(pending, (unsigned)N, "every query parks for its result");
    loop_run(&l, 20000);
    cr_assert_eq(pending, 0u, "%u queries never answered", pending);
    for (int i = 0; i < N; i++) {
        cr_assert_eq(jobs[i].st, RT_OK, "query %d: %s (%s)", i, rt_status_name(jobs[i].st),
                     jobs[i].err);
        cr_assert_eq(atol(jobs[i].value), i + 1L, "query %d got another's result %s", i,
                     jobs[i].value);
    }
    /* All of them went over this loop's two connections at most. */
    enum { M = 40 };
    static job pids[M];
    for (int i = 0; i < M; i++) {
        pids[i] = mk(p, S_PID, 0);
        start(&pids[i]);
    }
    loop_run(&l, 10000);
    long seen[2] = { 0, 0 };
    int nseen = 0;
    for (int i = 0; i < M; i++) {
        cr_assert_eq(pids[i].st, RT_OK);
        long pid = atol(pids[i].value);
        if (pid != seen[0] && pid != seen[1]) {
            cr_assert_lt(nseen, 2, "a third backend: the loop has two connections");
            seen[nseen++] = pid;
        }
    }
    loop_end(&l);
    for (int i = 0; i < N; i++)
        rt_co_free(jobs[i].co);
    for (int i = 0; i < M; i++)
        rt_co_free(pids[i].co);
    rt_pg_pool_free(p);
}

Test(pgpipe, a_failing_query_fails_alone, .init = quiet_logs, .timeout = 60)
{
    loop l;
    loop_init(&l);
    rt_pg_pool *p = pool_for(db_url(), 1, 5000);
    enum { N = 60 };
    static job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = mk(p, S_DIV, i % 3 == 0 ? 0 : 5); /* every third divides by zero */
        start(&jobs[i]);
    }
    loop_run(&l, 20000);
    cr_assert_eq(pending, 0u);
    for (int i = 0; i < N; i++) {
        if (i % 3 == 0) {
            cr_assert_eq(jobs[i].st, RT_E_INTERNAL, "query %d: %s", i, rt_status_name(jobs[i].st));
            cr_assert_str_eq(jobs[i].sqlstate, "22012", "division_by_zero");
            cr_assert(strstr(jobs[i].err, "division by zero") != NULL, "%s", jobs[i].err);
        } else {
            cr_assert_eq(jobs[i].st, RT_OK, "query %d after a failure: %s (%s)", i,
                         rt_status_name(jobs[i].st), jobs[i].err);
            cr_assert_str_eq(jobs[i].value, "20");
        }
    }
    loop_end(&l);
    for (int i = 0; i < N; i++)
        rt_co_free(jobs[i].co);
    rt_pg_pool_free(p);
}

static long raw_long(PGconn *pg, const char *sql);

/* A table of unique keys for the write tests (named after the pid: test
 * processes run in parallel) and a raw connection to look at it. */
typedef struct wtable {
    PGconn *raw;
    char ins[160], ins_txid[160], count[128], drop[96];
} wtable;

static void wtable_make(wtable *t)
{
    char table[64], create[160];
    snprintf(table, sizeof table, "pp_w_%d", (int)getpid());
    snprintf(create, sizeof create, "CREATE TABLE %s (k int PRIMARY KEY)", table);
    snprintf(t->ins, sizeof t->ins, "INSERT INTO %s (k) VALUES ($1::int4) RETURNING k", table);
    snprintf(t->ins_txid, sizeof t->ins_txid,
             "INSERT INTO %s (k) VALUES ($1::int4) RETURNING txid_current()", table);
    snprintf(t->count, sizeof t->count, "SELECT count(*) FROM %s", table);
    snprintf(t->drop, sizeof t->drop, "DROP TABLE IF EXISTS %s", table);
    t->raw = PQconnectdb(db_url());
    cr_assert_eq(PQstatus(t->raw), CONNECTION_OK);
    PQclear(PQexec(t->raw, t->drop));
    PGresult *cr = PQexec(t->raw, create);
    cr_assert_eq(PQresultStatus(cr), PGRES_COMMAND_OK, "%s", PQerrorMessage(t->raw));
    PQclear(cr);
}

static void wtable_drop(wtable *t)
{
    PQclear(PQexec(t->raw, t->drop));
    PQfinish(t->raw);
}

static rt_pg_pool *wpool(rt_pg_stmt *ws, size_t n)
{
    rt_pg_opts o = { .conninfo = db_url(), .size = 4, .wait_ms = 2000, .query_timeout_ms = 5000,
                     .connect_timeout_s = 2, .stmts = ws, .nstmts = n, .pipe_size = 3 };
    rt_pg_pool *p = rt_pg_pool_new(&o);
    cr_assert_not_null(p);
    return p;
}

/* The write tests' statements all take one parameter. */
static job wjob(rt_pg_pool *p, size_t stmt, long arg)
{
    return job_of(p, stmt, 1, arg);
}

/* Open the loop's three connections with three inserts (keys 1000..1002),
 * so that the next turn finds them all ready. */
static void warm_up(rt_pg_pool *p, loop *l, job *jobs)
{
    for (int i = 0; i < 3; i++) {
        jobs[i] = wjob(p, 0, 1000 + i);
        start(&jobs[i]);
    }
    loop_run(l, 10000);
    for (int i = 0; i < 3; i++)
        cr_assert_eq(jobs[i].st, RT_OK, "warm-up insert: %s", jobs[i].err);
}

/* Start j again as an insert of key, on the coroutine it already has. */
static void restart(job *j, rt_pg_pool *p, long key)
{
    rt_co *co = j->co;
    *j = wjob(p, 0, key);
    j->co = co;
    start(j);
}

/* Each write gets the outcome of its own statement: a unique violation
 * among concurrent INSERTs (and reads between them) rolls back nothing but
 * itself, whether the INSERTs commit alone or in groups (a group that fails
 * is run again one by one). */
static void writes_outcomes(bool group)
{
    wtable t;
    wtable_make(&t);
    rt_pg_stmt ws[2] = { { "w_ins", t.ins, 1, .group_commit = group },
                         { "w_add", "SELECT $1::int4 + 1", 1, false } };
    rt_pg_pool *p = wpool(ws, 2);
    loop l;
    loop_init(&l);
    enum { N = 60 };
    static job jobs[N];
    for (int i = 0; i < N; i++) {
        jobs[i] = wjob(p, i % 3 == 2 ? 1u : 0u, i % 3 == 2 ? i : i % 20);
        start(&jobs[i]);
    }
    loop_run(&l, 20000);
    cr_assert_eq(pending, 0u);
    int ok = 0, dup = 0;
    for (int i = 0; i < N; i++) {
        if (i % 3 == 2) {
            cr_assert_eq(jobs[i].st, RT_OK, "read %d: %s (%s)", i, rt_status_name(jobs[i].st),
                         jobs[i].err);
            cr_assert_eq(atol(jobs[i].value), i + 1L);
        } else if (jobs[i].st == RT_OK) {
            cr_assert_eq(atol(jobs[i].value), i % 20, "insert %d returned its own row", i);
            ok++;
        } else {
            cr_assert_eq(jobs[i].st, RT_E_INTERNAL, "insert %d: %s", i, rt_status_name(jobs[i].st));
            cr_assert_str_eq(jobs[i].sqlstate, "23505", "insert %d: %s", i, jobs[i].err);
            dup++;
        }
    }
    cr_assert_eq(ok, 20, "one insert per key succeeds");
    cr_assert_eq(dup, 20, "the second insert of a key is a unique violation");
    cr_assert_eq(raw_long(t.raw, t.count), 20, "every successful insert is committed");
    loop_end(&l);
    for (int i = 0; i < N; i++)
        rt_co_free(jobs[i].co);
    rt_pg_pool_free(p);
    wtable_drop(&t);
}

Test(pgpipe, writes_commit_alone, .init = quiet_logs, .timeout = 60)
{
    writes_outcomes(false);
}

Test(pgpipe, grouped_writes_keep_their_own_outcomes, .init = quiet_logs, .timeout = 60)
{
    writes_outcomes(true);
}

/* group_commit INSERTs started in one loop turn share transactions (at
 * most PIPE_DEPTH, 16, per group); plain ones get one each. */
Test(pgpipe, grouped_writes_share_a_transaction, .init = quiet_logs, .timeout = 60)
{
    wtable t;
    wtable_make(&t);
    for (int group = 0; group < 2; group++) {
        char truncate[64];
        snprintf(truncate, sizeof truncate, "TRUNCATE pp_w_%d", (int)getpid());
        PQclear(PQexec(t.raw, truncate));
        rt_pg_stmt ws[1] = { { "w_ins", t.ins_txid, 1, .group_commit = group } };
        rt_pg_pool *p = wpool(ws, 1);
        loop l;
        loop_init(&l);
        enum { N = 20 };
        static job jobs[N];
        warm_up(p, &l, jobs);
        for (int i = 0; i < N; i++)
            restart(&jobs[i], p, i);
        loop_run(&l, 10000);
        cr_assert_eq(pending, 0u);
        int distinct = 0;
        for (int i = 0; i < N; i++) {
            cr_assert_eq(jobs[i].st, RT_OK, "insert %d: %s (%s)", i, rt_status_name(jobs[i].st),
                         jobs[i].err);
            bool seen = false;
            for (int k = 0; k < i && !seen; k++)
                seen = strcmp(jobs[k].value, jobs[i].value) == 0;
            distinct += !seen;
        }
        if (group)
            cr_assert_eq(distinct, 2, "20 grouped inserts in %d transactions, expected 16 + 4",
                         distinct);
        else
            cr_assert_eq(distinct, N, "20 plain inserts in %d transactions", distinct);
        cr_assert_eq(raw_long(t.raw, t.count), N + 3);
        loop_end(&l);
        for (int i = 0; i < N; i++) {
            rt_co_free(jobs[i].co);
            jobs[i].co = NULL;
        }
        rt_pg_pool_free(p);
    }
    wtable_drop(&t);
}

/* Two groups on two connections insert the same two keys in opposite
 * orders: they wait on each other (PostgreSQL breaks the deadlock after
 * deadlock_timeout) or one sees the other's keys; either way its group is
 * run again alone, each key is inserted once and every insert gets its
 * own answer. */
Test(pgpipe, crossing_groups_resolve, .init = quiet_logs, .timeout = 60)
{
    wtable t;
    wtable_make(&t);
    rt_pg_stmt ws[1] = { { "w_ins", t.ins, 1, .group_commit = true } };
    rt_pg_pool *p = wpool(ws, 1);
    loop l;
    loop_init(&l);
    enum { N = 32 };
    static job jobs[N];
    warm_up(p, &l, jobs);
    /* group A: 1, 100..113, 2; group B: 2, 200..213, 1 */
    for (int i = 0; i < N; i++)
        restart(&jobs[i], p,
                i == 0 || i == 31 ? 1 : i == 15 || i == 16 ? 2 : i < 16 ? 100 + i : 200 + i);
    loop_run(&l, 20000);
    cr_assert_eq(pending, 0u);
    int ok = 0, dup = 0;
    for (int i = 0; i < N; i++) {
        if (jobs[i].st == RT_OK) {
            ok++;
            continue;
        }
        cr_assert(i == 0 || i == 15 || i == 16 || i == 31, "insert %d: %s (%s)", i,
                  rt_status_name(jobs[i].st), jobs[i].err);
        cr_assert_str_eq(jobs[i].sqlstate, "23505", "insert %d: %s", i, jobs[i].err);
        dup++;
    }
    cr_assert_eq(dup, 2, "keys 1 and 2 are inserted once each");
    cr_assert_eq(ok, N - 2);
    cr_assert_eq(raw_long(t.raw, t.count), N - 2 + 3);
    loop_end(&l);
    for (int i = 0; i < N; i++)
        rt_co_free(jobs[i].co);
    rt_pg_pool_free(p);
    wtable_drop(&t);
}

static long raw_long(PGconn *pg, const char *sql)
{
    PGresult *r = PQexec(pg, sql);
    cr_assert_eq(PQresultStatus(r), PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(pg));
    long v = atol(PQgetvalue(r, 0, 0));
    PQclear(r);
    return v;
}

Test(pgpipe, deadline_times_out_cancels_and_recovers, .init = quiet_logs, .timeout = 60)
{
    loop l;
    loop_init(&l);
    rt_pg_pool *p = pool_for(db_url(), 1, 300);
    job pid = backend_pid(p, &l);

    job slow = mk(p, S_SLEEP, 0);
    job behind = mk(p, S_ADD, 1); /* queued behind it on the one connection */
    int64_t t0 = rt_mono_ms();
    start(&slow);
    start(&behind);
    loop_run(&l, 5000);
    int64_t took = rt_mono_ms() - t0;
    cr_assert_eq(pending, 0u);
    cr_assert_eq(slow.st, RT_E_TIMEOUT, "got %s", rt_status_name(slow.st));
    cr_assert_eq(behind.st, RT_E_TIMEOUT, "the query stuck behind it: %s",
                 rt_status_name(behind.st));
    cr_assert_geq(took, 280, "deadline fired early: %lld ms", (long long)took);
    cr_assert_lt(took, 2000, "deadline overshot: %lld ms", (long long)took);

    /* the server stopped the sleep instead of running on */
    PGconn *raw = PQconnectdb(db_url());
    cr_assert_eq(PQstatus(raw), CONNECTION_OK);
    char sql[200];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active' "
             "AND query LIKE '%%pg_sleep%%'", pid.value);
    long active = 1;
    for (int i = 0; i < 100 && (active = raw_long(raw, sql)) != 0; i++)
        usleep(20000);
    cr_assert_eq(active, 0, "pg_sleep still running on the server");
    PQfinish(raw);

    /* and the next query gets a fresh connection */
    job again = mk(p, S_ADD, 41);
    start(&again);
    loop_run(&l, 5000);
    cr_assert_eq(again.st, RT_OK, "%s (%s)", rt_status_name(again.st), again.err);
    cr_assert_str_eq(again.value, "42");
    loop_end(&l);
    rt_co_free(pid.co);
    rt_co_free(slow.co);
    rt_co_free(behind.co);
    rt_co_free(again.co);
    rt_pg_pool_free(p);
}

Test(pgpipe, terminated_backend_is_replaced, .init = quiet_logs, .timeout = 60)
{
    loop l;
    loop_init(&l);
    rt_pg_pool *p = pool_for(db_url(), 1, 5000);
    job pid = backend_pid(p, &l);

    PGconn *raw = PQconnectdb(db_url());
    cr_assert_eq(PQstatus(raw), CONNECTION_OK);
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%s)::int", pid.value);
    cr_assert_eq(raw_long(raw, sql), 1);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE pid = %s", pid.value);
    for (int i = 0; i < 100 && raw_long(raw, sql) != 0; i++)
        usleep(20000);
    PQfinish(raw);

    /* The loop sees the hang-up while idle (its watch), so the next query
     * goes to a new connection and succeeds: no request pays for it. */
    test_loop_idle(&l, 200);
    job next = mk(p, S_PID, 0);
    start(&next);
    loop_run(&l, 5000);
    cr_assert_eq(next.st, RT_OK, "%s (%s)", rt_status_name(next.st), next.err);
    cr_assert_str_neq(next.value, pid.value);
    loop_end(&l);
    rt_co_free(pid.co);
    rt_co_free(next.co);
    rt_pg_pool_free(p);
}

static void down_database(bool listening, int64_t min_ms, int64_t max_ms)
{
    (void)db_url();
    int port;
    int fd = test_local_port(listening, &port);
    cr_assert_geq(fd, 0);
    char url[128];
    snprintf(url, sizeof url, "postgres://postgres@127.0.0.1:%d/api?sslmode=disable", port);
    loop l;
    loop_init(&l);
    rt_pg_pool *p = pool_for(url, 2, 5000);
    enum { N = 10 };
    job jobs[N];
    int64_t t0 = rt_mono_ms();
    for (int i = 0; i < N; i++) {
        jobs[i] = mk(p, S_ADD, i);
        jobs[i].co = NULL;
        start(&jobs[i]);
    }
    loop_run(&l, 10000);
    int64_t took = rt_mono_ms() - t0;
    cr_assert_eq(pending, 0u);
    for (int i = 0; i < N; i++)
        cr_assert_eq(jobs[i].st, RT_E_UNAVAILABLE, "query %d: %s", i, rt_status_name(jobs[i].st));
    cr_assert_geq(took, min_ms, "failed too early: %lld ms", (long long)took);
    cr_assert_lt(took, max_ms, "took %lld ms", (long long)took);
    loop_end(&l);
    for (int i = 0; i < N; i++)
        rt_co_free(jobs[i].co);
    rt_pg_pool_free(p);
    close(fd);
}

Test(pgpipe, refused_database_fails_fast, .init = quiet_logs, .timeout = 30)
{
    down_database(false, 0, 1000);
}

Test(pgpipe, silent_database_fails_at_the_connect_deadline, .init = quiet_logs, .timeout = 30)
{
    down_database(true, 900, 3000); /* connect_timeout_s = 1 */
}

Test(pgpipe, loop_end_fails_what_waits, .init = quiet_logs, .timeout = 30)
{
    loop l;
    loop_init(&l);
    rt_pg_pool *p = pool_for(db_url(), 1, 10000);
    job slow = mk(p, S_SLEEP, 0);
    start(&slow);
    loop_run(&l, 300); /* connected and sleeping on the server */
    cr_assert_eq(pending, 1u);
    int64_t t0 = rt_mono_ms();
    cr_assert_eq(test_loop_end(&l, 2000), 0u);
    cr_assert_lt(rt_mono_ms() - t0, 1000);
    cr_assert_eq(pending, 0u);
    cr_assert_eq(slow.st, RT_E_UNAVAILABLE, "got %s", rt_status_name(slow.st));
    cr_assert(strstr(slow.err, "stopping") != NULL, "%s", slow.err);
    rt_co_free(slow.co);
    rt_pg_pool_free(p);
}

Test(pgpipe, plain_threads_and_ping, .init = quiet_logs, .timeout = 30)
{
    rt_pg_pool *p = pool_for(db_url(), 2, 5000);
    /* not a coroutine: the blocking pool */
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    cr_assert_not_null(c, "%s", rt_status_name(st));
    const char *vals[1] = { "9" };
    PGresult *r = NULL;
    cr_assert_eq(rt_pg_exec(c, S_ADD, 1, vals, NULL, NULL, 0, &r, NULL), RT_OK);
    cr_assert_str_eq(PQgetvalue(r, 0, 0), "10");
    PQclear(r);
    rt_pg_release(p, c);
    cr_assert_eq(rt_pg_ping(p), RT_OK);
    rt_pg_pool_free(p);
}
