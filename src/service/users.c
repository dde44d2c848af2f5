/*
 * users.c - the users service: the handwritten half of the users API.
 *
 * Each function implements one generated prototype. By the time one runs,
 * the generated code has routed the request, parsed and range-checked the
 * parameters, decoded and validated the body; what is left is the business
 * rule and the SQL. Rows are fetched in binary format (no text parsing of
 * ids or timestamps) and strings are copied into the request arena, because
 * the result is encoded after the PGresult is gone.
 *
 * Cache: GET /users/{id} keeps the encoded JSON of a user; PATCH and DELETE
 * invalidate it after the database has changed, and fills race-free through
 * rt_cache tickets (a fill that started before an invalidation is dropped).
 */
#include "service.h"

#include "api.gen.h"
#include "log.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

enum {
    STMT_GET,
    STMT_LIST,
    STMT_INSERT,
    STMT_UPDATE,
    STMT_DELETE,
};

#define USER_COLS "id, username, email, created_at, updated_at"

const rt_pg_stmt svc_stmts[] = {
    [STMT_GET] = { "users_get", "SELECT " USER_COLS " FROM users WHERE id = $1", 1 },
    [STMT_LIST] = { "users_list",
                    "SELECT " USER_COLS " FROM users WHERE id > $1 ORDER BY id LIMIT $2", 2 },
    /* Inserts of new users are independent of each other: the ones a loop
     * sends in one turn may commit together (one WAL flush). Two groups can
     * only wait on each other when both insert the same two names at once;
     * PostgreSQL then breaks the deadlock and each insert runs again alone. */
    [STMT_INSERT] = { "users_insert",
                      "INSERT INTO users (username, email) VALUES ($1, $2) RETURNING " USER_COLS,
                      2, .group_commit = true },
    /* updated_at must move forward even if the clock does not. */
    [STMT_UPDATE] = { "users_update",
                      "UPDATE users SET username = COALESCE($2, username),"
                      " email = COALESCE($3, email),"
                      " updated_at = GREATEST(clock_timestamp(), updated_at + interval '1 microsecond')"
                      " WHERE id = $1 RETURNING " USER_COLS,
                      3 },
    [STMT_DELETE] = { "users_delete", "DELETE FROM users WHERE id = $1", 1 },
};
const size_t svc_nstmts = sizeof svc_stmts / sizeof svc_stmts[0];

/* PostgreSQL's binary timestamps count microseconds from 2000-01-01 UTC. */
#define PG_EPOCH_OFFSET_US INT64_C(946684800000000)

static svc_app *app_of(rt_req *req)
{
    return req->app;
}

static int64_t get_i64(const PGresult *r, int row, int col)
{
    uint64_t be;
    memcpy(&be, PQgetvalue(r, row, col), sizeof be);
    return (int64_t)be64toh(be);
}

/* One row of USER_COLS (binary) into *u, strings copied into the arena. */
static rt_status row_to_user(rt_req *req, const PGresult *r, int row, api_user *u)
{
    if (PQgetlength(r, row, 0) != 8 || PQgetlength(r, row, 3) != 8 || PQgetlength(r, row, 4) != 8)
        return rt_req_fail(req, RT_E_INTERNAL, NULL);
    u->id = get_i64(r, row, 0);
    u->username = rt_arena_strdup(req->arena, PQgetvalue(r, row, 1), (size_t)PQgetlength(r, row, 1));
    u->email = rt_arena_strdup(req->arena, PQgetvalue(r, row, 2), (size_t)PQgetlength(r, row, 2));
    u->created_at = get_i64(r, row, 3) + PG_EPOCH_OFFSET_US;
    u->updated_at = get_i64(r, row, 4) + PG_EPOCH_OFFSET_US;
    if (!u->username.ptr || !u->email.ptr)
        return rt_req_fail(req, RT_E_INTERNAL, "out of memory");
    return RT_OK;
}

/* The single row a statement by id returned into *u, or 404 when there is
 * none; clears r either way. */
static rt_status one_user(rt_req *req, PGresult *r, api_user *u)
{
    rt_status st = PQntuples(r) == 0 ? rt_req_fail(req, RT_E_NOT_FOUND, "user not found")
                                     : row_to_user(req, r, 0, u);
    PQclear(r);
    return st;
}

/* Map a failed rt_pg_exec/acquire to the client's status; log the cause. */
static rt_status db_failure(rt_req *req, rt_status st, const char *what, const char *sqlstate,
                            rt_pg_conn *c)
{
    switch (st) {
    case RT_E_UNAVAILABLE:
        rt_logf(RT_LOG_WARN, req->request_id, "%s: database unavailable: %s", what,
                c ? rt_pg_error(c) : "no connection");
        return rt_req_fail(req, RT_E_UNAVAILABLE, "database unavailable");
    case RT_E_TIMEOUT:
        rt_logf(RT_LOG_WARN, req->request_id, "%s: query deadline exceeded", what);
        return rt_req_fail(req, RT_E_TIMEOUT, "database did not answer in time");
    default:
        rt_logf(RT_LOG_ERROR, req->request_id, "%s: sqlstate %s: %s", what,
                sqlstate && sqlstate[0] ? sqlstate : "-", c ? rt_pg_error(c) : "");
        return rt_req_fail(req, RT_E_INTERNAL, NULL);
    }
}

