/*
 * rt_test.c - unit tests of src/runtime/rt.c: string views, status table,
 * arena, rt_buf, JSON pointers being built, field-error lists, clocks.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "rt.h"

/* ================================================================ strings */

Test(rt_str, equality)
{
    cr_assert(rt_str_eq(RT_STR("abc"), RT_STR("abc")));
    cr_assert(!rt_str_eq(RT_STR("abc"), RT_STR("abd")));
    cr_assert(!rt_str_eq(RT_STR("abc"), RT_STR("ab")));
    cr_assert(rt_str_eq(RT_STR_NULL, RT_STR("")));
    cr_assert(rt_str_eq_cstr(RT_STR("abc"), "abc"));
    cr_assert(!rt_str_eq_cstr(RT_STR("abc"), "abcd"));
    cr_assert(rt_str_eq_cstr(RT_STR_NULL, ""));
    /* a view is not NUL-terminated: only len bytes count */
    rt_str v = { "abcdef", 3 };
    cr_assert(rt_str_eq_cstr(v, "abc"));
}

Test(rt_str, case_insensitive)
{
    cr_assert(rt_str_ieq_cstr(RT_STR("Content-Type"), "content-type"));
    cr_assert(rt_str_ieq_cstr(RT_STR("APPLICATION/JSON"), "application/json"));
    cr_assert(!rt_str_ieq_cstr(RT_STR("abc"), "abcd"));
    cr_assert(!rt_str_ieq_cstr(RT_STR("abcd"), "abc"));
    cr_assert(!rt_str_ieq_cstr(RT_STR("a[c"), "a{c")); /* '[' is not '{' lowered */
    cr_assert(rt_str_ieq_cstr(RT_STR_NULL, ""));
}

/* ================================================================ status */

Test(rt_status, every_code)
{
    static const struct {
        rt_status st;
        int http;
        const char *name;
    } want[] = {
        { RT_OK, 200, "OK" },
        { RT_E_BAD_REQUEST, 400, "BAD_REQUEST" },
        { RT_E_VALIDATION, 400, "VALIDATION_ERROR" },
        { RT_E_UNAUTHORIZED, 401, "UNAUTHORIZED" },
        { RT_E_NOT_FOUND, 404, "NOT_FOUND" },
        { RT_E_METHOD_NOT_ALLOWED, 405, "METHOD_NOT_ALLOWED" },
        { RT_E_CONFLICT, 409, "CONFLICT" },
        { RT_E_PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE" },
        { RT_E_UNSUPPORTED_MEDIA_TYPE, 415, "UNSUPPORTED_MEDIA_TYPE" },
        { RT_E_RATE_LIMITED, 429, "RATE_LIMITED" },
        { RT_E_INTERNAL, 500, "INTERNAL" },
        { RT_E_UNAVAILABLE, 503, "UNAVAILABLE" },
        { RT_E_TIMEOUT, 504, "TIMEOUT" },
        { RT_E_NOT_IMPLEMENTED, 501, "NOT_IMPLEMENTED" },
    };
    cr_assert_eq(sizeof want / sizeof want[0], RT_STATUS_COUNT, "table must cover every code");
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        cr_assert_eq(rt_status_http(want[i].st), want[i].http, "code %d", (int)want[i].st);
        cr_assert_str_eq(rt_status_name(want[i].st), want[i].name);
    }
    /* out of range is treated as an internal error, never garbage */
    cr_assert_eq(rt_status_http(RT_STATUS_COUNT), 500);
    cr_assert_str_eq(rt_status_name((rt_status)999), "INTERNAL");
    cr_assert_eq(RT_OK, 0);
}

/* ================================================================ arena */

