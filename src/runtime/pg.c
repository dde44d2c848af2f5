/*
 * pg.c - a bounded pool of libpq connections shared by all server threads.
 *
 * A slot (rt_pg_conn) is either free or lent to exactly one thread, and only
 * the borrower touches its PGconn: libpq connections are not thread-safe, the
 * pool's bookkeeping is. Invariants:
 *  - under the pool mutex: a free slot is on exactly one of two stacks,
 *    `live` (has a connection) or `empty` (none). acquire
 *    pops `live` first, so warm connections are reused and empty slots are
 *    only connected when every live one is lent out;
 *  - connecting and preparing happen outside the mutex: one slow connect must
 *    not stall the other borrowers or the releases that wake them;
 *  - a lent connection is usable unless `broken`; whoever sees it fail sets
 *    broken, and release PQfinish'es a broken one and returns the slot empty,
 *    so a failed connection is never handed out again; acquire also checks
 *    an idle connection for a server hang-up (one poll()) and replaces it;
 *  - every wait is bounded: acquire by wait_ms (condvar on CLOCK_MONOTONIC),
 *    a connect by connect_timeout, a query by query_timeout_ms (poll() on the
 *    socket, then PQcancel from a helper thread, since PQcancel itself can
 *    block; statement_timeout on the server as a backstop). A server-side
 *    statement_timeout (57014) is also RT_E_TIMEOUT but keeps the connection.
 *  - query_timeout_ms 0 means no deadline; connect_timeout_s 0 means 5 s,
 *    never libpq's "wait forever".
 *
 * Connection parameters are parsed once (PQconninfoParse takes URLs and
 * key=value strings) and passed as arrays, so our connect_timeout and
 * statement_timeout always apply and a user's `options` are kept. The
 * password lives only in those arrays; nothing here logs them, and libpq's
 * connection errors do not contain it (its parse errors do: withheld).
 */
#include "pg.h"

#include "co.h"
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <time.h>

#define DEFAULT_CONNECT_TIMEOUT_S 5u
#define ERR_MAX 256
/* At most one "cannot connect" warning per pool per this many ms: with the
 * database down every request fails, and the log must stay readable. */
#define CONNECT_WARN_EVERY_MS 1000

typedef struct pipe_set pipe_set;

struct rt_pg_conn {
    rt_pg_pool *pool;
    pipe_set *pipe;        /* non-NULL: a coroutine's handle on its loop's pipelines */
    rt_pg_conn *next_free; /* the pipe set's free handles */
    PGconn *pg;            /* NULL: slot not connected */
    bool broken;           /* borrower only: drop on release */
    bool doomed;           /* the server sent FATAL while we were idle */
    char err[ERR_MAX];     /* last failure, for rt_pg_error */
};

struct rt_pg_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned size;
    unsigned wait_ms;
    unsigned query_timeout_ms;    /* 0: no deadline */
    const rt_pg_stmt *stmts;
    size_t nstmts;

    PQconninfoOption *parsed;     /* owns the user's parameter strings */
    const char **keys, **vals;    /* NULL-terminated, for PQconnectdbParams */
    char connect_timeout[16];
    char *options;                /* "-c statement_timeout=N [user options]" */

    rt_pg_conn *conns;
    unsigned *live, *empty;       /* stacks of free slot indexes */
    unsigned nlive, nempty;
    _Atomic int64_t last_warn_ms;

    unsigned pipe_size;           /* pipelined connections per event loop; 0: none */
    unsigned connect_timeout_ms;
    pipe_set *sets;               /* under mu: every loop's pipe set, freed with the pool */
    unsigned char *kinds;         /* per statement: Q_READ, Q_WRITE or Q_GROUP */
};

/* How a statement travels in a pipeline (pipe_pick, pipe_send). */
enum { Q_READ, Q_WRITE, Q_GROUP };

/* ================================================================ helpers */

/* Copy a libpq message into an ERR_MAX error buffer without its newline. */
static void copy_err(char *dst, const char *msg)
{
    snprintf(dst, ERR_MAX, "%s", msg ? msg : "unknown error");
    size_t n = strlen(dst);
    while (n > 0 && (dst[n - 1] == '\n' || dst[n - 1] == ' '))
        dst[--n] = '\0';
}

static void set_err(rt_pg_conn *c, const char *msg)
{
    copy_err(c->err, msg);
}

/* Server notices would go to stderr by default, breaking one-JSON-per-line.
 * libpq also routes an error that arrives while the connection is idle here;
 * a FATAL one is the server explaining why it is about to hang up
 * (pg_terminate_backend, shutdown), so the connection is marked doomed
 * (arg: its `doomed` flag, in a pool slot or a pipelined connection). */
static void notice_to_log(void *arg, const PGresult *r)
{
    bool *doomed = arg;
    const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY_NONLOCALIZED);
    if (sev && (strcmp(sev, "FATAL") == 0 || strcmp(sev, "PANIC") == 0))
        *doomed = true;
    rt_logf(RT_LOG_DEBUG, RT_STR_NULL, "pg notice: %s", PQresultErrorMessage(r));
}

static int64_t deadline_after(unsigned ms)
{
    return ms ? rt_mono_ms() + (int64_t)ms : 0;
}

/* ================================================================ lifecycle */

static bool is_ours(const char *kw)
{
    return strcmp(kw, "connect_timeout") == 0 || strcmp(kw, "options") == 0;
}

bool rt_pg_plan_cache_mode_ok(const char *s)
{
    return !s || strcmp(s, "auto") == 0 || strcmp(s, "force_generic_plan") == 0 ||
           strcmp(s, "force_custom_plan") == 0;
}

