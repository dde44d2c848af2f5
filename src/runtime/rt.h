/*
 * rt.h - the runtime's core vocabulary: string views, status codes, the request
 * arena, growable byte buffers, field-error lists with JSON pointers, and time.
 *
 * Invariants:
 *  - rt_str is a view; it never owns memory and is never assumed NUL-terminated.
 *  - Functions that can fail return rt_status (RT_OK == 0) or a negative int;
 *    out of memory is reported, never abort()ed on.
 *  - The runtime includes nothing from generated/ or src/service/.
 */
#ifndef RT_H
#define RT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Bumped whenever generated code would need to change to keep compiling/working. */
#define RT_ABI 1

/* ---------------------------------------------------------------- strings */

typedef struct rt_str {
    const char *ptr;
    size_t len;
} rt_str;

#define RT_STR(lit) ((rt_str){ (lit), sizeof(lit) - 1 })
#define RT_STR_NULL ((rt_str){ NULL, 0 })

bool rt_str_eq(rt_str a, rt_str b);
bool rt_str_eq_cstr(rt_str a, const char *b);
/* ASCII case-insensitive comparison (header names, media types). */
bool rt_str_ieq_cstr(rt_str a, const char *b);

/* ---------------------------------------------------------------- status */

/* One status per envelope code of DESIGN.md; RT_OK is 0. */
typedef enum rt_status {
    RT_OK = 0,
    RT_E_BAD_REQUEST,            /* 400 BAD_REQUEST */
    RT_E_VALIDATION,             /* 400 VALIDATION_ERROR */
    RT_E_UNAUTHORIZED,           /* 401 */
    RT_E_NOT_FOUND,              /* 404 */
    RT_E_METHOD_NOT_ALLOWED,     /* 405 */
    RT_E_CONFLICT,               /* 409 */
    RT_E_PAYLOAD_TOO_LARGE,      /* 413 */
    RT_E_UNSUPPORTED_MEDIA_TYPE, /* 415 */
    RT_E_RATE_LIMITED,           /* 429 */
    RT_E_INTERNAL,               /* 500 */
    RT_E_UNAVAILABLE,            /* 503 */
    RT_E_TIMEOUT,                /* 504 */
    RT_E_NOT_IMPLEMENTED,        /* 501: an operation with no implementation yet */
    RT_STATUS_COUNT
} rt_status;

/* HTTP status for a code (RT_OK -> 200). */
int rt_status_http(rt_status st);
/* Envelope code string, e.g. "NOT_FOUND" (RT_OK -> "OK"). Static storage. */
const char *rt_status_name(rt_status st);

/* ---------------------------------------------------------------- arena */

/*
 * Bump allocator owned by one request at a time. rt_arena_reset() frees
 * everything handed out since the last reset and keeps the first chunk, so a
 * recycled arena does not touch malloc for requests that fit in it.
 */
typedef struct rt_arena rt_arena;

rt_arena *rt_arena_new(size_t first_chunk);
void rt_arena_free(rt_arena *a);
void rt_arena_reset(rt_arena *a);
/* 16-byte aligned; NULL when out of memory. size 0 returns a valid pointer. */
void *rt_arena_alloc(rt_arena *a, size_t size);
/* Grow p, the latest block handed out (old_size bytes, as asked for), to
 * new_size bytes where it is: true when done (p keeps its contents), false
 * when p is not the latest block or its chunk has no room (nothing changes;
 * allocate and copy instead). Lets an array decoded element by element grow
 * without copies. */
bool rt_arena_extend(rt_arena *a, void *p, size_t old_size, size_t new_size);
/* Copy of s (NUL-terminated for convenience); ptr NULL when out of memory. */
rt_str rt_arena_strdup(rt_arena *a, const char *s, size_t len);
/* Total bytes currently reserved from malloc (for tests and metrics). */
size_t rt_arena_reserved(const rt_arena *a);

/* ---------------------------------------------------------------- buffers */

/*
 * Growable byte buffer. Appends never fail loudly: on out of memory `oom` is
 * set, further appends are ignored, and the owner checks `oom` once at the end.
 * `limit` (0 = none) caps growth the same way.
 */
typedef struct rt_buf {
    char *data;
    size_t len;
    size_t cap;
    size_t limit;
    bool oom;
} rt_buf;

void rt_buf_init(rt_buf *b);
void rt_buf_free(rt_buf *b);
/* len = 0, oom = false; keeps the memory. */
void rt_buf_reset(rt_buf *b);
/* Ensure room for `extra` more bytes; false (and oom set) on failure. */
bool rt__buf_grow(rt_buf *b, size_t extra);
static inline bool rt_buf_reserve(rt_buf *b, size_t extra)
{
    if (!b->oom && b->cap - b->len >= extra)
        return true;
    return rt__buf_grow(b, extra);
}
/* rt_buf_put and rt_buf_putc are inline: encoders call them for every key
 * and separator, and with a constant n the copy becomes a few moves. The
 * out-of-line halves grow the buffer. */
