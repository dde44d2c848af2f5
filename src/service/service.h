/*
 * service.h - the users service's state, shared by every handler.
 *
 * The handlers themselves implement the prototypes in generated/api.gen.h;
 * this header only says what main.c must build before serving.
 */
#ifndef SVC_SERVICE_H
#define SVC_SERVICE_H

#include "cache.h"
#include "http.h"
#include "pg.h"

typedef struct svc_app {
    rt_pg_pool *pg;
    rt_cache *users; /* id -> encoded User JSON */
} svc_app;

/* The prepared statements every pooled connection carries. */
extern const rt_pg_stmt svc_stmts[];
extern const size_t svc_nstmts;

/* rt_blocks_fn for rt_server_opts.blocks: true when the request may wait
 * for the database (it then runs on the worker pool). */
bool svc_blocks(const rt_req *req);

#endif
