/*
 * rt.c - the runtime's core: string views, status codes, the request arena,
 * growable buffers, JSON pointers being built, field-error lists, clocks.
 *
 * Invariants:
 *  - Arena: chunks form a singly linked list, newest first after the head.
 *    The first chunk lives in the same malloc block as the rt_arena header,
 *    so rt_arena_reset() can never lose it, and a recycled arena serves
 *    requests that fit in it without calling malloc. Every pointer handed out
 *    is 16-byte aligned.
 *  - rt_buf: data[0..len) is valid; cap >= len; once `oom` is set, nothing is
 *    appended until rt_buf_reset(). `limit` caps cap as well as len, so a
 *    hostile body cannot make us reserve more than the limit.
 *  - rt_path: buf is always NUL-terminated. Content is at most PATH_CONTENT
 *    bytes; a push that does not fit fills up to PATH_CONTENT and appends
 *    "...", leaving len == RT_PATH_MAX - 1, which is the "truncated" state
 *    (no untruncated path can be that long). Bytes before a push's returned
 *    length are never modified by that push, so rt_path_pop restores exactly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rt.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ================================================================ strings */

bool rt_str_eq(rt_str a, rt_str b)
{
    if (a.len != b.len)
        return false;
    /* memcmp with NULL is UB even for 0 bytes; empty views may carry NULL. */
    return a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0;
}