Test(rt_arena, extend_latest_block_in_place)
{
    rt_arena *a = rt_arena_new(1024);
    cr_assert_not_null(a);
    unsigned char *p = rt_arena_alloc(a, 40);
    memset(p, 7, 40);
    cr_assert(rt_arena_extend(a, p, 40, 100), "the latest block grows in place");
    memset(p + 40, 8, 60);
    unsigned char *q = rt_arena_alloc(a, 16);
    cr_assert_geq(q, p + 100, "later blocks start past the grown one");
    cr_assert_eq(p[0], 7);
    cr_assert_eq(p[99], 8);
    cr_assert_not(rt_arena_extend(a, p, 100, 200), "not the latest block any more");
    cr_assert(rt_arena_extend(a, q, 16, 32));
    cr_assert_not(rt_arena_extend(a, q, 32, 4096), "no room in the chunk: nothing changes");
    unsigned char *r = rt_arena_alloc(a, 16);
    cr_assert_eq(r, q + 32, "a refused extend leaves the bump pointer");
    cr_assert_not(rt_arena_extend(a, NULL, 0, 16));
    unsigned char big_stack[8];
    cr_assert_not(rt_arena_extend(a, big_stack, 8, 16), "a block from elsewhere");
    rt_arena_free(a);
}

Test(rt_arena, alignment_and_disjoint)
{
    rt_arena *a = rt_arena_new(1024);
    cr_assert_not_null(a);
    unsigned char *prev = NULL;
    size_t prev_size = 0;
    for (size_t size = 1; size < 300; size += 7) {
        unsigned char *p = rt_arena_alloc(a, size);
        cr_assert_not_null(p);
        cr_assert_eq((uintptr_t)p % 16, 0, "size %zu not 16-aligned", size);
        memset(p, (int)size, size); /* ASan checks the block is ours */
        if (prev)
            cr_assert_eq(prev[prev_size - 1], (unsigned char)prev_size, "allocation overwrote the previous one");
        prev = p;
        prev_size = size;
    }
    void *z = rt_arena_alloc(a, 0);
    cr_assert_not_null(z);
    cr_assert_eq((uintptr_t)z % 16, 0);
    rt_arena_free(a);
}

Test(rt_arena, growth_keeps_contents)
{
    rt_arena *a = rt_arena_new(1024);
    size_t r0 = rt_arena_reserved(a);
    cr_assert_geq(r0, 1024);
    unsigned char *blocks[64];
    for (int i = 0; i < 64; i++) {
        blocks[i] = rt_arena_alloc(a, 1000);
        cr_assert_not_null(blocks[i]);
        memset(blocks[i], i, 1000);
    }
    cr_assert_gt(rt_arena_reserved(a), r0 + 60 * 1000);
    for (int i = 0; i < 64; i++)
        for (int k = 0; k < 1000; k++)
            cr_assert_eq(blocks[i][k], (unsigned char)i);
    /* one big allocation gets its own chunk */
    unsigned char *big = rt_arena_alloc(a, 4u << 20);
    cr_assert_not_null(big);
    memset(big, 0xAB, 4u << 20);
    cr_assert_geq(rt_arena_reserved(a), (size_t)(4u << 20));
    /* and the current chunk keeps serving small ones */
    cr_assert_not_null(rt_arena_alloc(a, 16));
    rt_arena_free(a);
}

Test(rt_arena, reset_keeps_first_chunk)
{
    rt_arena *a = rt_arena_new(4096);
    size_t r0 = rt_arena_reserved(a);
    cr_assert_geq(r0, 4096);
    void *p0 = rt_arena_alloc(a, 100);
    for (int i = 0; i < 100; i++)
        cr_assert_not_null(rt_arena_alloc(a, 500));
    cr_assert_gt(rt_arena_reserved(a), r0);
    rt_arena_reset(a);
    cr_assert_eq(rt_arena_reserved(a), r0, "reset must free every chunk but the first");
    /* the first chunk is reused from its start */
    cr_assert_eq(rt_arena_alloc(a, 100), p0);
    /* fits in the first chunk: no growth */
    cr_assert_not_null(rt_arena_alloc(a, 3000));
    cr_assert_eq(rt_arena_reserved(a), r0);
    rt_arena_reset(a);
    rt_arena_reset(a); /* idempotent */
    cr_assert_eq(rt_arena_reserved(a), r0);
    rt_arena_free(a);
}