void rt__buf_put_slow(rt_buf *b, const void *p, size_t n);
void rt__buf_putc_slow(rt_buf *b, char c);
static inline void rt_buf_put(rt_buf *b, const void *p, size_t n)
{
    if (n != 0 && n <= b->cap - b->len && !b->oom) {
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return;
    }
    rt__buf_put_slow(b, p, n);
}
static inline void rt_buf_putc(rt_buf *b, char c)
{
    if (b->len < b->cap && !b->oom) {
        b->data[b->len++] = c;
        return;
    }
    rt__buf_putc_slow(b, c);
}
void rt_buf_puts(rt_buf *b, const char *s);
void rt_buf_put_str(rt_buf *b, rt_str s);
/* Decimal integers. */
void rt_buf_put_i64(rt_buf *b, int64_t v);
void rt_buf_put_u64(rt_buf *b, uint64_t v);

/* ---------------------------------------------------------------- field errors */

/*
 * A JSON pointer being built while walking a document: push a key or an
 * index before descending, pop after. Keys are escaped (~0, ~1). A pointer
 * longer than the buffer is truncated and marked with "...".
 *
 * The last key pushed is only remembered (pend), not written: most members
 * are scalars that are read and popped without an error, and writing their
 * name would be wasted. It is written into buf when something is pushed on
 * top of it, when an error is recorded at the path (rt_errs_add_path), or by
 * rt_path_str. So the key's bytes must stay as they are until it is popped:
 * string literals, and keys decoded in place (nothing before a value's
 * start is written again), are.
 */
#define RT_PATH_MAX 256
typedef struct rt_path {
    char buf[RT_PATH_MAX]; /* the pointer without pend; NUL-terminated */
    size_t len;
    const char *pend; /* the last key pushed, not yet in buf; NULL if none */
    size_t pend_len;
} rt_path;

void rt_path_init(rt_path *p);
/* Writes the pending key into buf (for rt_path_push_key). */
void rt__path_flush(rt_path *p);
/* Returns the previous length, to pass to rt_path_pop. */
static inline size_t rt_path_push_key(rt_path *p, const char *key, size_t len)
{
    if (p->pend)
        rt__path_flush(p);
    p->pend = key ? key : ""; /* NULL means "none pending" */
    p->pend_len = len;
    return p->len;
}
size_t rt_path_push_index(rt_path *p, size_t index);
static inline void rt_path_pop(rt_path *p, size_t prev_len)
{
    p->pend = NULL; /* a pop always removes the last push */
    if (prev_len > p->len)
        return;
    p->len = prev_len;
    p->buf[prev_len] = 0;
}
/* The whole pointer, NUL-terminated (writes the pending key first). */
const char *rt_path_str(rt_path *p);

/*
 * Every field error of one request, reported together. `field` is a JSON
 * pointer into the body ("/email", "" for the whole body) or "<in>.<name>"
 * for a parameter ("path.id", "query.limit"). `reason` points to static
 * storage (generated code passes string literals). Past RT_ERRS_MAX the
 * count goes on in `dropped`.
 */
#define RT_ERRS_MAX 16
#define RT_FIELD_MAX 128
typedef struct rt_field_err {
    char field[RT_FIELD_MAX];
    const char *reason;
} rt_field_err;

typedef struct rt_errs {
    unsigned n;
    unsigned dropped;
    rt_field_err e[RT_ERRS_MAX];
} rt_errs;

void rt_errs_init(rt_errs *e);
/* field: NUL-terminated; copied (truncated to RT_FIELD_MAX - 1). */
void rt_errs_add(rt_errs *e, const char *field, const char *reason);
/* field = the path's current pointer. */
void rt_errs_add_path(rt_errs *e, const rt_path *p, const char *reason);
/* field = the path's current pointer with key pushed (p is as it was after):
 * validators check a member first and name it only when a check fails. */
void rt_errs_add_key(rt_errs *e, rt_path *p, const char *key, size_t len, const char *reason);
/*
 * Append the errors of `more` (a validator's findings) to e, except those at
 * a pointer where e already has an error, or below one: a field that failed
 * to decode (missing, wrong type) is not also reported as too short.
 */
void rt_errs_merge(rt_errs *e, const rt_errs *more);
/* field = "<prefix><name>", for parameters: rt_errs_add_param(e, "query.", "limit", ...). */
void rt_errs_add_param(rt_errs *e, const char *in_prefix, const char *name, const char *reason);

/* ---------------------------------------------------------------- time */

/* Wall clock, microseconds since the Unix epoch (UTC). */
int64_t rt_now_us(void);
/* Monotonic clock in milliseconds, for deadlines. */
int64_t rt_mono_ms(void);

#endif