/* Build keys/vals from the parsed conninfo plus our settings. */
static bool build_params(rt_pg_pool *p, const rt_pg_opts *o)
{
    char *perr = NULL;
    p->parsed = PQconninfoParse(o->conninfo, &perr);
    if (!p->parsed) {
        /* libpq's message quotes the whole string, password included. */
        rt_logf(RT_LOG_ERROR, RT_STR_NULL, "pg: the database conninfo does not parse%s",
                perr ? " (details withheld: the text may contain a password)"
                     : ": out of memory");
        PQfreemem(perr);
        return false;
    }

    const char *user_options = NULL;
    bool has_app = false;
    size_t n = 0;
    for (PQconninfoOption *opt = p->parsed; opt->keyword; opt++) {
        if (!opt->val)
            continue;
        if (strcmp(opt->keyword, "options") == 0)
            user_options = opt->val;
        if (strcmp(opt->keyword, "application_name") == 0)
            has_app = true;
        n++;
    }

    unsigned ct = o->connect_timeout_s ? o->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S;
    snprintf(p->connect_timeout, sizeof p->connect_timeout, "%u", ct);
    const char *pcm = o->plan_cache_mode;
    size_t olen = 96 + (user_options ? strlen(user_options) : 0);
    p->options = malloc(olen);
    p->keys = calloc(n + 4, sizeof *p->keys);
    p->vals = calloc(n + 4, sizeof *p->vals);
    if (!p->options || !p->keys || !p->vals)
        return false;
    /* The URL's own options come last, so they win. */
    snprintf(p->options, olen, "-c statement_timeout=%u%s%s%s%s", o->query_timeout_ms,
             pcm ? " -c plan_cache_mode=" : "", pcm ? pcm : "", user_options ? " " : "",
             user_options ? user_options : "");

    size_t i = 0;
    for (PQconninfoOption *opt = p->parsed; opt->keyword; opt++) {
        if (opt->val && !is_ours(opt->keyword)) {
            p->keys[i] = opt->keyword;
            p->vals[i++] = opt->val;
        }
    }
    p->keys[i] = "connect_timeout";
    p->vals[i++] = p->connect_timeout;
    p->keys[i] = "options";
    p->vals[i++] = p->options;
    if (!has_app) {
        p->keys[i] = "application_name";
        p->vals[i++] = "capi";
    }
    p->keys[i] = NULL;
    p->vals[i] = NULL;
    return true;
}

/* A statement that only reads: its SQL starts with SELECT (a WITH could
 * hide a write, so it counts as one). */
static bool is_select(const char *sql)
{
    while (*sql == ' ' || *sql == '\t' || *sql == '\n' || *sql == '\r' || *sql == '(')
        sql++;
    return strncasecmp(sql, "SELECT", 6) == 0 &&
           (sql[6] == ' ' || sql[6] == '\t' || sql[6] == '\n' || sql[6] == '\r');
}

static void free_params(rt_pg_pool *p)
{
    if (p->parsed)
        PQconninfoFree(p->parsed);
    free(p->keys);
    free(p->vals);
    free(p->options);
}

rt_pg_pool *rt_pg_pool_new(const rt_pg_opts *opts)
{
    if (!opts || !opts->conninfo || opts->size == 0 || (opts->nstmts && !opts->stmts) ||
        !rt_pg_plan_cache_mode_ok(opts->plan_cache_mode))
        return NULL;
    rt_pg_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->size = opts->size;
    p->wait_ms = opts->wait_ms;
    p->query_timeout_ms = opts->query_timeout_ms;
    p->stmts = opts->stmts;
    p->nstmts = opts->nstmts;
    p->pipe_size = opts->pipe_size;
    p->connect_timeout_ms =
        (opts->connect_timeout_s ? opts->connect_timeout_s : DEFAULT_CONNECT_TIMEOUT_S) * 1000u;

    bool mu_ok = false, cv_ok = false;
    pthread_condattr_t ca;
    bool ca_ok = pthread_condattr_init(&ca) == 0;
    if (!ca_ok || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0)
        goto fail;
    cv_ok = pthread_cond_init(&p->cv, &ca) == 0;
    mu_ok = pthread_mutex_init(&p->mu, NULL) == 0;
    if (!cv_ok || !mu_ok)
        goto fail;
    if (!build_params(p, opts))
        goto fail;

    p->kinds = calloc(p->nstmts ? p->nstmts : 1, sizeof *p->kinds);
    if (!p->kinds)
        goto fail;
    for (size_t i = 0; i < p->nstmts; i++)
        p->kinds[i] = is_select(p->stmts[i].sql) ? Q_READ
                      : p->stmts[i].group_commit ? Q_GROUP
                                                 : Q_WRITE;
    p->conns = calloc(p->size, sizeof *p->conns);
    p->live = calloc(p->size, sizeof *p->live);
    p->empty = calloc(p->size, sizeof *p->empty);
    if (!p->conns || !p->live || !p->empty)
        goto fail;
    /* Reverse order so slot 0 is popped first: purely cosmetic. */
    for (unsigned i = 0; i < p->size; i++) {
        p->conns[i].pool = p;
        p->empty[i] = p->size - 1 - i;
    }
    p->nempty = p->size;
    pthread_condattr_destroy(&ca);
    return p;

fail:
    if (ca_ok)
        pthread_condattr_destroy(&ca);
    if (cv_ok)
        pthread_cond_destroy(&p->cv);
    if (mu_ok)
        pthread_mutex_destroy(&p->mu);
    free_params(p);
    free(p->kinds);
    free(p->conns);
    free(p->live);
    free(p->empty);
    free(p);
    return NULL;
}

static void pipe_set_free(pipe_set *ps);

/* Every connection must have been released, and every event loop that used
 * the pool must have ended. */
void rt_pg_pool_free(rt_pg_pool *p)
{
    if (!p)
        return;
    while (p->sets) {
        pipe_set *ps = p->sets;
        p->sets = *(pipe_set **)ps; /* the set's first member is its link */
        pipe_set_free(ps);
    }
    for (unsigned i = 0; i < p->size; i++)
        if (p->conns[i].pg)
            PQfinish(p->conns[i].pg);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free_params(p);
    free(p->kinds);
    free(p->conns);
    free(p->live);
    free(p->empty);
    free(p);
}

/* ================================================================ running a query */

static rt_status fail_broken(rt_pg_conn *c, rt_status st)
{
    c->broken = true;
    set_err(c, PQerrorMessage(c->pg));
    return st;
}

/*
 * Cancelling. Dropping our socket does not stop the server's work (it only
 * notices at its next write), so a timed-out query is cancelled. But
 * PQcancel (libpq 15) connects and waits for the server with no timeout: on
 * an unreachable server it would hold the request thread for minutes. So it
 * runs on a detached thread, at most MAX_CANCELS at once process-wide; past
 * that the cancel is skipped and the server-side statement_timeout, set to
 * the same deadline, stops the query anyway.
 */
#define MAX_CANCELS 8
static atomic_int cancels_in_flight;

static void *cancel_main(void *arg)
{
    PGcancel *cn = arg;
    char ebuf[256];
    if (!PQcancel(cn, ebuf, sizeof ebuf))
        rt_logf(RT_LOG_DEBUG, RT_STR_NULL, "pg: cancel failed: %s", ebuf);
    PQfreeCancel(cn);
    atomic_fetch_sub(&cancels_in_flight, 1);
    return NULL;
}