Test(rt_arena, tiny_first_chunk_and_overflow)
{
    rt_arena *a = rt_arena_new(0);
    cr_assert_not_null(a);
    cr_assert_not_null(rt_arena_alloc(a, 10));
    cr_assert_null(rt_arena_alloc(a, SIZE_MAX));
    cr_assert_null(rt_arena_alloc(a, SIZE_MAX - 8));
    /* still usable after a failed request */
    cr_assert_not_null(rt_arena_alloc(a, 10));
    cr_assert_null(rt_arena_new(SIZE_MAX));
    rt_arena_free(a);
    rt_arena_free(NULL);
}

Test(rt_arena, strdup)
{
    rt_arena *a = rt_arena_new(256);
    rt_str s = rt_arena_strdup(a, "hello world", 5);
    cr_assert_not_null(s.ptr);
    cr_assert_eq(s.len, 5);
    cr_assert_str_eq(s.ptr, "hello");
    rt_str e = rt_arena_strdup(a, NULL, 0);
    cr_assert_not_null(e.ptr);
    cr_assert_eq(e.len, 0);
    cr_assert_eq(e.ptr[0], 0);
    rt_arena_free(a);
}

/* ================================================================ buffers */

Test(rt_buf, growth)
{
    rt_buf b;
    rt_buf_init(&b);
    for (int i = 0; i < 100000; i++)
        rt_buf_putc(&b, (char)('a' + i % 26));
    cr_assert(!b.oom);
    cr_assert_eq(b.len, 100000);
    cr_assert_geq(b.cap, b.len);
    for (int i = 0; i < 100000; i++)
        cr_assert_eq(b.data[i], (char)('a' + i % 26));
    rt_buf_reset(&b);
    cr_assert_eq(b.len, 0);
    size_t cap = b.cap;
    rt_buf_puts(&b, "xyz");
    rt_buf_put_str(&b, RT_STR("123"));
    rt_buf_put(&b, "", 0);
    cr_assert_eq(b.cap, cap, "reset keeps memory");
    cr_assert_eq(b.len, 6);
    cr_assert_eq(memcmp(b.data, "xyz123", 6), 0);
    rt_buf_free(&b);
    cr_assert_null(b.data);
    rt_buf_free(&b); /* twice is harmless */
}

Test(rt_buf, limit_sets_oom_and_is_sticky)
{
    rt_buf b;
    rt_buf_init(&b);
    b.limit = 100;
    char chunk[60];
    memset(chunk, 'x', sizeof chunk);
    rt_buf_put(&b, chunk, 60);
    cr_assert(!b.oom);
    cr_assert_eq(b.len, 60);
    cr_assert_leq(b.cap, 100, "cap never exceeds the limit");
    rt_buf_put(&b, chunk, 60); /* would reach 120 */
    cr_assert(b.oom);
    cr_assert_eq(b.len, 60, "a failed append leaves the buffer unchanged");
    /* sticky: even appends that would fit are ignored */
    rt_buf_putc(&b, 'y');
    rt_buf_put(&b, "ab", 2);
    rt_buf_put_i64(&b, 7);
    cr_assert_eq(b.len, 60);
    cr_assert(!rt_buf_reserve(&b, 1));
    /* reset clears it */
    rt_buf_reset(&b);
    cr_assert(!b.oom);
    rt_buf_put(&b, chunk, 60);
    rt_buf_put(&b, chunk, 40);
    cr_assert(!b.oom);
    cr_assert_eq(b.len, 100);
    rt_buf_putc(&b, 'z');
    cr_assert(b.oom);
    cr_assert_eq(b.len, 100);
    rt_buf_free(&b);
}

