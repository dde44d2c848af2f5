/*
 * service.h - the users service's state, shared by every handler.
 *
 * The handlers themselves implement the prototypes in generated/api.gen.h;
 * this header only says what main.c must build before serving.
 */
#ifndef SVC_SERVICE_H
#define SVC_SERVICE_H

#include "cache.h"
#include "pg.h"

typedef struct svc_app {
    rt_pg_pool *pg;
    rt_cache *users; /* id -> encoded User JSON */
} svc_app;

/* The prepared statements every pooled connection carries. */
extern const rt_pg_stmt svc_stmts[];
extern const size_t svc_nstmts;

#endif
