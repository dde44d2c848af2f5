/*
 * json_bench.c - `make bench-json`: decode + validate + encode of the users
 * API's documents by the generated code, by cJSON and by jansson (Debian's
 * libcjson / libjansson, used here only), on the same bytes.
 *
 * Documents: one User (as GET /users/{id} returns it) and a UserList page of
 * 20 users (as GET /users?limit=20 returns it), produced by our encoder.
 *
 * What one iteration does, per library:
 *  - generated: copy the document into the request buffer (our decoder works
 *    in place, so the copy is charged to us), api_*_decode, rt_json_finish,
 *    api_*_validate, api_*_encode into a reused buffer; the arena is reset.
 *  - cJSON / jansson: parse into their tree, check the same constraints on it
 *    (types, id >= 1, username 3-32 letters/digits, email syntax and length,
 *    both timestamps parsed as RFC 3339 by the runtime's parser), print the
 *    tree compactly, free tree and text. Printing the tree reuses the input's
 *    timestamp strings where we format ours from integers: a head start for
 *    them, not for us.
 *
 * Allocations are counted by interposing malloc/calloc/realloc/free in this
 * executable (glibc resolves the shared libraries' calls to them here too).
 * Exit status 1 when the generated codec allocates at all, or when a library
 * does not reproduce the document byte for byte (length check).
 *
 * Usage: json_bench [iterations [library]]   (default 200000 for the User;
 * the page gets a twentieth of that; library: only time that one, e.g. for
 * perf). Prints a Markdown table.
 */
#include "api.gen.h"
#include "json.h"
#include "rt.h"
#include "validate.h"

#include <cjson/cJSON.h>
#include <jansson.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------- malloc counter */

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static unsigned long long n_alloc;

void *malloc(size_t n)
{
    n_alloc++;
    return __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
    n_alloc++;
    return __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
    n_alloc++;
    return __libc_realloc(p, n);
}

void free(void *p)
{
    __libc_free(p);
}

/* ---------------------------------------------------------------- documents */

static void make_user(api_user *u, int64_t id, char *names, size_t cap)
{
    int a = snprintf(names, cap, "user%lld", (long long)id);
    int b = snprintf(names + a + 1, cap - (size_t)a - 1, "user%lld@example.com", (long long)id);
    u->id = id;
    u->username = (rt_str){ names, (size_t)a };
    u->email = (rt_str){ names + a + 1, (size_t)b };
    u->created_at = INT64_C(1795428000123456) + id;
    u->updated_at = u->created_at + 1000;
}

/* ---------------------------------------------------------------- checks on trees */

static bool alnum_3_32(const char *s)
{
    size_t n = strlen(s);
    if (n < 3 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
            return false;
    }
    return true;
}

static bool email_ok(const char *s)
{
    rt_str v = { s, strlen(s) };
    return rt_utf8_count(v) <= 254 && rt_is_email(v);
}

static bool time_ok(const char *s)
{
    int64_t us;
    return rt_time_parse((rt_str){ s, strlen(s) }, &us) == 0;
}

static bool cj_user_ok(const cJSON *o)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "id");
    const cJSON *un = cJSON_GetObjectItemCaseSensitive(o, "username");
    const cJSON *em = cJSON_GetObjectItemCaseSensitive(o, "email");
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(o, "created_at");
    const cJSON *ua = cJSON_GetObjectItemCaseSensitive(o, "updated_at");
    return cJSON_IsObject(o) && cJSON_IsNumber(id) && id->valuedouble >= 1 &&
           id->valuedouble == floor(id->valuedouble) && cJSON_IsString(un) &&
           alnum_3_32(un->valuestring) && cJSON_IsString(em) && email_ok(em->valuestring) &&
           cJSON_IsString(ca) && time_ok(ca->valuestring) && cJSON_IsString(ua) &&
           time_ok(ua->valuestring);
}