/*
 * Run one statement on a pooled connection. On RT_OK *res holds the result;
 * otherwise the failure has been mapped and logged (a unique violation is
 * left to the caller as RT_E_CONFLICT).
 */
static rt_status run(rt_req *req, size_t stmt, int n, const char *const *vals, PGresult **res)
{
    rt_status st;
    rt_pg_conn *c = rt_pg_acquire(app_of(req)->pg, &st);
    if (!c)
        return db_failure(req, st, svc_stmts[stmt].name, NULL, NULL);
    char sqlstate[6] = "";
    st = rt_pg_exec(c, stmt, n, vals, NULL, NULL, 1, res, sqlstate);
    if (st == RT_E_INTERNAL && strcmp(sqlstate, "23505") == 0) {
        rt_pg_release(app_of(req)->pg, c);
        return RT_E_CONFLICT;
    }
    if (st != RT_OK)
        st = db_failure(req, st, svc_stmts[stmt].name, sqlstate, c);
    rt_pg_release(app_of(req)->pg, c);
    return st;
}

/* Decimal text of an id for a text-format parameter. */
static const char *id_text(char buf[24], int64_t id)
{
    snprintf(buf, 24, "%" PRId64, id);
    return buf;
}

/* ---------------------------------------------------------------- scheduling */

/* Digits of a path id to a positive int64, false otherwise (the generated
 * parser then answers 400, which does not need the database). */
static bool parse_id(rt_str v, uint64_t *out)
{
    if (v.len == 0 || v.len > 19)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v.ptr[i] - '0');
    }
    if (x == 0 || x > (uint64_t)INT64_MAX)
        return false;
    *out = x;
    return true;
}

/*
 * rt_blocks_fn: which requests may wait for PostgreSQL and so run on the
 * worker pool. Health, the spec, errors the router answers by itself, and
 * GET /users/{id} whose representation is cached are answered on the event
 * loop; everything else touches the database. A cache entry may expire
 * between this look and the handler's: that request then queries on the
 * loop thread, which is correct, only briefly slower for the others.
 */
bool svc_blocks(const rt_req *req)
{
    api_route route;
    if (api_route_match(req->method, req->path, &route) != 0)
        return false;
    switch ((api_op)route.op) {
    case API_OP_GET_HEALTHZ:
    case API_OP_SPEC_YAML:
    case API_OP_SPEC_JSON:
        return false;
    case API_OP_GET_USER: {
        uint64_t id;
        if (route.nparams < 1 || !parse_id(route.params[0], &id))
            return false;
        return !rt_cache_has(((svc_app *)req->app)->users, id);
    }
    default:
        return true;
    }
}

/* ---------------------------------------------------------------- health */

rt_status svc_get_healthz(rt_req *req, api_get_healthz_result *res)
{
    (void)req;
    res->body_200.status = API_HEALTH_STATUS_OK;
    return RT_OK;
}

rt_status svc_get_readyz(rt_req *req, api_get_readyz_result *res)
{
    rt_status st = rt_pg_ping(app_of(req)->pg);
    if (st != RT_OK) {
        rt_logf(RT_LOG_WARN, req->request_id, "readyz: database does not answer (%s)",
                rt_status_name(st));
        return rt_req_fail(req, RT_E_UNAVAILABLE, "database unavailable");
    }
    res->body_200.status = API_HEALTH_STATUS_OK;
    return RT_OK;
}

/* ---------------------------------------------------------------- users */

rt_status svc_create_user(rt_req *req, api_new_user *body, api_create_user_result *res)
{
    /* Text parameters must be NUL-terminated: copy the views. */
    rt_str u = rt_arena_strdup(req->arena, body->username.ptr, body->username.len);
    rt_str e = rt_arena_strdup(req->arena, body->email.ptr, body->email.len);
    if (!u.ptr || !e.ptr)
        return rt_req_fail(req, RT_E_INTERNAL, "out of memory");
    const char *vals[2] = { u.ptr, e.ptr };

    PGresult *r = NULL;
    rt_status st = run(req, STMT_INSERT, 2, vals, &r);
    if (st == RT_E_CONFLICT)
        return rt_req_fail(req, RT_E_CONFLICT, "username or email already taken");
    if (st != RT_OK)
        return st;
    st = one_user(req, r, &res->body_201); /* INSERT ... RETURNING: always one row */
    if (st != RT_OK)
        return st;

    char loc[40];
    int n = snprintf(loc, sizeof loc, "/users/%" PRId64, res->body_201.id);
    res->header_location = rt_arena_strdup(req->arena, loc, (size_t)n);
    if (!res->header_location.ptr)
        return rt_req_fail(req, RT_E_INTERNAL, "out of memory");
    return RT_OK;
}