bool rt_str_eq_cstr(rt_str a, const char *b)
{
    size_t n = strlen(b);
    return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

static inline unsigned char ascii_lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool rt_str_ieq_cstr(rt_str a, const char *b)
{
    size_t i = 0;
    for (; i < a.len; i++) {
        unsigned char cb = (unsigned char)b[i];
        if (cb == 0)
            return false;
        if (ascii_lower((unsigned char)a.ptr[i]) != ascii_lower(cb))
            return false;
    }
    return b[i] == 0;
}

/* ================================================================ status */

static const struct {
    int http;
    const char *name;
} status_tab[RT_STATUS_COUNT] = {
    [RT_OK] = { 200, "OK" },
    [RT_E_BAD_REQUEST] = { 400, "BAD_REQUEST" },
    [RT_E_VALIDATION] = { 400, "VALIDATION_ERROR" },
    [RT_E_UNAUTHORIZED] = { 401, "UNAUTHORIZED" },
    [RT_E_NOT_FOUND] = { 404, "NOT_FOUND" },
    [RT_E_METHOD_NOT_ALLOWED] = { 405, "METHOD_NOT_ALLOWED" },
    [RT_E_CONFLICT] = { 409, "CONFLICT" },
    [RT_E_PAYLOAD_TOO_LARGE] = { 413, "PAYLOAD_TOO_LARGE" },
    [RT_E_UNSUPPORTED_MEDIA_TYPE] = { 415, "UNSUPPORTED_MEDIA_TYPE" },
    [RT_E_RATE_LIMITED] = { 429, "RATE_LIMITED" },
    [RT_E_INTERNAL] = { 500, "INTERNAL" },
    [RT_E_UNAVAILABLE] = { 503, "UNAVAILABLE" },
    [RT_E_TIMEOUT] = { 504, "TIMEOUT" },
    [RT_E_NOT_IMPLEMENTED] = { 501, "NOT_IMPLEMENTED" },
};

/* An out-of-range value is a programming error upstream; answering 500
 * INTERNAL keeps the client from seeing garbage. */
int rt_status_http(rt_status st)
{
    if ((unsigned)st >= RT_STATUS_COUNT)
        return 500;
    return status_tab[st].http;
}

const char *rt_status_name(rt_status st)
{
    if ((unsigned)st >= RT_STATUS_COUNT)
        return "INTERNAL";
    return status_tab[st].name;
}

/* ================================================================ arena */

#define ARENA_ALIGN 16u
#define ARENA_MIN_CHUNK 1024u
/* Growth doubles up to this size; bigger requests get a chunk of their own. */
#define ARENA_MAX_GROW (1u << 20)

typedef struct chunk {
    struct chunk *next;
    size_t size; /* usable bytes after the header */
    size_t used;
} chunk;

struct rt_arena {
    chunk *cur;        /* chunk bump allocations come from */
    chunk *extra;      /* chunks malloc'd after the first (all freed on reset) */
    size_t reserved;   /* bytes of every malloc block we hold */
    size_t next_size;  /* usable size of the next growth chunk */
    chunk head;        /* the first chunk; its data follows this struct */
};

static inline size_t align_up(size_t n)
{
    return (n + (ARENA_ALIGN - 1)) & ~(size_t)(ARENA_ALIGN - 1);
}

/* Offset from the start of the malloc block to the first chunk's data. */
#define ARENA_HDR (((sizeof(struct rt_arena)) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))
#define CHUNK_HDR (((sizeof(chunk)) + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1))

static inline char *chunk_data(const rt_arena *a, chunk *c)
{
    if (c == &a->head)
        return (char *)a + ARENA_HDR;
    return (char *)c + CHUNK_HDR;
}

rt_arena *rt_arena_new(size_t first_chunk)
{
    if (first_chunk < ARENA_MIN_CHUNK)
        first_chunk = ARENA_MIN_CHUNK;
    if (first_chunk > SIZE_MAX / 2)
        return NULL;
    first_chunk = align_up(first_chunk);
    /* malloc's alignment (16 on x86-64 glibc) is what makes data aligned;
     * aligned_alloc states it rather than relying on the platform. */
    size_t total = ARENA_HDR + first_chunk;
    rt_arena *a = aligned_alloc(ARENA_ALIGN, align_up(total));
    if (!a)
        return NULL;
    a->head.next = NULL;
    a->head.size = first_chunk;
    a->head.used = 0;
    a->cur = &a->head;
    a->extra = NULL;
    a->reserved = align_up(total);
    a->next_size = first_chunk * 2 < ARENA_MAX_GROW ? first_chunk * 2 : ARENA_MAX_GROW;
    if (a->next_size < first_chunk)
        a->next_size = first_chunk;
    return a;
}

static void free_extra(rt_arena *a)
{
    chunk *c = a->extra;
    while (c) {
        chunk *n = c->next;
        free(c);
        c = n;
    }
    a->extra = NULL;
}

void rt_arena_free(rt_arena *a)
{
    if (!a)
        return;
    free_extra(a);
    free(a);
}

void rt_arena_reset(rt_arena *a)
{
    free_extra(a);
    a->head.used = 0;
    a->cur = &a->head;
    a->reserved = align_up(ARENA_HDR + a->head.size);
    a->next_size = a->head.size * 2 < ARENA_MAX_GROW ? a->head.size * 2 : ARENA_MAX_GROW;
    if (a->next_size < a->head.size)
        a->next_size = a->head.size;
}

/* Slow path of rt_arena_alloc: a new chunk. A request larger than half the
 * growth size gets a chunk of exactly its size that does not become `cur`,
 * so one big array does not strand the free tail of the current chunk. */
static void *arena_grow(rt_arena *a, size_t size)
{
    bool dedicated = size > a->next_size / 2;
    size_t usable = dedicated ? size : a->next_size;
    if (usable > SIZE_MAX - CHUNK_HDR - ARENA_ALIGN)
        return NULL;
    chunk *c = aligned_alloc(ARENA_ALIGN, align_up(CHUNK_HDR + usable));
    if (!c)
        return NULL;
    c->size = usable;
    c->used = size;
    c->next = a->extra;
    a->extra = c;
    a->reserved += align_up(CHUNK_HDR + usable);
    if (!dedicated) {
        a->cur = c;
        if (a->next_size < ARENA_MAX_GROW)
            a->next_size *= 2;
    }
    return (char *)c + CHUNK_HDR;
}

void *rt_arena_alloc(rt_arena *a, size_t size)
{
    if (size > SIZE_MAX - ARENA_ALIGN)
        return NULL;
    size = align_up(size);
    chunk *c = a->cur;
    if (c->size - c->used >= size) {
        void *p = chunk_data(a, c) + c->used;
        c->used += size;
        return p;
    }
    return arena_grow(a, size);
}

bool rt_arena_extend(rt_arena *a, void *p, size_t old_size, size_t new_size)
{
    chunk *c = a->cur;
    char *data = chunk_data(a, c);
    if (p == NULL || old_size > SIZE_MAX - ARENA_ALIGN || new_size > SIZE_MAX - ARENA_ALIGN)
        return false;
    size_t old_al = align_up(old_size), new_al = align_up(new_size);
    /* As integers: p may come from anywhere, and only equality decides. */
    if (old_al > c->used || (uintptr_t)p != (uintptr_t)data + (c->used - old_al))
        return false;
    size_t start = c->used - old_al;
    if (new_al > c->size - start)
        return false;
    c->used = start + new_al;
    return true;
}

rt_str rt_arena_strdup(rt_arena *a, const char *s, size_t len)
{
    if (len == SIZE_MAX)
        return RT_STR_NULL;
    char *p = rt_arena_alloc(a, len + 1);
    if (!p)
        return RT_STR_NULL;
    if (len)
        memcpy(p, s, len);
    p[len] = 0;
    return (rt_str){ p, len };
}

size_t rt_arena_reserved(const rt_arena *a)
{
    return a->reserved;
}

/* ================================================================ buffers */

#define BUF_MIN_CAP 256u

void rt_buf_init(rt_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->limit = 0;
    b->oom = false;
}

void rt_buf_free(rt_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->oom = false;
}

void rt_buf_reset(rt_buf *b)
{
    b->len = 0;
    b->oom = false;
}

bool rt__buf_grow(rt_buf *b, size_t extra)
{
    if (b->oom)
        return false;
    if (b->cap - b->len >= extra)
        return true;
    if (extra > SIZE_MAX - b->len)
        goto fail;
    size_t need = b->len + extra;
    if (b->limit && need > b->limit)
        goto fail;
    size_t ncap = b->cap ? b->cap : BUF_MIN_CAP;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) {
            ncap = need;
            break;
        }
        ncap *= 2;
    }
    if (b->limit && ncap > b->limit)
        ncap = b->limit;
    char *nd = realloc(b->data, ncap);
    if (!nd)
        goto fail;
    b->data = nd;
    b->cap = ncap;
    return true;
