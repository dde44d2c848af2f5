/*
 * main.c - wiring: settings -> logging -> database pool and cache -> HTTP
 * server -> wait for SIGINT/SIGTERM -> graceful stop.
 *
 * Commands: `server` (or no command) serves; `server migrate` applies the
 * migrations in db/migrations/ (embedded at build time) and exits.
 *
 * Signals are blocked in every thread (the mask is inherited by the server's
 * threads) and taken synchronously with sigwait here, so no handler code runs
 * in signal context.
 */
#include "api.gen.h"
#include "cache.h"
#include "config.h"
#include "docs.h"
#include "http.h"
#include "log.h"
#include "migrate.h"
#include "pg.h"
#include "service.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* From the build: every db/migrations file, sorted by name. */
extern const rt_migration svc_migrations[];
extern const size_t svc_nmigrations;
/* From the build: Swagger UI and its index page (scripts/embed-docs.py). */
extern const rt_docs_site svc_docs_site;

/* /docs (the embedded Swagger UI) first, then the generated router. */
static void dispatch(rt_req *req, rt_resp *resp)
{
    if (!rt_docs_serve(&svc_docs_site, req, resp))
        api_dispatch(req, resp);
}

typedef struct settings {
    unsigned long port, threads, max_conns, body_limit, conn_timeout_s, shutdown_timeout_s;
    unsigned long conn_memory;
    unsigned long pool_size, db_pipeline, db_workers, pool_wait_ms, query_timeout_ms, connect_timeout_s;
    unsigned long cache_ttl_ms, cache_entries;
    const char *bind, *database_url, *log_level, *plan_cache_mode;
} settings;

static settings S;

#define DEFAULT_DATABASE_URL "postgres://postgres@127.0.0.1:5432/api?sslmode=disable"

/* The single description of every setting (README's table mirrors --help). */
static const rt_cfg_opt OPTS[] = {
    { "PORT", "port", RT_CFG_UINT, "8080", 0, 65535, "TCP port to listen on (0: any free port)", &S.port },
    { "BIND_ADDR", "bind", RT_CFG_STR, "127.0.0.1", 0, 0, "IPv4 or IPv6 address to listen on (0.0.0.0 for all)", &S.bind },
    { "THREADS", "threads", RT_CFG_UINT, "0", 0, 256, "event-loop threads (0: one per CPU but one, at least 1)", &S.threads },
    { "MAX_CONNECTIONS", "max-connections", RT_CFG_UINT, "4096", 1, 1000000, "concurrent client connections", &S.max_conns },
    { "BODY_LIMIT", "body-limit", RT_CFG_UINT, "1048576", 1, 1073741824, "largest request body in bytes (413 beyond)", &S.body_limit },
    { "CONN_MEMORY", "conn-memory", RT_CFG_UINT, "8192", 4096, 1048576, "bytes of a connection's input buffer: the request head must fit (a larger one gets 431); held only while the connection has unread bytes", &S.conn_memory },
    { "CONN_TIMEOUT_S", "conn-timeout", RT_CFG_UINT, "30", 1, 86400, "seconds an idle or slow connection is kept", &S.conn_timeout_s },
    { "SHUTDOWN_TIMEOUT_S", "shutdown-timeout", RT_CFG_UINT, "10", 0, 3600, "seconds in-flight requests get to finish on SIGTERM/SIGINT", &S.shutdown_timeout_s },
    { "DATABASE_URL", "database-url", RT_CFG_STR, DEFAULT_DATABASE_URL, 0, 0, "PostgreSQL connection URL or key=value string", &S.database_url },
    { "DB_POOL_SIZE", "db-pool-size", RT_CFG_UINT, "32", 1, 1000, "PostgreSQL connections in the pool", &S.pool_size },
    { "DB_PIPELINE", "db-pipeline", RT_CFG_UINT, "1", 0, 1, "1: database requests run as coroutines on the event loops over pipelined connections (DB_POOL_SIZE split between the loops); 0: on DB_WORKERS threads", &S.db_pipeline },
    { "DB_WORKERS", "db-workers", RT_CFG_UINT, "0", 0, 1000, "with DB_PIPELINE=0: threads running database-bound requests (0: DB_POOL_SIZE)", &S.db_workers },
    { "DB_POOL_WAIT_MS", "db-pool-wait", RT_CFG_UINT, "1000", 0, 600000, "longest wait for a free connection before 503", &S.pool_wait_ms },
    { "DB_QUERY_TIMEOUT_MS", "db-query-timeout", RT_CFG_UINT, "5000", 1, 3600000, "per-query deadline before 504 (the query is cancelled)", &S.query_timeout_ms },
    { "DB_CONNECT_TIMEOUT_S", "db-connect-timeout", RT_CFG_UINT, "3", 1, 600, "seconds a connection attempt may take before 503", &S.connect_timeout_s },
    { "DB_PLAN_CACHE_MODE", "db-plan-cache-mode", RT_CFG_STR, "force_generic_plan", 0, 0, "plan_cache_mode of the pool's sessions: force_generic_plan (plan each statement once), auto or force_custom_plan (PostgreSQL's choice or plan every execution)", &S.plan_cache_mode },
    { "CACHE_TTL_MS", "cache-ttl", RT_CFG_UINT, "30000", 0, 86400000, "lifetime of a cached GET /users/{id} (0 disables the cache)", &S.cache_ttl_ms },
    { "CACHE_ENTRIES", "cache-entries", RT_CFG_UINT, "100000", 1, 100000000, "most users held in the cache", &S.cache_entries },
    { "LOG_LEVEL", "log-level", RT_CFG_STR, "info", 0, 0, "debug, info (access log), warn, error or off", &S.log_level },
};