Test(rt_buf, reserve_overflow)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_buf_putc(&b, 'a');
    cr_assert(!rt_buf_reserve(&b, SIZE_MAX));
    cr_assert(b.oom);
    rt_buf_free(&b);
}

Test(rt_buf, integers)
{
    rt_buf b;
    rt_buf_init(&b);
    rt_buf_put_i64(&b, 0);
    rt_buf_putc(&b, ' ');
    rt_buf_put_i64(&b, -1);
    rt_buf_putc(&b, ' ');
    rt_buf_put_i64(&b, INT64_MAX);
    rt_buf_putc(&b, ' ');
    rt_buf_put_i64(&b, INT64_MIN);
    rt_buf_putc(&b, ' ');
    rt_buf_put_u64(&b, UINT64_MAX);
    rt_buf_putc(&b, ' ');
    rt_buf_put_u64(&b, 1234567890);
    rt_buf_putc(&b, 0);
    cr_assert_str_eq(b.data, "0 -1 9223372036854775807 -9223372036854775808 18446744073709551615 1234567890");
    rt_buf_free(&b);
}

/* ================================================================ JSON pointers */

Test(rt_path, push_pop)
{
    rt_path p;
    rt_path_init(&p);
    cr_assert_str_eq(rt_path_str(&p), "");
    size_t l0 = rt_path_push_key(&p, "items", 5);
    cr_assert_eq(l0, 0);
    size_t l1 = rt_path_push_index(&p, 12);
    size_t l2 = rt_path_push_key(&p, "name", 4);
    cr_assert_str_eq(rt_path_str(&p), "/items/12/name");
    cr_assert_eq(p.len, strlen(p.buf));
    rt_path_pop(&p, l2);
    cr_assert_str_eq(rt_path_str(&p), "/items/12");
    rt_path_pop(&p, l1);
    cr_assert_str_eq(rt_path_str(&p), "/items");
    rt_path_push_index(&p, 0);
    cr_assert_str_eq(rt_path_str(&p), "/items/0");
    rt_path_pop(&p, l0);
    cr_assert_str_eq(rt_path_str(&p), "");
    cr_assert_eq(p.len, 0);
}

Test(rt_path, escaping)
{
    rt_path p;
    rt_path_init(&p);
    rt_path_push_key(&p, "a/b~c", 5);
    cr_assert_str_eq(rt_path_str(&p), "/a~1b~0c");
    rt_path_push_key(&p, "", 0); /* the empty key is a valid member name */
    cr_assert_str_eq(rt_path_str(&p), "/a~1b~0c/");
    rt_path_push_key(&p, "~~//", 4);
    cr_assert_str_eq(rt_path_str(&p), "/a~1b~0c//~0~0~1~1");
    /* only len bytes of the key count */
    rt_path_init(&p);
    rt_path_push_key(&p, "abcdef", 2);
    cr_assert_str_eq(rt_path_str(&p), "/ab");
}