static void cancel_async(PGconn *pg)
{
    if (atomic_fetch_add(&cancels_in_flight, 1) >= MAX_CANCELS)
        goto skip;
    PGcancel *cn = PQgetCancel(pg);
    if (!cn)
        goto skip;
    pthread_attr_t a;
    pthread_t th;
    bool started = false;
    if (pthread_attr_init(&a) == 0) {
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        started = pthread_create(&th, &a, cancel_main, cn) == 0;
        pthread_attr_destroy(&a);
    }
    if (started)
        return;
    PQfreeCancel(cn);
skip:
    atomic_fetch_sub(&cancels_in_flight, 1);
    rt_logf(RT_LOG_DEBUG, RT_STR_NULL, "pg: cancel skipped; statement_timeout will stop it");
}

/* The deadline passed: cancel the query and drop the connection (its
 * protocol state is mid-query, so it cannot be handed out again). */
static rt_status timed_out(rt_pg_conn *c, const char *what)
{
    cancel_async(c->pg);
    c->broken = true;
    snprintf(c->err, sizeof c->err, "%s: deadline of %u ms exceeded", what,
             c->pool->query_timeout_ms);
    rt_logf(RT_LOG_WARN, RT_STR_NULL, "pg: %s exceeded its %u ms deadline; cancelling",
            what, c->pool->query_timeout_ms);
    return RT_E_TIMEOUT;
}

/* Map a server error to a status. Connection-class (08) and operator
 * intervention (57P01..57P05: shutdown, terminated backend) errors mean the
 * session is gone or going; a statement_timeout (57014) is our deadline,
 * hit on the server side first, and leaves the connection usable. */
static rt_status sqlstate_status(const char *state)
{
    if (strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0)
        return RT_E_UNAVAILABLE;
    return strcmp(state, "57014") == 0 ? RT_E_TIMEOUT : RT_E_INTERNAL;
}

static rt_status classify(rt_pg_conn *c, const char *state)
{
    rt_status st = PQstatus(c->pg) != CONNECTION_OK ? RT_E_UNAVAILABLE : sqlstate_status(state);
    if (st == RT_E_UNAVAILABLE)
        c->broken = true;
    return st;
}

static rt_status server_error(rt_pg_conn *c, PGresult *r, const char *what, char *sqlstate)
{
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (!state)
        state = "";
    if (sqlstate)
        snprintf(sqlstate, 6, "%s", state);
    set_err(c, msg ? msg : PQresultErrorMessage(r));
    /* Debug only: the primary message of e.g. a unique violation is an
     * expected outcome for the caller, not an incident. */
    rt_logf(RT_LOG_DEBUG, RT_STR_NULL, "pg: %s failed: %s (SQLSTATE %s)", what, c->err, state);
    return classify(c, state);
}

/*
 * After a PQsend*: flush, wait for the socket until `deadline` (0: none),
 * and collect results until libpq reports the query finished. One statement
 * yields one result; should more arrive, the last success is kept and the
 * first error wins. `what` names the query in logs.
 */
static rt_status finish(rt_pg_conn *c, int sent, int64_t deadline, const char *what,
                        PGresult **out, char *sqlstate)
{
    PGconn *pg = c->pg;
    if (!sent)
        return fail_broken(c, RT_E_UNAVAILABLE);

    PGresult *keep = NULL, *error = NULL;
    rt_status st = RT_OK;
    for (;;) {
        int f = PQflush(pg);
        if (f < 0) {
            st = fail_broken(c, RT_E_UNAVAILABLE);
            goto out;
        }
        if (f == 0 && !PQisBusy(pg)) {
            PGresult *r = PQgetResult(pg);
            if (!r)
                break;
            switch (PQresultStatus(r)) {
            case PGRES_TUPLES_OK:
            case PGRES_COMMAND_OK:
                PQclear(keep);
                keep = r;
                break;
            case PGRES_FATAL_ERROR:
            case PGRES_NONFATAL_ERROR:
                if (!error)
                    error = r;
                else
                    PQclear(r);
                break;
            default:
                /* COPY and friends would leave the session in a state no
                 * other borrower expects: report and drop it. */
                set_err(c, PQresStatus(PQresultStatus(r)));
                PQclear(r);
                c->broken = true;
                st = RT_E_INTERNAL;
                goto out;
            }
            continue;
        }

        int timeout = -1;
        if (deadline) {
            int64_t left = deadline - rt_mono_ms();
            if (left <= 0) {
                st = timed_out(c, what);
                goto out;
            }
            timeout = left > 60000 ? 60000 : (int)left;
        }
        struct pollfd pfd = { .fd = PQsocket(pg), .events = POLLIN | (f == 1 ? POLLOUT : 0) };
        if (pfd.fd < 0) {
            st = fail_broken(c, RT_E_UNAVAILABLE);
            goto out;
        }
        int rc = poll(&pfd, 1, timeout);
        if (rc < 0 && errno != EINTR) {
            st = fail_broken(c, RT_E_UNAVAILABLE);
            goto out;
        }
        if (rc > 0 && (pfd.revents & (POLLIN | POLLERR | POLLHUP | POLLNVAL)) &&
            !PQconsumeInput(pg)) {
            st = fail_broken(c, RT_E_UNAVAILABLE);
            goto out;
        }
    }

    if (error) {
        st = server_error(c, error, what, sqlstate);
    } else if (!keep) {
        set_err(c, "no result");
        st = RT_E_INTERNAL;
    } else if (PQstatus(pg) != CONNECTION_OK) {
        st = fail_broken(c, RT_E_UNAVAILABLE);
    } else {
        *out = keep;
        keep = NULL;
    }

out:
    PQclear(keep);
    PQclear(error);
    return st;
}

/* ================================================================ connecting */

static void warn_connect(rt_pg_pool *p, const char *err)
{
    int64_t now = rt_mono_ms();
    int64_t last = atomic_load_explicit(&p->last_warn_ms, memory_order_relaxed);
    if (now - last < CONNECT_WARN_EVERY_MS && last != 0)
        return;
    if (atomic_compare_exchange_strong(&p->last_warn_ms, &last, now))
        rt_logf(RT_LOG_WARN, RT_STR_NULL, "pg: cannot connect: %s", err);
}

static void drop(rt_pg_conn *c)
{
    if (c->pg)
        PQfinish(c->pg);
    c->pg = NULL;
    c->broken = false;
    c->doomed = false;
}

/* Open the slot's connection and prepare every statement on it. Called by
 * the borrower, without the pool mutex. */