/* Longest wait for another request's load of the same user (single flight);
 * past it a follower queries by itself. */
#define FLY_WAIT_MS 1000

/* The database half of GET /users/{id}: query, encode into the cache. */
static rt_status load_user(rt_req *req, svc_app *app, int64_t id, api_get_user_result *res)
{
    uint64_t key = (uint64_t)id;
    uint64_t ticket = rt_cache_ticket(app->users, key);
    char idbuf[24];
    const char *vals[1] = { id_text(idbuf, id) };
    PGresult *r = NULL;
    rt_status st = run(req, STMT_GET, 1, vals, &r);
    if (st == RT_OK)
        st = one_user(req, r, &res->body_200);
    if (st != RT_OK)
        return st;

    /* A miss already paid for a query; one malloc to fill the cache is noise. */
    rt_buf json;
    rt_buf_init(&json);
    api_user_encode(&res->body_200, &json);
    if (!json.oom)
        rt_cache_put(app->users, key, ticket, json.data, json.len);
    rt_buf_free(&json);
    return RT_OK;
}

rt_status svc_get_user(rt_req *req, const api_get_user_params *params, api_get_user_result *res)
{
    svc_app *app = app_of(req);
    uint64_t key = (uint64_t)params->id;

    if (rt_cache_get_arena(app->users, key, req->arena, &res->raw))
        return RT_OK;
    /* Concurrent misses of one id: one query, the others wait for its fill. */
    rt_fly fly = rt_cache_fly_begin(app->users, key, FLY_WAIT_MS);
    if (fly == RT_FLY_FOLLOWED && rt_cache_get_arena(app->users, key, req->arena, &res->raw))
        return RT_OK;
    rt_status st = load_user(req, app, params->id, res);
    if (fly == RT_FLY_LEAD)
        rt_cache_fly_end(app->users, key);
    return st;
}

rt_status svc_list_users(rt_req *req, const api_list_users_params *params,
                         api_list_users_result *res)
{
    int64_t limit = params->limit;
    int64_t after = params->has_after ? params->after : 0;
    char abuf[24], lbuf[24];
    /* One row more than asked tells whether another page exists. */
    const char *vals[2] = { id_text(abuf, after), id_text(lbuf, limit + 1) };
    PGresult *r = NULL;
    rt_status st = run(req, STMT_LIST, 2, vals, &r);
    if (st != RT_OK)
        return st;

    int rows = PQntuples(r);
    int take = rows > limit ? (int)limit : rows;
    api_user_list *page = &res->body_200;
    page->items = rt_arena_alloc(req->arena, sizeof(api_user) * (size_t)(take > 0 ? take : 1));
    if (!page->items) {
        PQclear(r);
        return rt_req_fail(req, RT_E_INTERNAL, "out of memory");
    }
    for (int i = 0; i < take && st == RT_OK; i++)
        st = row_to_user(req, r, i, &page->items[i]);
    PQclear(r);
    if (st != RT_OK)
        return st;
    page->items_len = (size_t)take;
    page->next_after_is_null = rows <= limit;
    page->next_after = rows > limit ? page->items[take - 1].id : 0;
    return RT_OK;
}

rt_status svc_update_user(rt_req *req, const api_update_user_params *params, api_user_patch *body,
                          api_update_user_result *res)
{
    char idbuf[24];
    const char *vals[3] = { id_text(idbuf, params->id), NULL, NULL };
    if (body->has_username) {
        rt_str u = rt_arena_strdup(req->arena, body->username.ptr, body->username.len);
        if (!u.ptr)
            return rt_req_fail(req, RT_E_INTERNAL, "out of memory");
        vals[1] = u.ptr;
    }
    if (body->has_email) {
        rt_str e = rt_arena_strdup(req->arena, body->email.ptr, body->email.len);
        if (!e.ptr)
            return rt_req_fail(req, RT_E_INTERNAL, "out of memory");
        vals[2] = e.ptr;
    }

    PGresult *r = NULL;
    rt_status st = run(req, STMT_UPDATE, 3, vals, &r);
    if (st == RT_E_CONFLICT)
        return rt_req_fail(req, RT_E_CONFLICT, "username or email already taken");
    if (st != RT_OK)
        return st;
    st = one_user(req, r, &res->body_200);
    rt_cache_del(app_of(req)->users, (uint64_t)params->id);
    return st;
}

rt_status svc_delete_user(rt_req *req, const api_delete_user_params *params,
                          api_delete_user_result *res)
{
    (void)res;
    char idbuf[24];
    const char *vals[1] = { id_text(idbuf, params->id) };
    PGresult *r = NULL;
    rt_status st = run(req, STMT_DELETE, 1, vals, &r);
    if (st != RT_OK)
        return st;
    bool deleted = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    rt_cache_del(app_of(req)->users, (uint64_t)params->id);
    if (!deleted)
        return rt_req_fail(req, RT_E_NOT_FOUND, "user not found");
    return RT_OK;
}