static const char USAGE[] =
    "usage: server [migrate] [--flag=value ...]\n"
    "  (no command)  serve the users API\n"
    "  migrate       apply pending database migrations and exit";

static int cmd_migrate(void)
{
    char err[256] = "";
    rt_status st = rt_migrate(S.database_url, svc_migrations, svc_nmigrations, err, sizeof err);
    if (st != RT_OK) {
        rt_logf(RT_LOG_ERROR, RT_STR_NULL, "migrate failed: %s", err);
        return 1;
    }
    return 0;
}

static int cmd_serve(void)
{
    int rc = 1;
    /* One CPU is left to the kernel's network work, the database and whatever else
     * shares the machine: connections are pinned to their loop, so a loop that has
     * to wait for a CPU stalls every one of them (docs/PERFORMANCE.md). */
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = S.threads ? (unsigned)S.threads : (unsigned)(ncpu > 2 ? ncpu - 1 : 1);
    unsigned per_loop = (unsigned)S.pool_size / threads;
    rt_pg_opts po = {
        .conninfo = S.database_url,
        .size = (unsigned)S.pool_size,
        .wait_ms = (unsigned)S.pool_wait_ms,
        .query_timeout_ms = (unsigned)S.query_timeout_ms,
        .connect_timeout_s = (unsigned)S.connect_timeout_s,
        .stmts = svc_stmts,
        .nstmts = svc_nstmts,
        .pipe_size = S.db_pipeline ? (per_loop ? per_loop : 1) : 0,
        .plan_cache_mode = S.plan_cache_mode,
    };
    svc_app app = { 0 };
    rt_server *srv = NULL;

    app.pg = rt_pg_pool_new(&po);
    app.users = rt_cache_new((unsigned)S.cache_ttl_ms, S.cache_entries);
    if (!app.pg || !app.users) {
        rt_logf(RT_LOG_ERROR, RT_STR_NULL, "out of memory at start-up");
        goto out;
    }

    rt_server_opts so = {
        .bind_addr = S.bind,
        .port = (uint16_t)S.port,
        .threads = threads,
        .body_limit = S.body_limit,
        .conn_timeout_s = (unsigned)S.conn_timeout_s,
        .conn_memory = S.conn_memory,
        .max_conns = (unsigned)S.max_conns,
        .handler = dispatch,
        .app = &app,
        .workers = S.db_pipeline ? 0 : (unsigned)(S.db_workers ? S.db_workers : S.pool_size),
        .blocks = svc_blocks,
        .coroutines = S.db_pipeline != 0,
    };
    char err[256] = "";
    srv = rt_server_start(&so, err, sizeof err);
    if (!srv) {
        rt_logf(RT_LOG_ERROR, RT_STR_NULL, "cannot start the server: %s", err);
        goto out;
    }
    rt_logf(RT_LOG_INFO, RT_STR_NULL, "listening on %s:%u with %u threads", S.bind,
            (unsigned)rt_server_port(srv), so.threads);

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    int sig = 0;
    sigwait(&set, &sig);
    rt_logf(RT_LOG_WARN, RT_STR_NULL, "%s received: draining for up to %lus",
            sig == SIGINT ? "SIGINT" : "SIGTERM", S.shutdown_timeout_s);
    rt_server_stop(srv, (unsigned)(S.shutdown_timeout_s * 1000));
    srv = NULL;
    rt_logf(RT_LOG_INFO, RT_STR_NULL, "stopped");
    rc = 0;
out:
    if (srv)
        rt_server_stop(srv, 0);
    rt_cache_free(app.users);
    rt_pg_pool_free(app.pg);
    return rc;
}

int main(int argc, char **argv)
{
    /* Block before any thread exists so every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    int nargs = 0;
    char **args = NULL;
    int r = rt_config_load(OPTS, sizeof OPTS / sizeof OPTS[0], argc, argv, &nargs, &args,
                           stdout, stderr, USAGE);
    if (r != 0)
        return r > 0 ? 0 : 2;

    rt_log_level level;
    if (!rt_log_level_parse(S.log_level, &level)) {
        fprintf(stderr, "invalid LOG_LEVEL \"%s\": expected debug, info, warn, error or off\n",
                S.log_level);
        return 2;
    }
    rt_log_init(level, STDERR_FILENO);
    if (!rt_pg_plan_cache_mode_ok(S.plan_cache_mode)) {
        fprintf(stderr, "invalid DB_PLAN_CACHE_MODE \"%s\": expected force_generic_plan, auto or "
                        "force_custom_plan\n", S.plan_cache_mode);
        return 2;
    }

    int rc;
    if (nargs == 0 || (nargs == 1 && strcmp(args[0], "serve") == 0))
        rc = cmd_serve();
    else if (nargs == 1 && strcmp(args[0], "migrate") == 0)
        rc = cmd_migrate();
    else {
        fprintf(stderr, "unknown command \"%s\"\n%s\n", args[0], USAGE);
        rc = 2;
    }
    rt_log_flush();
    return rc;
}