fail:
    b->oom = true;
    return false;
}

void rt__buf_put_slow(rt_buf *b, const void *p, size_t n)
{
    if (n == 0 || !rt_buf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void rt__buf_putc_slow(rt_buf *b, char c)
{
    if (!rt_buf_reserve(b, 1))
        return;
    b->data[b->len++] = c;
}

void rt_buf_puts(rt_buf *b, const char *s)
{
    rt_buf_put(b, s, strlen(s));
}

void rt_buf_put_str(rt_buf *b, rt_str s)
{
    rt_buf_put(b, s.ptr, s.len);
}

/* Digits are produced backwards into the tail of a stack buffer. */
static size_t fmt_u64(char *end, uint64_t v)
{
    char *p = end;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return (size_t)(end - p);
}

void rt_buf_put_u64(rt_buf *b, uint64_t v)
{
    char tmp[24];
    size_t n = fmt_u64(tmp + sizeof tmp, v);
    rt_buf_put(b, tmp + sizeof tmp - n, n);
}

void rt_buf_put_i64(rt_buf *b, int64_t v)
{
    char tmp[24];
    /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    size_t n = fmt_u64(tmp + sizeof tmp, u);
    if (v < 0) {
        tmp[sizeof tmp - n - 1] = '-';
        n++;
    }
    rt_buf_put(b, tmp + sizeof tmp - n, n);
}

/* ================================================================ JSON pointers */

/* Room for content; the last 4 bytes hold "..." and the NUL. */
#define PATH_CONTENT (RT_PATH_MAX - 4)
#define PATH_TRUNC (RT_PATH_MAX - 1)

void rt_path_init(rt_path *p)
{
    p->len = 0;
    p->buf[0] = 0;
    p->pend = NULL;
    p->pend_len = 0;
}

static void path_truncate(rt_path *p)
{
    memcpy(p->buf + PATH_CONTENT, "...", 4);
    p->len = PATH_TRUNC;
}

static inline bool path_put(rt_path *p, char c)
{
    if (p->len >= PATH_CONTENT)
        return false;
    p->buf[p->len++] = c;
    return true;
}

/* Appends "/" and the escaped key to buf (what a push did before keys were
 * kept pending). */
static void path_put_key(rt_path *p, const char *key, size_t len)
{
    size_t prev = p->len;
    if (prev == PATH_TRUNC)
        return;
    /* Fast path: the key fits and has nothing to escape. Bytes past prev
     * are scratch, so giving up half way and starting over is harmless. */
    if (len < PATH_CONTENT - prev) {
        char *o = p->buf + prev + 1;
        size_t i = 0;
        for (; i < len && key[i] != '~' && key[i] != '/'; i++)
            o[i] = key[i];
        if (i == len) {
            o[-1] = '/';
            o[len] = 0;
            p->len = prev + 1 + len;
            return;
        }
    }
    bool ok = path_put(p, '/');
    for (size_t i = 0; ok && i < len; i++) {
        char c = key[i];
        /* RFC 6901: '~' -> "~0", '/' -> "~1". */
        if (c == '~')
            ok = path_put(p, '~') && path_put(p, '0');
        else if (c == '/')
            ok = path_put(p, '~') && path_put(p, '1');
        else
            ok = path_put(p, c);
    }
    if (!ok)
        path_truncate(p);
    else
        p->buf[p->len] = 0;
}

void rt__path_flush(rt_path *p)
{
    const char *key = p->pend;
    p->pend = NULL;
    path_put_key(p, key, p->pend_len);
}

const char *rt_path_str(rt_path *p)
{
    if (p->pend)
        rt__path_flush(p);
    return p->buf;
}

size_t rt_path_push_index(rt_path *p, size_t index)
{
    if (p->pend)
        rt__path_flush(p);
    size_t prev = p->len;
    if (prev == PATH_TRUNC)
        return prev;
    char tmp[24];
    size_t n = fmt_u64(tmp + sizeof tmp, index);
    bool ok = path_put(p, '/');
    for (size_t i = 0; ok && i < n; i++)
        ok = path_put(p, tmp[sizeof tmp - n + i]);
    if (!ok)
        path_truncate(p);
    else
        p->buf[p->len] = 0;
    return prev;
}

/* ================================================================ field errors */

void rt_errs_init(rt_errs *e)
{
    e->n = 0;
    e->dropped = 0;
}

/* Returns the slot to fill, or NULL (and counts the drop) when full. */
static rt_field_err *errs_slot(rt_errs *e, const char *reason)
{
    if (e->n >= RT_ERRS_MAX) {
        e->dropped++;
        return NULL;
    }
    rt_field_err *f = &e->e[e->n++];
    f->reason = reason;
    f->field[0] = 0;
    return f;
}

/* Appends NUL-terminated s at *pos, never past RT_FIELD_MAX - 1. */
static void field_cat(char *dst, size_t *pos, const char *s)
{
    size_t i = *pos;
    while (*s && i < RT_FIELD_MAX - 1)
        dst[i++] = *s++;
    dst[i] = 0;
    *pos = i;
}

void rt_errs_add(rt_errs *e, const char *field, const char *reason)
{
    rt_field_err *f = errs_slot(e, reason);
    if (!f)
        return;
    size_t pos = 0;
    field_cat(f->field, &pos, field ? field : "");
}

void rt_errs_add_path(rt_errs *e, const rt_path *path, const char *reason)
{
    rt_field_err *f = errs_slot(e, reason);
    if (!f)
        return;
    /* The error branch pays for the pending key: on a copy, as path is the
     * caller's and const. */
    rt_path tmp;
    const rt_path *p = path;
    if (path->pend) {
        tmp = *path;
        rt__path_flush(&tmp);
        p = &tmp;
    }
    if (p->len < RT_FIELD_MAX) {
        memcpy(f->field, p->buf, p->len);
        f->field[p->len] = 0;
    } else {
        /* Mark the cut like rt_path does, so a client never mistakes a
         * prefix for the real pointer. */
        memcpy(f->field, p->buf, RT_FIELD_MAX - 4);
        memcpy(f->field + RT_FIELD_MAX - 4, "...", 4);
    }
}

void rt_errs_add_key(rt_errs *e, rt_path *p, const char *key, size_t len, const char *reason)
{
    size_t mark = rt_path_push_key(p, key, len);
    rt_errs_add_path(e, p, reason);
    rt_path_pop(p, mark);
}

void rt_errs_add_param(rt_errs *e, const char *in_prefix, const char *name, const char *reason)
{
    rt_field_err *f = errs_slot(e, reason);
    if (!f)
        return;
    size_t pos = 0;
    field_cat(f->field, &pos, in_prefix ? in_prefix : "");
    field_cat(f->field, &pos, name ? name : "");
}

/* ================================================================ time */

int64_t rt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t rt_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* True when `anc` is `ptr` or one of its ancestors ("" is everyone's). */
static bool pointer_covers(const char *anc, const char *ptr)
{
    size_t n = strlen(anc);
    return strncmp(anc, ptr, n) == 0 && (ptr[n] == '\0' || ptr[n] == '/');
}

void rt_errs_merge(rt_errs *e, const rt_errs *more)
{
    unsigned before = e->n;
    for (unsigned i = 0; i < more->n; i++) {
        bool covered = false;
        for (unsigned k = 0; k < before && !covered; k++)
            covered = pointer_covers(e->e[k].field, more->e[i].field);
        if (!covered)
            rt_errs_add(e, more->e[i].field, more->e[i].reason);
    }
    /* Whether those were covered is unknown; say they exist. */
    e->dropped += more->dropped;
}
