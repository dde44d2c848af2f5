/*
 * migrate.c - apply pending SQL migrations under an advisory lock.
 *
 * Order of work, and why:
 *  1. connect (one connection, closed on return: closing also releases the
 *     advisory lock if anything below fails);
 *  2. pg_advisory_lock(MIGRATE_LOCK_KEY), bounded by lock_timeout: another
 *     instance migrating makes us wait, then we see its work as applied;
 *  3. create schema_migrations if missing (after the lock, so two first
 *     starts do not race on it);
 *  4. per pending migration: BEGIN; its SQL; INSERT its version; COMMIT. The
 *     check "already applied?" needs no transaction because the lock
 *     serialises every writer of schema_migrations.
 * Server notices (e.g. "relation already exists, skipping") go to the debug
 * log instead of libpq's default stderr.
 */
#include "migrate.h"

#include "log.h"

#include <libpq-fe.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* "capimigr" in ASCII: a fixed key every instance of the service agrees on. */
#define MIGRATE_LOCK_KEY "7161128480605300594"
/* Bound on waiting for another instance's migrations. */
#define MIGRATE_LOCK_TIMEOUT "'300s'"

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    size_t n = strlen(err);
    while (n > 0 && err[n - 1] == '\n')
        err[--n] = '\0';
}

static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    rt_logf(RT_LOG_DEBUG, RT_STR_NULL, "migrate notice: %s", message);
}

/* Status for a failed step: a lost connection is UNAVAILABLE. */
static rt_status failed(PGconn *pg)
{
    return PQstatus(pg) == CONNECTION_OK ? RT_E_INTERNAL : RT_E_UNAVAILABLE;
}

/* Describe a failed result as "message (SQLSTATE xxxxx)". */
static void describe(PGconn *pg, const PGresult *r, char *buf, size_t len)
{
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (!msg)
        msg = r && PQresultStatus(r) != PGRES_FATAL_ERROR ? PQresStatus(PQresultStatus(r))
                                                           : PQerrorMessage(pg);
    if (state)
        snprintf(buf, len, "%s (SQLSTATE %s)", msg, state);
    else
        snprintf(buf, len, "%s", msg);
    size_t n = strlen(buf);
    while (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
}

static bool result_ok(const PGresult *r)
{
    ExecStatusType s = PQresultStatus(r);
    return r && (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK || s == PGRES_EMPTY_QUERY);
}

/* Run trusted, constant (or file) SQL; on failure describe it into why. */
static bool run(PGconn *pg, const char *sql, char *why, size_t whylen)
{
    PGresult *r = PQexec(pg, sql);
    bool ok = result_ok(r);
    if (!ok)
        describe(pg, r, why, whylen);
    PQclear(r);
    return ok;
}

/* 1 applied, 0 not, -1 error (why filled). */
static int is_applied(PGconn *pg, const char *name, char *why, size_t whylen)
{
    const char *vals[1] = { name };
    PGresult *r = PQexecParams(pg, "SELECT 1 FROM schema_migrations WHERE version = $1",
                               1, NULL, vals, NULL, NULL, 0);
    int res = -1;
    if (r && PQresultStatus(r) == PGRES_TUPLES_OK)
        res = PQntuples(r) > 0;
    else
        describe(pg, r, why, whylen);
    PQclear(r);
    return res;
}

/* One migration and its bookkeeping row, atomically. */
static bool apply_one(PGconn *pg, const rt_migration *m, char *why, size_t whylen)
{
    if (!run(pg, "BEGIN", why, whylen))
        return false;
    if (!run(pg, m->sql, why, whylen))
        goto rollback;
    const char *vals[1] = { m->name };
    PGresult *r = PQexecParams(pg, "INSERT INTO schema_migrations (version) VALUES ($1)",
                               1, NULL, vals, NULL, NULL, 0);
    bool ok = result_ok(r);
    if (!ok)
        describe(pg, r, why, whylen);
    PQclear(r);
    if (!ok)
        goto rollback;
    /* A failing COMMIT (deferred constraint) rolls back by itself. */
    return run(pg, "COMMIT", why, whylen);

rollback:;
    char ignored[64];
    run(pg, "ROLLBACK", ignored, sizeof ignored);
    return false;
}

static bool check_list(const rt_migration *list, size_t n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!list[i].name || !list[i].sql || !list[i].name[0]) {
            errf(err, errlen, "migration %zu has no name or no SQL", i);
            return false;
        }
        if (i > 0 && strcmp(list[i - 1].name, list[i].name) >= 0) {
            errf(err, errlen, "migrations not sorted or duplicated at %s", list[i].name);
            return false;
        }
    }
    return true;
}

