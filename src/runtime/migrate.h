/*
 * migrate.h - apply numbered SQL migrations once, at startup.
 *
 * Applied versions are recorded in schema_migrations(version, applied_at),
 * created if missing. Each pending migration runs in its own transaction
 * together with its row in schema_migrations, so it is applied entirely or
 * not at all, and a session-level advisory lock makes concurrent instances
 * take turns: the second one finds everything applied.
 *
 * A migration's SQL is a trusted file from db/migrations/, sent as one
 * simple query. It must not contain transaction control (BEGIN/COMMIT) or
 * statements that cannot run inside a transaction (CREATE INDEX
 * CONCURRENTLY, VACUUM).
 */
#ifndef RT_MIGRATE_H
#define RT_MIGRATE_H

#include "rt.h"

typedef struct rt_migration {
    const char *name; /* "0001_users.sql": the version recorded */
    const char *sql;
} rt_migration;

/*
 * Apply every migration of `list` (sorted by name, names unique) not yet
 * recorded. RT_OK when all are applied (now or before). On failure a
 * NUL-terminated message goes to err (if errlen > 0), nothing of the failing
 * migration remains, and those before it stay applied:
 *   RT_E_UNAVAILABLE  cannot connect, or the connection was lost;
 *   RT_E_INTERNAL     a migration or the bookkeeping failed, or bad input.
 */
rt_status rt_migrate(const char *conninfo, const rt_migration *list, size_t n,
                     char *err, size_t errlen);

#endif