static rt_status connect_slot(rt_pg_pool *p, rt_pg_conn *c)
{
    c->pg = PQconnectdbParams(p->keys, p->vals, 0);
    if (!c->pg) {
        set_err(c, "out of memory");
        warn_connect(p, c->err);
        return RT_E_UNAVAILABLE;
    }
    if (PQstatus(c->pg) != CONNECTION_OK) {
        set_err(c, PQerrorMessage(c->pg));
        warn_connect(p, c->err);
        drop(c);
        return RT_E_UNAVAILABLE;
    }
    PQsetNoticeReceiver(c->pg, notice_to_log, &c->doomed);
    /* Non-blocking so that sending, too, is bounded by the deadline. */
    if (PQsetnonblocking(c->pg, 1) != 0) {
        set_err(c, PQerrorMessage(c->pg));
        drop(c);
        return RT_E_UNAVAILABLE;
    }
    for (size_t i = 0; i < p->nstmts; i++) {
        const rt_pg_stmt *s = &p->stmts[i];
        PGresult *r = NULL;
        int sent = PQsendPrepare(c->pg, s->name, s->sql, s->nparams, NULL);
        rt_status st = finish(c, sent, deadline_after(p->query_timeout_ms), s->name, &r, NULL);
        PQclear(r);
        if (st != RT_OK) {
            /* Usually a bug in the statement's SQL, so loud. */
            rt_logf(RT_LOG_ERROR, RT_STR_NULL, "pg: preparing %s failed: %s", s->name, c->err);
            drop(c);
            return RT_E_UNAVAILABLE;
        }
    }
    return RT_OK;
}

/* Cheap liveness check of an idle connection: if the server closed it
 * (restart, pg_terminate_backend) the socket holds a FATAL error and then
 * EOF. Reading and parsing them (PQisBusy parses) marks the slot doomed or
 * the connection bad, so the borrower gets a fresh one instead of a failed
 * query. Costs one poll() when nothing arrived, the usual case. */
static bool idle_alive(rt_pg_conn *c)
{
    PGconn *pg = c->pg;
    for (int i = 0; i < 4 && !c->doomed; i++) {
        struct pollfd pfd = { .fd = PQsocket(pg), .events = POLLIN };
        if (pfd.fd < 0)
            return false;
        if (poll(&pfd, 1, 0) <= 0)
            break;
        if (!PQconsumeInput(pg))
            return false;
        (void)PQisBusy(pg);
    }
    return !c->doomed && PQstatus(pg) == CONNECTION_OK &&
           PQtransactionStatus(pg) == PQTRANS_IDLE;
}

/* ================================================================ pipelines
 *
 * Coroutine mode (co.h): a request's handler runs as a coroutine on the
 * event loop that owns its HTTP connection, and its queries go out on that
 * loop's own connections in libpq's pipeline mode. Sending never blocks: the
 * query is appended to a connection's pipeline, the coroutine parks, and the
 * loop reads the results in order when the socket turns readable and makes
 * each coroutine ready again. No thread hand-off per query, and many queries
 * can be in flight on one connection.
 *
 * Each loop has a pipe set of pool->pipe_size connections, opened lazily and
 * without blocking (PQconnectStartParams/PQconnectPoll on the loop). A new
 * query goes to the ready connection with the fewest queries in flight; one
 * more connection is opened while every ready one is busy, so independent
 * commits (INSERTs) spread over several backends. Every query is followed by
 * its own sync point, so a failing query aborts nothing but itself.
 *
 * Failures, with the blocking path's statuses: a connection that fails or
 * closes fails every query on it with RT_E_UNAVAILABLE and is replaced on
 * the next query; a query past its deadline is cancelled (cancel_async) and
 * its connection dropped, failing the queries behind it with RT_E_TIMEOUT
 * too (they waited as long); a connect past connect_timeout fails with
 * RT_E_UNAVAILABLE. When the loop ends, its exit hook fails whatever still
 * waits, so every coroutine returns.
 */

/* One query (or the statement preparation) in a pipeline. Lives on the
 * parked coroutine's stack, or in the connection for the preparation. */
typedef struct pq_wait {
    struct pq_wait *next;
    rt_co *co;               /* NULL: the connection's own preparation */
    const char *what;        /* statement name, for logs */
    /* what to send, kept until the connection is ready */
    const char *stmt;        /* prepared statement name, or NULL for sql */
    const char *sql;
    int nparams;
    const char *const *values;
    const int *lengths, *formats;
    int result_format;
    /* what came back */
    int nres, nnull;         /* results expected (each ends with a NULL), NULLs seen */
    bool at_sync;            /* done at the sync point after it (a write, the
                                preparation), not at its last NULL (a read) */
    bool grouped;            /* a write sent into its connection's open group */
    int retries;             /* resent after its segment was aborted by another query */
    bool read;               /* not counted in its connection's nwrites */
    PGresult *res, *err;
    rt_status st;
    char sqlstate[6];
    char *errbuf;            /* the handle's err, or the connection's */
    int64_t deadline;        /* 0: none */
    bool done;
} pq_wait;

enum { PC_EMPTY, PC_CONNECTING, PC_READY };
#define PIPE_DEPTH 16 /* reads in flight on one connection before the next is used */

typedef struct pipe_conn {
    pipe_set *set;
    PGconn *pg;
    int state;
    rt_watch w;
    pq_wait *head, *tail;    /* sent, awaiting their results, in order */
    pq_wait *qhead, *qtail;  /* waiting for the connection to be ready */
    unsigned n;              /* both lists */
    unsigned nwrites;        /* of which writes: reads avoid waiting behind a commit */
    int64_t connect_deadline;
    bool doomed;             /* the server said FATAL while idle */
    bool flush;              /* output may be pending */
    bool unsynced;           /* reads or grouped writes sent since the last sync point */
    unsigned group;          /* grouped writes among them (0: they are reads) */
    pq_wait prep;            /* the statements' preparation */
    char err[ERR_MAX];
} pipe_conn;

struct pipe_set {
    pipe_set *next;          /* first: the pool's list link */
    rt_pg_pool *pool;
    rt_sched *sched;
    uint64_t sched_id;       /* rt_sched.id: a later loop may reuse the address */
    unsigned n;
    pipe_conn *conns;
    rt_pg_conn *free_handles;
    bool closed;             /* the loop ended */
};

static _Thread_local pipe_set *tls_set;      /* this loop's set ... */
static _Thread_local rt_pg_pool *tls_set_of; /* ... of this pool */

static void wait_done(pipe_conn *pc, pq_wait *w)
{
    w->done = true;
    if (w->co)
        rt_sched_ready(pc->set->sched, w->co);
}