rt_status rt_migrate(const char *conninfo, const rt_migration *list, size_t n,
                     char *err, size_t errlen)
{
    errf(err, errlen, "%s", "");
    if (!conninfo || (n && !list)) {
        errf(err, errlen, "no conninfo or no migration list");
        return RT_E_INTERNAL;
    }
    if (!check_list(list, n, err, errlen))
        return RT_E_INTERNAL;

    /* Parse first: for a malformed string libpq's connect error quotes it
     * whole, password included, and that must not reach err or the log. */
    PQconninfoOption *parsed = PQconninfoParse(conninfo, NULL);
    if (!parsed) {
        errf(err, errlen, "the database conninfo does not parse");
        return RT_E_INTERNAL;
    }
    PQconninfoFree(parsed);

    /* dbname last and expanded: the URL's own settings win over defaults. */
    const char *keys[] = { "application_name", "connect_timeout", "dbname", NULL };
    const char *vals[] = { "capi-migrate", "10", conninfo, NULL };
    PGconn *pg = PQconnectdbParams(keys, vals, 1);
    if (!pg || PQstatus(pg) != CONNECTION_OK) {
        errf(err, errlen, "connect: %s", pg ? PQerrorMessage(pg) : "out of memory");
        PQfinish(pg);
        return RT_E_UNAVAILABLE;
    }
    PQsetNoticeProcessor(pg, notice_to_log, NULL);

    rt_status st = RT_OK;
    char why[512];
    size_t applied = 0;
    if (!run(pg, "SET lock_timeout = " MIGRATE_LOCK_TIMEOUT, why, sizeof why) ||
        !run(pg, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", why, sizeof why) ||
        !run(pg, "RESET lock_timeout", why, sizeof why)) {
        errf(err, errlen, "taking the migration lock: %s", why);
        st = failed(pg);
        goto out;
    }
    if (!run(pg,
             "CREATE TABLE IF NOT EXISTS schema_migrations ("
             "version text PRIMARY KEY, "
             "applied_at timestamptz NOT NULL DEFAULT now())",
             why, sizeof why)) {
        errf(err, errlen, "creating schema_migrations: %s", why);
        st = failed(pg);
        goto out;
    }

    for (size_t i = 0; i < n; i++) {
        const rt_migration *m = &list[i];
        int done = is_applied(pg, m->name, why, sizeof why);
        if (done < 0) {
            errf(err, errlen, "reading schema_migrations: %s", why);
            st = failed(pg);
            goto out;
        }
        if (done)
            continue;
        int64_t t0 = rt_mono_ms();
        if (!apply_one(pg, m, why, sizeof why)) {
            errf(err, errlen, "migration %s: %s", m->name, why);
            rt_logf(RT_LOG_ERROR, RT_STR_NULL, "migration %s failed: %s", m->name, why);
            st = failed(pg);
            goto out;
        }
        applied++;
        rt_logf(RT_LOG_INFO, RT_STR_NULL, "migration %s applied in %lld ms", m->name,
                (long long)(rt_mono_ms() - t0));
    }
    rt_logf(RT_LOG_INFO, RT_STR_NULL, "migrations: %zu applied, %zu already present",
            applied, n - applied);

out:
    /* Ending the session releases the advisory lock. */
    PQfinish(pg);
    return st;
}