Test(rt_path, truncation)
{
    rt_path p;
    rt_path_init(&p);
    char key[40];
    memset(key, 'k', sizeof key);
    size_t marks[32];
    int n = 0;
    while (n < 32) {
        marks[n] = rt_path_push_key(&p, key, sizeof key);
        rt_path_str(&p); /* write the pending key, as an error would */
        n++;
        if (p.len == RT_PATH_MAX - 1)
            break;
    }
    cr_assert_eq(p.len, RT_PATH_MAX - 1, "pointer should have been truncated");
    cr_assert_eq(strlen(rt_path_str(&p)), p.len);
    cr_assert_eq(memcmp(rt_path_str(&p) + p.len - 3, "...", 3), 0);
    /* further pushes change nothing; popping them is harmless */
    char before[RT_PATH_MAX];
    memcpy(before, rt_path_str(&p), RT_PATH_MAX);
    size_t m = rt_path_push_index(&p, 5);
    size_t m2 = rt_path_push_key(&p, "x", 1);
    cr_assert_str_eq(rt_path_str(&p), before);
    cr_assert_eq(p.len, RT_PATH_MAX - 1);
    rt_path_pop(&p, m2);
    rt_path_pop(&p, m);
    cr_assert_str_eq(rt_path_str(&p), before);
    /* popping the truncating push restores the exact earlier pointer */
    rt_path_pop(&p, marks[n - 1]);
    cr_assert_eq(p.len, marks[n - 1]);
    cr_assert_eq(strlen(rt_path_str(&p)), p.len);
    for (size_t i = 0; i < p.len; i += sizeof key + 1) {
        cr_assert_eq(rt_path_str(&p)[i], '/');
        cr_assert_eq(rt_path_str(&p)[i + 1], 'k');
    }
    /* and a short push fits again */
    rt_path_push_index(&p, 7);
    cr_assert_eq(memcmp(rt_path_str(&p) + p.len - 2, "/7", 2), 0);
}

Test(rt_path, truncation_splitting_an_escape)
{
    rt_path p;
    rt_path_init(&p);
    char key[400];
    memset(key, '~', sizeof key);
    rt_path_push_key(&p, key, sizeof key);
    rt_path_str(&p);
    cr_assert_eq(p.len, RT_PATH_MAX - 1);
    cr_assert_eq(strlen(rt_path_str(&p)), p.len);
    cr_assert_eq(memcmp(rt_path_str(&p) + p.len - 3, "...", 3), 0);
}

/* The last key pushed is kept pending: buf is written only when something
 * goes on top of it or an error names it, and the pointer is the same. */
Test(rt_path, pending_key)
{
    rt_path p;
    rt_errs e;
    rt_path_init(&p);
    rt_errs_init(&e);
    size_t m0 = rt_path_push_key(&p, "items", 5);
    cr_assert_eq(p.len, 0, "a pushed key is not written yet");
    size_t m1 = rt_path_push_index(&p, 3);
    cr_assert_eq(m1, 6, "pushing on top writes it");
    cr_assert_str_eq(p.buf, "/items/3");
    size_t m2 = rt_path_push_key(&p, "a/b", 3);
    rt_errs_add_path(&e, &p, "bad");
    cr_assert_str_eq(e.e[0].field, "/items/3/a~1b");
    cr_assert_str_eq(p.buf, "/items/3", "recording an error leaves the path as it was");
    rt_path_pop(&p, m2);
    rt_errs_add_path(&e, &p, "bad");
    cr_assert_str_eq(e.e[1].field, "/items/3");
    rt_path_push_key(&p, NULL, 0); /* an empty name from a NULL view */
    rt_errs_add_path(&e, &p, "bad");
    cr_assert_str_eq(e.e[2].field, "/items/3/");
    rt_errs_add_key(&e, &p, "k~", 2, "bad"); /* on top of a pending key */
    cr_assert_str_eq(e.e[3].field, "/items/3//k~0");
    rt_path_pop(&p, m1);
    rt_path_pop(&p, m0);
    cr_assert_str_eq(rt_path_str(&p), "");
    cr_assert_eq(p.len, 0);
    rt_errs_add_key(&e, &p, "id", 2, "must be >= 1");
    cr_assert_str_eq(e.e[4].field, "/id");
    cr_assert_str_eq(e.e[4].reason, "must be >= 1");
    cr_assert_str_eq(rt_path_str(&p), "");
}

/* ================================================================ field errors */

Test(rt_errs, cap_and_dropped)
{
    rt_errs e;
    rt_errs_init(&e);
    cr_assert_eq(e.n, 0);
    cr_assert_eq(e.dropped, 0);
    static const char reason[] = "must not be empty";
    for (int i = 0; i < RT_ERRS_MAX + 5; i++)
        rt_errs_add(&e, "/name", reason);
    cr_assert_eq(e.n, RT_ERRS_MAX);
    cr_assert_eq(e.dropped, 5);
    cr_assert_str_eq(e.e[RT_ERRS_MAX - 1].field, "/name");
    cr_assert_eq(e.e[0].reason, reason, "reason is kept by pointer");
    rt_errs_init(&e);
    cr_assert_eq(e.n, 0);
    cr_assert_eq(e.dropped, 0);
}