/* Drop the connection and fail every query on it with st. */
static void pipe_fail(pipe_conn *pc, rt_status st, const char *msg)
{
    copy_err(pc->err, msg);
    rt_sched_unwatch(pc->set->sched, &pc->w);
    if (pc->pg)
        PQfinish(pc->pg);
    pc->pg = NULL;
    pc->state = PC_EMPTY;
    pc->doomed = false;
    pc->flush = false;
    pc->unsynced = false;
    pc->group = 0;
    pq_wait *lists[2] = { pc->head, pc->qhead };
    pc->head = pc->tail = pc->qhead = pc->qtail = NULL;
    pc->n = 0;
    pc->nwrites = 0;
    for (int i = 0; i < 2; i++) {
        for (pq_wait *w = lists[i], *next; w; w = next) {
            next = w->next;
            PQclear(w->res);
            PQclear(w->err);
            w->res = w->err = NULL;
            w->st = st;
            if (w->errbuf)
                copy_err(w->errbuf, pc->err);
            wait_done(pc, w);
        }
    }
}

static void append(pq_wait **head, pq_wait **tail, pq_wait *w)
{
    w->next = NULL;
    if (*tail)
        (*tail)->next = w;
    else
        *head = w;
    *tail = w;
}

/*
 * Put one query (or the preparation) on the wire. Reads share sync points:
 * pipe_tick ends the segment once per loop turn, so the backend answers a
 * batch with one flush and we read it with one recv. If a read in a segment
 * fails, the others in it come back PGRES_PIPELINE_ABORTED (not run) and are
 * sent again. Grouped writes (Q_GROUP) share a segment the same way, and so
 * one transaction, which commits at the sync pipe_tick sends (pipe_synced
 * handles its failure). Any other write gets a segment of its own (a sync
 * before and after): it commits at that sync, and nothing else shares its
 * transaction.
 */
static bool pipe_send(pipe_conn *pc, pq_wait *w)
{
    rt_pg_pool *p = pc->set->pool;
    int ok = 1;
    bool alone = w->at_sync && !w->grouped;
    if (pc->unsynced && (alone || w->grouped != (pc->group > 0))) {
        if (!PQpipelineSync(pc->pg))
            return false;
        pc->unsynced = false;
        pc->group = 0;
    }
    if (w == &pc->prep) {
        for (size_t i = 0; i < p->nstmts && ok; i++)
            ok = PQsendPrepare(pc->pg, p->stmts[i].name, p->stmts[i].sql, p->stmts[i].nparams,
                               NULL);
    } else if (w->stmt) {
        ok = PQsendQueryPrepared(pc->pg, w->stmt, w->nparams, w->values, w->lengths, w->formats,
                                 w->result_format);
    } else {
        ok = PQsendQueryParams(pc->pg, w->sql, w->nparams, NULL, w->values, w->lengths,
                               w->formats, w->result_format);
    }
    if (!ok)
        return false;
    if (alone) {
        if (!PQpipelineSync(pc->pg))
            return false;
    } else {
        pc->unsynced = true;
        pc->group += w->grouped;
    }
    append(&pc->head, &pc->tail, w);
    pc->flush = true;
    return true;
}

/* Connected: pipeline mode, statements prepared ahead of the queued queries. */
static void pipe_ready(pipe_conn *pc)
{
    rt_pg_pool *p = pc->set->pool;
    PQsetNoticeReceiver(pc->pg, notice_to_log, &pc->doomed);
    if (PQsetnonblocking(pc->pg, 1) != 0 || !PQenterPipelineMode(pc->pg)) {
        pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
        return;
    }
    pc->state = PC_READY;
    pc->prep = (pq_wait){ .what = "prepare", .nres = (int)p->nstmts, .at_sync = true };
    if (p->nstmts && !pipe_send(pc, &pc->prep)) {
        pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
        return;
    }
    pq_wait *q = pc->qhead;
    pc->qhead = pc->qtail = NULL;
    while (q) {
        pq_wait *next = q->next;
        if (!pipe_send(pc, q)) {
            /* q and the rest are still ours: put them back to be failed */
            pc->qhead = q;
            for (pq_wait *t = q; t; t = t->next)
                pc->qtail = t;
            pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
            return;
        }
        q = next;
    }
    if (!rt_sched_watch(pc->set->sched, &pc->w, PQsocket(pc->pg), EPOLLIN))
        pipe_fail(pc, RT_E_UNAVAILABLE, "cannot watch the connection");
}

static void pipe_connect_step(pipe_conn *pc)
{
    switch (PQconnectPoll(pc->pg)) {
    case PGRES_POLLING_READING:
        if (!rt_sched_watch(pc->set->sched, &pc->w, PQsocket(pc->pg), EPOLLIN))
            pipe_fail(pc, RT_E_UNAVAILABLE, "cannot watch the connection");
        return;
    case PGRES_POLLING_WRITING:
        if (!rt_sched_watch(pc->set->sched, &pc->w, PQsocket(pc->pg), EPOLLOUT))
            pipe_fail(pc, RT_E_UNAVAILABLE, "cannot watch the connection");
        return;
    case PGRES_POLLING_OK:
        pipe_ready(pc);
        return;
    default: {
        char err[ERR_MAX];
        copy_err(err, PQerrorMessage(pc->pg));
        warn_connect(pc->set->pool, err);
        pipe_fail(pc, RT_E_UNAVAILABLE, err);
        return;
    }
    }
}

static bool pipe_connect(pipe_conn *pc)
{
    rt_pg_pool *p = pc->set->pool;
    pc->pg = PQconnectStartParams(p->keys, p->vals, 0);
    if (!pc->pg || PQstatus(pc->pg) == CONNECTION_BAD || PQsocket(pc->pg) < 0) {
        copy_err(pc->err, pc->pg ? PQerrorMessage(pc->pg) : "out of memory");
        warn_connect(p, pc->err);
        if (pc->pg)
            PQfinish(pc->pg);
        pc->pg = NULL;
        return false;
    }
    pc->state = PC_CONNECTING;
    pc->connect_deadline = rt_mono_ms() + p->connect_timeout_ms;
    /* libpq: start as if PQconnectPoll had asked for writing */
    if (!rt_sched_watch(pc->set->sched, &pc->w, PQsocket(pc->pg), EPOLLOUT)) {
        pipe_fail(pc, RT_E_UNAVAILABLE, "cannot watch the connection");
        return false;
    }
    return true;
}

#define PIPE_RETRIES 2 /* resends of a query whose segment another one aborted */

/* w (the head) has all its results: pop it and hand it its outcome, or send
 * it again when another query's failure aborted it. False when the
 * connection was dropped. */