static bool cj_list_ok(const cJSON *o)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(o, "items");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(o, "next_after");
    if (!cJSON_IsArray(items) || !(cJSON_IsNull(next) || cJSON_IsNumber(next)))
        return false;
    const cJSON *it;
    cJSON_ArrayForEach(it, items) if (!cj_user_ok(it)) return false;
    return true;
}

static bool ja_user_ok(json_t *o)
{
    json_t *id = json_object_get(o, "id"), *un = json_object_get(o, "username"),
           *em = json_object_get(o, "email"), *ca = json_object_get(o, "created_at"),
           *ua = json_object_get(o, "updated_at");
    return json_is_object(o) && json_is_integer(id) && json_integer_value(id) >= 1 &&
           json_is_string(un) && alnum_3_32(json_string_value(un)) && json_is_string(em) &&
           email_ok(json_string_value(em)) && json_is_string(ca) &&
           time_ok(json_string_value(ca)) && json_is_string(ua) && time_ok(json_string_value(ua));
}

static bool ja_list_ok(json_t *o)
{
    json_t *items = json_object_get(o, "items"), *next = json_object_get(o, "next_after");
    if (!json_is_array(items) || !(json_is_null(next) || json_is_integer(next)))
        return false;
    size_t i;
    json_t *it;
    json_array_foreach(items, i, it) if (!ja_user_ok(it)) return false;
    return true;
}

/* ---------------------------------------------------------------- one iteration each */

typedef struct ctx {
    const char *doc;
    size_t len;
    bool list;
    char *work;
    rt_arena *arena;
    rt_buf out;
    size_t out_len; /* last output size, as a check */
} ctx;

static bool run_generated(ctx *c)
{
    memcpy(c->work, c->doc, c->len);
    rt_json_dec d;
    rt_path p;
    rt_errs e, ve;
    rt_json_dec_init(&d, c->work, c->len, RT_JSON_DEFAULT_DEPTH);
    rt_path_init(&p);
    rt_errs_init(&e);
    rt_errs_init(&ve);
    rt_buf_reset(&c->out);
    int rc;
    if (c->list) {
        api_user_list v;
        rc = api_user_list_decode(&d, c->arena, &p, &e, &v);
        if (rc == 0)
            rc = rt_json_finish(&d);
        if (rc == 0) {
            api_user_list_validate(&v, &p, &ve);
            api_user_list_encode(&v, &c->out);
        }
    } else {
        api_user v;
        rc = api_user_decode(&d, c->arena, &p, &e, &v);
        if (rc == 0)
            rc = rt_json_finish(&d);
        if (rc == 0) {
            api_user_validate(&v, &p, &ve);
            api_user_encode(&v, &c->out);
        }
    }
    rt_arena_reset(c->arena);
    c->out_len = c->out.len;
    return rc == 0 && e.n == 0 && ve.n == 0 && !c->out.oom;
}

static bool run_cjson(ctx *c)
{
    cJSON *t = cJSON_ParseWithLength(c->doc, c->len);
    bool ok = t && (c->list ? cj_list_ok(t) : cj_user_ok(t));
    char *s = ok ? cJSON_PrintUnformatted(t) : NULL;
    c->out_len = s ? strlen(s) : 0;
    cJSON_free(s);
    cJSON_Delete(t);
    return ok && s;
}

static bool run_jansson(ctx *c)
{
    json_error_t err;
    json_t *t = json_loadb(c->doc, c->len, 0, &err);
    bool ok = t && (c->list ? ja_list_ok(t) : ja_user_ok(t));
    char *s = ok ? json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    c->out_len = s ? strlen(s) : 0;
    free(s);
    json_decref(t);
    return ok && s;
}

/* ---------------------------------------------------------------- timing */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct result {
    double ns_per_doc, mb_s, allocs_per_doc;
    size_t out_len;
} result;