Test(rt_errs, field_forms)
{
    rt_errs e;
    rt_errs_init(&e);
    rt_errs_add(&e, "", "whole body");
    rt_errs_add(&e, NULL, "null field");
    rt_errs_add_param(&e, "query.", "limit", "must be an integer");
    rt_path p;
    rt_path_init(&p);
    rt_path_push_key(&p, "a/b", 3);
    rt_path_push_index(&p, 3);
    rt_errs_add_path(&e, &p, "bad");
    cr_assert_eq(e.n, 4);
    cr_assert_str_eq(e.e[0].field, "");
    cr_assert_str_eq(e.e[1].field, "");
    cr_assert_str_eq(e.e[2].field, "query.limit");
    cr_assert_str_eq(e.e[2].reason, "must be an integer");
    cr_assert_str_eq(e.e[3].field, "/a~1b/3");
}

Test(rt_errs, long_fields_truncated)
{
    rt_errs e;
    rt_errs_init(&e);
    char longf[300];
    memset(longf, 'f', sizeof longf - 1);
    longf[sizeof longf - 1] = 0;
    rt_errs_add(&e, longf, "r");
    cr_assert_eq(strlen(e.e[0].field), RT_FIELD_MAX - 1);
    rt_errs_add_param(&e, "query.", longf, "r");
    cr_assert_eq(strlen(e.e[1].field), RT_FIELD_MAX - 1);
    cr_assert_eq(memcmp(e.e[1].field, "query.fff", 9), 0);
    rt_path p;
    rt_path_init(&p);
    rt_path_push_key(&p, longf, 200);
    rt_errs_add_path(&e, &p, "r");
    cr_assert_eq(strlen(e.e[2].field), RT_FIELD_MAX - 1);
    cr_assert_eq(memcmp(e.e[2].field + RT_FIELD_MAX - 4, "...", 3), 0, "a cut pointer is marked");
}

/* ================================================================ clocks */

Test(rt_time, clocks)
{
    int64_t now = rt_now_us();
    cr_assert_gt(now, INT64_C(1600000000) * 1000000, "wall clock before 2020?");
    int64_t m1 = rt_mono_ms();
    int64_t m2 = rt_mono_ms();
    cr_assert_geq(m2, m1);
}

/* A validator's findings on fields that failed to decode are dropped; the
 * rest are kept (the router reports every problem of a body at once). */
Test(errs, merge_drops_findings_on_fields_that_failed_to_decode)
{
    rt_errs e, more;
    rt_errs_init(&e);
    rt_errs_init(&more);
    rt_errs_add(&e, "/username", "is required");
    rt_errs_add(&e, "/items/0", "must be an object");
    rt_errs_add(&more, "/username", "must be at least 3 characters");
    rt_errs_add(&more, "/items/0/name", "must be at least 1 character");
    rt_errs_add(&more, "/items/1/name", "must be at least 1 character");
    rt_errs_add(&more, "/user", "must be a valid email address");
    rt_errs_add(&more, "", "must have at least 1 property");
    rt_errs_merge(&e, &more);
    cr_assert_eq(e.n, 5);
    cr_assert_str_eq(e.e[2].field, "/items/1/name");
    cr_assert_str_eq(e.e[3].field, "/user");
    cr_assert_str_eq(e.e[4].field, "");

    rt_errs root;
    rt_errs_init(&root);
    rt_errs_add(&root, "", "must be an object");
    rt_errs_merge(&root, &more);
    cr_assert_eq(root.n, 1, "the root covers every pointer");
}