static bool pipe_complete(pipe_conn *pc, pq_wait *w)
{
    pc->head = w->next;
    if (!pc->head)
        pc->tail = NULL;
    if (w->err && PQresultStatus(w->err) == PGRES_PIPELINE_ABORTED && w != &pc->prep &&
        w->retries < PIPE_RETRIES) {
        PQclear(w->err);
        PQclear(w->res);
        w->err = w->res = NULL;
        w->nnull = 0;
        w->retries++;
        w->at_sync = true; /* alone this time: nothing else can abort it */
        if (!pipe_send(pc, w)) { /* not on the list: fail it with the rest */
            append(&pc->qhead, &pc->qtail, w);
            pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
            return false;
        }
        return true;
    }
    if (w != &pc->prep) {
        pc->n--; /* the preparation is not counted in n */
        if (!w->read)
            pc->nwrites--;
    }
    if (w->err) {
        const char *state = PQresultErrorField(w->err, PG_DIAG_SQLSTATE);
        const char *msg = PQresultErrorField(w->err, PG_DIAG_MESSAGE_PRIMARY);
        snprintf(w->sqlstate, sizeof w->sqlstate, "%s", state ? state : "");
        if (w->errbuf)
            copy_err(w->errbuf, msg                ? msg
                                : PQresultStatus(w->err) == PGRES_PIPELINE_ABORTED
                                    ? "aborted with its pipeline segment"
                                    : PQresultErrorMessage(w->err));
        rt_logf(RT_LOG_DEBUG, RT_STR_NULL, "pg: %s failed: %s (SQLSTATE %s)", w->what,
                msg ? msg : "", w->sqlstate);
        w->st = sqlstate_status(w->sqlstate);
        bool gone = w->st == RT_E_UNAVAILABLE;
        PQclear(w->err);
        PQclear(w->res);
        w->err = w->res = NULL;
        if (w == &pc->prep) {
            /* usually a bug in a statement's SQL, so loud */
            rt_logf(RT_LOG_ERROR, RT_STR_NULL, "pg: preparing the statements failed: %s",
                    msg ? msg : "");
            pipe_fail(pc, RT_E_UNAVAILABLE, "preparing the statements failed");
            return false;
        }
        wait_done(pc, w);
        if (gone) {
            pipe_fail(pc, RT_E_UNAVAILABLE, msg);
            return false;
        }
        return true;
    }
    if (w == &pc->prep) {
        PQclear(w->res); /* the statements are prepared; nobody reads these */
        w->res = NULL;
        w->st = RT_OK;
    } else if (w->res) {
        w->st = RT_OK;
    } else {
        w->st = RT_E_INTERNAL;
        if (w->errbuf)
            copy_err(w->errbuf, "no result");
    }
    wait_done(pc, w);
    return true;
}

/*
 * A sync point arrived: the waits at the head that have all their results
 * and complete at a sync are the segment it ends (none for a segment of
 * reads, which completed at their last NULL). A group whose transaction
 * failed was rolled back as a whole, so the results its members saw mean
 * nothing: each is sent again alone (a sync before and after) and gets the
 * outcome of its own statement. False when the connection was dropped.
 */
static bool pipe_synced(pipe_conn *pc)
{
    unsigned k = 0;
    bool failed = false;
    for (pq_wait *w = pc->head; w && w->at_sync && w->nnull >= w->nres; w = w->next) {
        failed |= w->err != NULL;
        k++;
    }
    if (k > 1 && failed) {
        pq_wait *w = pc->head;
        for (unsigned i = 0; i < k; i++) {
            pq_wait *next = w->next;
            PQclear(w->err);
            PQclear(w->res);
            w->err = w->res = NULL;
            w->nnull = 0;
            w->grouped = false;
            w->retries++;
            pc->head = next;
            if (!pc->head)
                pc->tail = NULL;
            if (!pipe_send(pc, w)) {
                /* w and the rest of the group are ours again: fail them */
                for (unsigned j = i; j < k; j++, w = next) {
                    next = w->next;
                    append(&pc->qhead, &pc->qtail, w);
                }
                pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
                return false;
            }
            w = next;
        }
        return true;
    }
    for (unsigned i = 0; i < k; i++)
        if (!pipe_complete(pc, pc->head))
            return false;
    return true;
}

/* Results in order: each query's results with a NULL after each; sync
 * points in between. A read is done at its last NULL, a write at the sync
 * that ends its segment. */
static void pipe_results(pipe_conn *pc)
{
    while (pc->head && pc->pg && !PQisBusy(pc->pg)) {
        PGresult *r = PQgetResult(pc->pg);
        if (r && PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
            PQclear(r);
            if (!pipe_synced(pc))
                return;
            continue;
        }
        /* the first query still taking results (the ones before it wait
         * for their sync point) */
        pq_wait *w = pc->head;
        while (w && w->nnull >= w->nres)
            w = w->next;
        if (!w) {
            if (!r)
                break; /* the sync has not arrived */
            PQclear(r);
            pipe_fail(pc, RT_E_UNAVAILABLE, "pipeline out of step");
            return;
        }
        if (!r) {
            /* a read is done here; it is the head: all before it completed */
            if (++w->nnull == w->nres && !w->at_sync && !pipe_complete(pc, w))
                return;
            continue;
        }
        switch (PQresultStatus(r)) {
        case PGRES_TUPLES_OK:
        case PGRES_COMMAND_OK:
            if (!w->res)
                w->res = r;
            else
                PQclear(r);
            break;
        case PGRES_FATAL_ERROR:
        case PGRES_NONFATAL_ERROR:
        case PGRES_PIPELINE_ABORTED:
            if (!w->err)
                w->err = r;
            else
                PQclear(r);
            break;
        default:
            PQclear(r);
            pipe_fail(pc, RT_E_UNAVAILABLE, "pipeline out of step");
            return;
        }
    }
}

static void pipe_event(void *ctx, uint32_t events)
{
    pipe_conn *pc = ctx;
    if (pc->state == PC_CONNECTING) {
        pipe_connect_step(pc);
        return;
    }
    if (pc->state != PC_READY)
        return;
    if (events & EPOLLOUT)
        pc->flush = true;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        if (!PQconsumeInput(pc->pg)) {
            pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
            return;
        }
        pipe_results(pc);
        if (pc->state == PC_READY && (pc->doomed || PQstatus(pc->pg) != CONNECTION_OK))
            pipe_fail(pc, RT_E_UNAVAILABLE, "the server closed the connection");
    }
}