static result measure(bool (*fn)(ctx *), ctx *c, long iters)
{
    result r = { 0 };
    for (long i = 0; i < iters / 10 + 1; i++) /* warm-up */
        if (!fn(c)) {
            fprintf(stderr, "json_bench: a document failed to round-trip\n");
            exit(1);
        }
    double best = 1e30;
    for (int rep = 0; rep < 3; rep++) { /* best of three: the machine is shared */
        unsigned long long a0 = n_alloc;
        double t0 = now_s();
        for (long i = 0; i < iters; i++)
            (void)fn(c);
        double dt = now_s() - t0;
        r.allocs_per_doc = (double)(n_alloc - a0) / (double)iters;
        if (dt < best)
            best = dt;
    }
    r.ns_per_doc = best * 1e9 / (double)iters;
    r.mb_s = (double)c->len * (double)iters / best / 1e6;
    r.out_len = c->out_len;
    return r;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 200000;
    const char *only = argc > 2 ? argv[2] : NULL;
    if (iters < 1) {
        fprintf(stderr, "usage: json_bench [iterations >= 1]\n");
        return 2;
    }
    static char names[21][64];
    api_user users[20];
    for (int i = 0; i < 20; i++)
        make_user(&users[i], 4200 + i, names[i], sizeof names[i]);
    rt_buf ubuf, lbuf;
    rt_buf_init(&ubuf);
    rt_buf_init(&lbuf);
    api_user_encode(&users[0], &ubuf);
    api_user_list page = { users, 20, false, users[19].id };
    api_user_list_encode(&page, &lbuf);

    struct {
        const char *name;
        const rt_buf *doc;
        bool list;
        long iters;
    } docs[] = {
        { "User", &ubuf, false, iters },
        { "UserList (20 users)", &lbuf, true, iters / 20 > 0 ? iters / 20 : 1 },
    };
    struct {
        const char *name;
        bool (*fn)(ctx *);
    } libs[] = { { "generated", run_generated }, { "cJSON", run_cjson }, { "jansson", run_jansson } };

    printf("| document | bytes | library | ns/doc | MB/s | allocations/doc | × cJSON speed |\n");
    printf("|---|---:|---|---:|---:|---:|---:|\n");
    int rc = 0;
    for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
        ctx c = { docs[d].doc->data, docs[d].doc->len, docs[d].list, NULL, NULL, { 0 }, 0 };
        c.work = malloc(c.len + 1);
        c.arena = rt_arena_new(64 * 1024);
        rt_buf_init(&c.out);
        if (!c.work || !c.arena)
            return 1;
        result res[3];
        for (size_t l = 0; l < 3; l++)
            res[l] = only && strcmp(only, libs[l].name) != 0 ? (result){ 1, 0, 0, c.len }
                                                             : measure(libs[l].fn, &c, docs[d].iters);
        for (size_t l = 0; l < 3; l++) {
            if (only && strcmp(only, libs[l].name) != 0)
                continue;
            printf("| %s | %zu | %s | %.0f | %.0f | %.2f | %.2f |\n", docs[d].name, c.len,
                   libs[l].name, res[l].ns_per_doc, res[l].mb_s, res[l].allocs_per_doc,
                   res[1].ns_per_doc / res[l].ns_per_doc);
            if (l == 0 && res[l].allocs_per_doc != 0 && !(only && strcmp(only, "generated") != 0)) {
                fprintf(stderr, "json_bench: the generated codec allocated %.2f times per %s\n",
                        res[l].allocs_per_doc, docs[d].name);
                rc = 1;
            }
            if (res[l].out_len != c.len) {
                fprintf(stderr, "json_bench: %s wrote %zu bytes for a %zu-byte %s\n", libs[l].name,
                        res[l].out_len, c.len, docs[d].name);
                rc = 1;
            }
        }
        free(c.work);
        rt_arena_free(c.arena);
        rt_buf_free(&c.out);
    }
    rt_buf_free(&ubuf);
    rt_buf_free(&lbuf);
    return rc;
}
