/*
 * pg.h - a PostgreSQL connection pool over libpq.
 *
 * - `size` connections, opened lazily and re-opened when broken; each has the
 *   pool's statements prepared right after connecting.
 * - rt_pg_acquire waits at most wait_ms for a free connection (then
 *   RT_E_UNAVAILABLE), and a connection attempt is bounded by
 *   connect_timeout_s; a database that is down costs a 503, never a hang.
 * - rt_pg_exec runs one prepared statement with a deadline of
 *   query_timeout_ms: on expiry the query is cancelled, the connection is
 *   dropped, and RT_E_TIMEOUT returned.
 * - Only parameterized statements exist; there is no way to run SQL text
 *   built from request data.
 * - Called from a coroutine on an event loop (co.h) with pipe_size > 0, the
 *   same calls use that loop's own pipelined connections instead (pg.c,
 *   "pipelines"): acquire and release cost nothing, exec parks the coroutine
 *   until its result is in, and wait_ms does not apply (queries queue on the
 *   pipelines, each still bounded by query_timeout_ms).
 */
#ifndef RT_PG_H
#define RT_PG_H

#include "rt.h"
#include <libpq-fe.h>

typedef struct rt_pg_stmt {
    const char *name;
    const char *sql;
    int nparams;
    /* Pipelines only: a write that may commit in one transaction with the
     * other group_commit writes its loop sends in the same turn (one commit
     * and one WAL flush for all of them). If any of them fails, the whole
     * transaction is rolled back and each is run again alone, so every
     * caller still gets the outcome of its own statement. Only for
     * statements that are independent of each other (an INSERT of a new
     * row, say), and never for ones that take row locks in an order that
     * two such transactions could cross. */
    bool group_commit;
} rt_pg_stmt;

typedef struct rt_pg_opts {
    const char *conninfo;         /* URL or key=value string */
    unsigned size;                /* connections, >= 1 */
    unsigned wait_ms;             /* bound on waiting for a free connection */
    unsigned query_timeout_ms;    /* per-query deadline */
    unsigned connect_timeout_s;   /* per connection attempt */
    const rt_pg_stmt *stmts;      /* prepared on every connection */
    size_t nstmts;
    unsigned pipe_size;           /* coroutine mode: pipelined connections per event
                                     loop (0: coroutines use the blocking pool too) */
    const char *plan_cache_mode;  /* the sessions' plan_cache_mode: "auto",
                                     "force_generic_plan" or "force_custom_plan";
                                     NULL: the server's own setting */
} rt_pg_opts;

/* True when s is a value rt_pg_opts.plan_cache_mode accepts (NULL counts). */
bool rt_pg_plan_cache_mode_ok(const char *s);

typedef struct rt_pg_pool rt_pg_pool;
typedef struct rt_pg_conn rt_pg_conn;

/* Copies opts (not the stmts array: it must outlive the pool). Does not
 * connect. NULL on out of memory. */
rt_pg_pool *rt_pg_pool_new(const rt_pg_opts *opts);
void rt_pg_pool_free(rt_pg_pool *p);

/* A connected connection with the statements prepared, or NULL with *st set
 * (RT_E_UNAVAILABLE: none free in time, or the database refused/failed). */
rt_pg_conn *rt_pg_acquire(rt_pg_pool *p, rt_status *st);
void rt_pg_release(rt_pg_pool *p, rt_pg_conn *c);

/*
 * Execute statement `stmt` (index into opts.stmts) with text or binary
 * params and ask for results in `result_format` (0 text, 1 binary).
 * RT_OK: *out is a PGRES_TUPLES_OK / PGRES_COMMAND_OK result; caller PQclear()s.
 * RT_E_INTERNAL: the server reported an error; sqlstate holds its SQLSTATE
 *   ("23505" for a unique violation), message logged at debug.
 * RT_E_UNAVAILABLE: the connection failed (it is marked broken).
 * RT_E_TIMEOUT: the deadline passed (cancelled, marked broken).
 * *out is NULL unless RT_OK.
 */
rt_status rt_pg_exec(rt_pg_conn *c, size_t stmt, int nparams,
                     const char *const *values, const int *lengths,
                     const int *formats, int result_format,
                     PGresult **out, char sqlstate[6]);

/* Run "SELECT 1" on some connection: RT_OK when the database answers. */
rt_status rt_pg_ping(rt_pg_pool *p);

/* Last libpq error text of this connection (for logs). */
const char *rt_pg_error(const rt_pg_conn *c);

#endif