/* Before each wait: flush what was queued, enforce deadlines. */
static int pipe_tick(void *ctx)
{
    pipe_set *ps = ctx;
    int64_t now = -1;
    int64_t next = -1;
    for (unsigned i = 0; i < ps->n; i++) {
        pipe_conn *pc = &ps->conns[i];
        if (pc->state == PC_EMPTY)
            continue;
        if (pc->state == PC_READY && pc->unsynced) {
            if (!PQpipelineSync(pc->pg)) {
                pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
                continue;
            }
            pc->unsynced = false;
            pc->group = 0;
            pc->flush = true;
        }
        if (pc->state == PC_READY && pc->flush) {
            int f = PQflush(pc->pg);
            if (f < 0) {
                pipe_fail(pc, RT_E_UNAVAILABLE, PQerrorMessage(pc->pg));
                continue;
            }
            pc->flush = f == 1;
            if (!rt_sched_watch(ps->sched, &pc->w, PQsocket(pc->pg),
                                EPOLLIN | (pc->flush ? EPOLLOUT : 0u))) {
                pipe_fail(pc, RT_E_UNAVAILABLE, "cannot watch the connection");
                continue;
            }
        }
        int64_t d = pc->state == PC_CONNECTING ? pc->connect_deadline
                    : pc->head                 ? pc->head->deadline
                                               : 0;
        if (!d)
            continue;
        if (now < 0)
            now = rt_mono_ms();
        if (d <= now) {
            if (pc->state == PC_CONNECTING) {
                warn_connect(ps->pool, "connection attempt timed out");
                pipe_fail(pc, RT_E_UNAVAILABLE, "connection attempt timed out");
            } else {
                rt_logf(RT_LOG_WARN, RT_STR_NULL, "pg: %s exceeded its %u ms deadline; cancelling",
                        pc->head->what, ps->pool->query_timeout_ms);
                cancel_async(pc->pg);
                pipe_fail(pc, RT_E_TIMEOUT, "deadline exceeded");
            }
            continue;
        }
        if (next < 0 || d - now < next)
            next = d - now;
    }
    return next < 0 ? -1 : (int)next;
}

static void pipe_exit(void *ctx)
{
    pipe_set *ps = ctx;
    for (unsigned i = 0; i < ps->n; i++)
        if (ps->conns[i].state != PC_EMPTY)
            pipe_fail(&ps->conns[i], RT_E_UNAVAILABLE, "the server is stopping");
    ps->closed = true; /* stays this thread's set: later queries fail at once */
}

static void pipe_set_free(pipe_set *ps)
{
    for (unsigned i = 0; i < ps->n; i++)
        if (ps->conns[i].pg)
            PQfinish(ps->conns[i].pg); /* the loop never ran its exit hook */
    while (ps->free_handles) {
        rt_pg_conn *h = ps->free_handles;
        ps->free_handles = h->next_free;
        free(h);
    }
    free(ps->conns);
    free(ps);
}

/* This loop's pipe set of pool p, made on first use (closed once the loop
 * has ended); NULL when the caller is not a coroutine on a loop, p has no
 * pipelines, or memory ran out (the caller then uses the blocking pool). */
static pipe_set *pipe_set_here(rt_pg_pool *p)
{
    if (!p->pipe_size || !rt_co_self())
        return NULL;
    rt_sched *sched = rt_sched_self();
    if (!sched)
        return NULL;
    if (tls_set && tls_set_of == p && tls_set->sched_id == sched->id)
        return tls_set;
    /* another pool used last on this thread: look this one's up */
    pipe_set *ps = NULL;
    pthread_mutex_lock(&p->mu);
    for (ps = p->sets; ps && ps->sched_id != sched->id; ps = ps->next) {
    }
    pthread_mutex_unlock(&p->mu);
    if (ps) {
        tls_set = ps;
        tls_set_of = p;
        return ps;
    }
    ps = calloc(1, sizeof *ps);
    if (!ps || !(ps->conns = calloc(p->pipe_size, sizeof *ps->conns))) {
        free(ps);
        return NULL;
    }
    ps->pool = p;
    ps->sched = sched;
    ps->sched_id = sched->id;
    ps->n = p->pipe_size;
    for (unsigned i = 0; i < ps->n; i++) {
        ps->conns[i].set = ps;
        ps->conns[i].w = (rt_watch){ .fn = pipe_event, .ctx = &ps->conns[i], .fd = -1 };
    }
    if (!rt_sched_hook(sched, pipe_tick, pipe_exit, ps)) {
        pipe_set_free(ps);
        return NULL;
    }
    pthread_mutex_lock(&p->mu);
    ps->next = p->sets;
    p->sets = ps;
    pthread_mutex_unlock(&p->mu);
    tls_set = ps;
    tls_set_of = p;
    return ps;
}

/*
 * The connection for a new query. A read goes to the first ready connection
 * with fewer than PIPE_DEPTH in flight and no write (it would wait for the
 * write's commit): a backend that finds several queries
 * waiting runs them back to back, one wake-up and one read for many. A
 * grouped write joins a group this turn has opened, up to PIPE_DEPTH. Any
 * other write goes to the ready connection with the fewest in flight: it commits at
 * its sync and waits for the WAL flush, and a write queued behind it on the
 * same connection would wait for that flush too, while writes on separate
 * connections share one flush (group commit). An empty slot is opened while
 * no ready connection takes the query without waiting. NULL (err set) when
 * none is ready or connecting and a new connection fails at once.
 */
static pipe_conn *pipe_pick(pipe_set *ps, int kind, char *err)
{
    pipe_conn *best = NULL, *connecting = NULL, *empty = NULL;
    for (unsigned i = 0; i < ps->n; i++) {
        pipe_conn *pc = &ps->conns[i];
        if (pc->state == PC_READY && kind == Q_READ && pc->n < PIPE_DEPTH && pc->nwrites == 0)
            return pc;
        if (pc->state == PC_READY && kind == Q_GROUP && pc->group && pc->group < PIPE_DEPTH)
            return pc;
        if (pc->state == PC_READY && (!best || pc->n < best->n))
            best = pc;
        else if (pc->state == PC_CONNECTING && (!connecting || pc->n < connecting->n))
            connecting = pc;
        else if (pc->state == PC_EMPTY && !empty)
            empty = pc;
    }
    if (best && (best->n == 0 || !empty || connecting))
        return best;
    if (empty && pipe_connect(empty))
        return best ? best : empty;
    if (best)
        return best;
    if (connecting)
        return connecting;
    copy_err(err, empty ? empty->err : "no connection");
    return NULL;
}

static rt_status pipe_exec(rt_pg_conn *h, const char *stmt, const char *sql, int kind,
                           int nparams,
                           const char *const *values, const int *lengths, const int *formats,
                           int result_format, PGresult **out, char sqlstate[6])
{
    pipe_set *ps = h->pipe;
    if (ps->closed) {
        copy_err(h->err, "the server is stopping");
        return RT_E_UNAVAILABLE;
    }
    pipe_conn *pc = pipe_pick(ps, kind, h->err);
    bool read = kind == Q_READ;
    if (!pc)
        return RT_E_UNAVAILABLE;
    pq_wait w = {
        .co = rt_co_self(), .what = stmt ? stmt : "query", .stmt = stmt, .sql = sql,
        .nparams = nparams, .values = values, .lengths = lengths, .formats = formats,
        .result_format = result_format, .nres = 1, .at_sync = !read, .grouped = kind == Q_GROUP, .read = read,
        .errbuf = h->err,
        .deadline = deadline_after(ps->pool->query_timeout_ms),
    };
    if (pc->state == PC_READY) {
        if (!pipe_send(pc, &w)) {
            copy_err(h->err, PQerrorMessage(pc->pg));
            pipe_fail(pc, RT_E_UNAVAILABLE, h->err);
            return RT_E_UNAVAILABLE;
        }
    } else {
        append(&pc->qhead, &pc->qtail, &w);
    }
    pc->n++;
    if (!read)
        pc->nwrites++;
    while (!w.done)
        rt_co_park();
    if (sqlstate)
        memcpy(sqlstate, w.sqlstate, sizeof w.sqlstate);
    if (w.st == RT_OK)
        *out = w.res;
    else
        PQclear(w.res);
    return w.st;
}

/* ================================================================ borrowing */

/* Pop a free slot, waiting until wait_ms has passed; NULL when none. */
static rt_pg_conn *take_slot(rt_pg_pool *p)
{
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    until.tv_sec += p->wait_ms / 1000;
    until.tv_nsec += (long)(p->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }

    rt_pg_conn *c = NULL;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        if (p->nlive) {
            c = &p->conns[p->live[--p->nlive]];
            break;
        }
        if (p->nempty) {
            c = &p->conns[p->empty[--p->nempty]];
            break;
        }
        /* Any error (ETIMEDOUT, or EINVAL that would otherwise spin) ends
         * the wait; a spurious wakeup (0) just rechecks. */
        if (pthread_cond_timedwait(&p->cv, &p->mu, &until) != 0 && !p->nlive && !p->nempty)
            break;
    }
    pthread_mutex_unlock(&p->mu);
    return c;
}

static void put_slot(rt_pg_pool *p, rt_pg_conn *c)
{
    unsigned idx = (unsigned)(c - p->conns);
    pthread_mutex_lock(&p->mu);
    if (c->pg)
        p->live[p->nlive++] = idx;
    else
        p->empty[p->nempty++] = idx;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

rt_pg_conn *rt_pg_acquire(rt_pg_pool *p, rt_status *st)
{
    rt_status dummy;
    if (!st)
        st = &dummy;
    *st = RT_E_UNAVAILABLE;
    if (!p)
        return NULL;
    pipe_set *ps = pipe_set_here(p);
    if (ps && ps->closed)
        return NULL;
    if (ps) {
        rt_pg_conn *h = ps->free_handles;
        if (h)
            ps->free_handles = h->next_free;
        else if (!(h = calloc(1, sizeof *h)))
            return NULL;
        h->pool = p;
        h->pipe = ps;
        h->err[0] = '\0';
        *st = RT_OK;
        return h;
    }
    rt_pg_conn *c = take_slot(p);
    if (!c)
        return NULL;
    c->err[0] = '\0';
    if (c->pg && !idle_alive(c))
        drop(c);
    if (!c->pg && connect_slot(p, c) != RT_OK) {
        put_slot(p, c);
        return NULL;
    }
    *st = RT_OK;
    return c;
}

void rt_pg_release(rt_pg_pool *p, rt_pg_conn *c)
{
    if (!p || !c)
        return;
    if (c->pipe) {
        c->next_free = c->pipe->free_handles;
        c->pipe->free_handles = c;
        return;
    }
    /* A connection left inside a transaction (or mid-query) carries state
     * the next borrower did not ask for: drop it rather than guess. */
    if (c->pg && !c->broken && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        c->broken = true;
    if (c->broken)
        drop(c);
    put_slot(p, c);
}

/* ================================================================ API */

rt_status rt_pg_exec(rt_pg_conn *c, size_t stmt, int nparams,
                     const char *const *values, const int *lengths,
                     const int *formats, int result_format,
                     PGresult **out, char sqlstate[6])
{
    if (out)
        *out = NULL;
    if (sqlstate)
        sqlstate[0] = '\0';
    if (!c || !out)
        return RT_E_INTERNAL;
    rt_pg_pool *p = c->pool;
    c->err[0] = '\0';
    if (stmt >= p->nstmts || nparams != p->stmts[stmt].nparams) {
        snprintf(c->err, sizeof c->err, "bad statement %zu or parameter count %d", stmt, nparams);
        rt_logf(RT_LOG_ERROR, RT_STR_NULL, "pg: %s", c->err);
        return RT_E_INTERNAL;
    }
    const rt_pg_stmt *s = &p->stmts[stmt];
    if (c->pipe)
        return pipe_exec(c, s->name, NULL, p->kinds[stmt], nparams, values, lengths, formats,
                         result_format, out, sqlstate);
    if (c->broken || !c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        c->broken = true;
        if (!c->err[0])
            set_err(c, c->pg ? PQerrorMessage(c->pg) : "not connected");
        return RT_E_UNAVAILABLE;
    }
    int64_t deadline = deadline_after(p->query_timeout_ms);
    int sent = PQsendQueryPrepared(c->pg, s->name, nparams, values, lengths, formats,
                                   result_format);
    return finish(c, sent, deadline, s->name, out, sqlstate);
}

rt_status rt_pg_ping(rt_pg_pool *p)
{
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(p, &st);
    if (!c)
        return st;
    PGresult *r = NULL;
    if (c->pipe) {
        st = pipe_exec(c, NULL, "SELECT 1", Q_READ, 0, NULL, NULL, NULL, 0, &r, NULL);
        PQclear(r);
        rt_pg_release(p, c);
        return st;
    }
    /* Constant SQL text: the one non-prepared query, and it carries no data. */
    int sent = PQsendQuery(c->pg, "SELECT 1");
    st = finish(c, sent, deadline_after(p->query_timeout_ms), "ping", &r, NULL);
    PQclear(r);
    rt_pg_release(p, c);
    return st;
}

const char *rt_pg_error(const rt_pg_conn *c)
{
    if (!c)
        return "";
    if (c->err[0])
        return c->err;
    return c->pg ? PQerrorMessage(c->pg) : "";
}
