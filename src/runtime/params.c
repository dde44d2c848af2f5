/*
 * params.c - repeated query parameters, cookies, comma lists.
 *
 * rt_req_query_all walks the request's decoded query arguments through
 * rt__req_args (http_priv.h).
 */
#include "params.h"
#include "http_priv.h"
#include "validate.h"

#include <string.h>

typedef struct query_all {
    const char *name;
    size_t name_len;
    rt_arena *arena;
    rt_str *items;
    size_t n, cap;
    bool oom;
} query_all;

static bool collect(void *cls, rt_str key, rt_str value, bool has_value)
{
    query_all *q = cls;

    (void)has_value;
    if (key.len != q->name_len || memcmp(key.ptr, q->name, key.len) != 0)
        return true;
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 4;
        rt_str *grown = rt_arena_alloc(q->arena, ncap * sizeof *grown);

        if (grown == NULL) {
            q->oom = true;
            return false;
        }
        if (q->n)
            memcpy(grown, q->items, q->n * sizeof *grown);
        q->items = grown;
        q->cap = ncap;
    }
    q->items[q->n++] = value;
    return true;
}

int rt_req_query_all(rt_req *req, const char *name, rt_str **out, size_t *n)
{
    query_all q = { name, strlen(name), req->arena, NULL, 0, 0, false };

    (void)rt__req_args(req, collect, &q);
    *out = q.items;
    *n = q.n;
    return q.oom ? -1 : 0;
}

rt_str rt_req_cookie(const rt_req *req, const char *name, bool *present)
{
    rt_str h = rt_req_header(req, "Cookie");
    size_t nlen = strlen(name), i = 0;

    *present = false;
    while (h.ptr != NULL && i < h.len) {
        size_t start, eq, end;

        while (i < h.len && (h.ptr[i] == ' ' || h.ptr[i] == '\t'))
            i++;
        start = i;
        while (i < h.len && h.ptr[i] != ';')
            i++;
        end = i;
        i++; /* past ';' */
        for (eq = start; eq < end && h.ptr[eq] != '='; eq++)
            ;
        if (eq == end || eq - start != nlen || memcmp(h.ptr + start, name, nlen) != 0)
            continue;
        while (end > eq + 1 && (h.ptr[end - 1] == ' ' || h.ptr[end - 1] == '\t'))
            end--;
        /* RFC 6265 allows the value in double quotes */
        if (end - eq - 1 >= 2 && h.ptr[eq + 1] == '"' && h.ptr[end - 1] == '"') {
            eq++;
            end--;
        }
        *present = true;
        return (rt_str){ h.ptr + eq + 1, end - eq - 1 };
    }
    return (rt_str){ "", 0 };
}

int rt_split_commas(rt_arena *a, rt_str s, rt_str **out, size_t *n)
{
    return rt_split_char(a, s, ',', out, n);
}

int rt_split_char(rt_arena *a, rt_str s, char sep, rt_str **out, size_t *n)
{
    size_t count = 1, k = 0, start = 0;
    rt_str *items;

    *out = NULL;
    *n = 0;
    if (s.len == 0)
        return 0;
    for (size_t i = 0; i < s.len; i++)
        count += s.ptr[i] == sep;
    items = rt_arena_alloc(a, count * sizeof *items);
    if (items == NULL)
        return -1;
    for (size_t i = 0; i <= s.len; i++) {
        if (i < s.len && s.ptr[i] != sep)
            continue;
        items[k].ptr = s.ptr + start;
        items[k].len = i - start;
        k++;
        start = i + 1;
    }
    *out = items;
    *n = k;
    return 0;
}

/* ================================================================ pairs */

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decode s in place; '+' is a space. The new length, or -1. */
static long form_decode(char *s, size_t len)
{
    size_t r = 0, w = 0;

    while (r < len) {
        if (s[r] == '%') {
            int hi, lo;

            if (r + 2 >= len)
                return -1;
            hi = hexval(s[r + 1]);
            lo = hexval(s[r + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            s[w++] = (char)(hi * 16 + lo);
            r += 3;
        } else {
            s[w++] = s[r] == '+' ? ' ' : s[r];
            r++;
        }
    }
    return (long)w;
}

int rt_form_parse(char *body, size_t len, rt_arena *a, rt_pair **out, size_t *n)
{
    size_t count = 1, k = 0, start = 0;
    rt_pair *pairs;

    *out = NULL;
    *n = 0;
    if (len == 0)
        return 0;
    for (size_t i = 0; i < len; i++)
        count += body[i] == '&';
    pairs = rt_arena_alloc(a, count * sizeof *pairs);
    if (pairs == NULL)
        return -1;
    for (size_t i = 0; i <= len; i++) {
        size_t eq;
        long kl, vl;

        if (i < len && body[i] != '&')
            continue;
        if (i == start) { /* "a=1&&b=2": an empty piece, skipped */
            start = i + 1;
            continue;
        }
        for (eq = start; eq < i && body[eq] != '='; eq++)
            ;
        kl = form_decode(body + start, eq - start);
        vl = eq < i ? form_decode(body + eq + 1, i - eq - 1) : 0;
        if (kl < 0 || vl < 0)
            return -2;
        pairs[k].key = (rt_str){ body + start, (size_t)kl };
        pairs[k].value = eq < i ? (rt_str){ body + eq + 1, (size_t)vl } : (rt_str){ "", 0 };
        if (!rt_utf8_valid(pairs[k].key.ptr, pairs[k].key.len) ||
            !rt_utf8_valid(pairs[k].value.ptr, pairs[k].value.len))
            return -3;
        k++;
        start = i + 1;
    }
    *out = pairs;
    *n = k;
    return 0;
}

typedef struct query_pairs {
    rt_arena *arena;
    rt_pair *items;
    size_t n, cap;
    bool oom;
} query_pairs;

static bool collect_pair(void *cls, rt_str key, rt_str value, bool has_value)
{
    query_pairs *q = cls;

    (void)has_value;
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 8;
        rt_pair *grown = rt_arena_alloc(q->arena, ncap * sizeof *grown);

        if (grown == NULL) {
            q->oom = true;
            return false;
        }
        if (q->n)
            memcpy(grown, q->items, q->n * sizeof *grown);
        q->items = grown;
        q->cap = ncap;
    }
    q->items[q->n].key = key;
    q->items[q->n].value = value;
    q->n++;
    return true;
}

int rt_req_query_pairs(rt_req *req, rt_pair **out, size_t *n)
{
    query_pairs q = { req->arena, NULL, 0, 0, false };

    (void)rt__req_args(req, collect_pair, &q);
    *out = q.items;
    *n = q.n;
    return q.oom ? -1 : 0;
}

int rt_pairs_deep(rt_arena *a, const rt_pair *all, size_t n, const char *name, rt_pair **out,
                  size_t *nout)
{
    size_t nlen = strlen(name), k = 0;
    rt_pair *pairs;

    *out = NULL;
    *nout = 0;
    if (n == 0)
        return 0;
    pairs = rt_arena_alloc(a, n * sizeof *pairs);
    if (pairs == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        rt_str key = all[i].key;

        if (key.len < nlen + 2 || memcmp(key.ptr, name, nlen) != 0 || key.ptr[nlen] != '[' ||
            key.ptr[key.len - 1] != ']')
            continue;
        pairs[k].key = (rt_str){ key.ptr + nlen + 1, key.len - nlen - 2 };
        pairs[k].value = all[i].value;
        k++;
    }
    *out = pairs;
    *nout = k;
    return 0;
}

int rt_pairs_from_list(rt_arena *a, rt_str s, bool explode, rt_pair **out, size_t *n)
{
    rt_str *items;
    size_t count;
    rt_pair *pairs;

    *out = NULL;
    *n = 0;
    if (rt_split_commas(a, s, &items, &count) != 0)
        return -1;
    if (count == 0)
        return 0;
    if (!explode && count % 2 != 0)
        return -2;
    pairs = rt_arena_alloc(a, count * sizeof *pairs);
    if (pairs == NULL)
        return -1;
    for (size_t i = 0; i < count; i++) {
        if (!explode) {
            if (i % 2 == 0)
                pairs[i / 2].key = items[i];
            else
                pairs[i / 2].value = items[i];
            continue;
        }
        const char *eq = memchr(items[i].ptr, '=', items[i].len);

        if (eq == NULL)
            return -2;
        pairs[i].key = (rt_str){ items[i].ptr, (size_t)(eq - items[i].ptr) };
        pairs[i].value = (rt_str){ eq + 1, items[i].len - (size_t)(eq - items[i].ptr) - 1 };
    }
    *out = pairs;
    *n = explode ? count : count / 2;
    return 0;
}

int rt_split_matrix(rt_arena *a, rt_str s, const char *name, rt_str **out, size_t *n)
{
    size_t nlen = strlen(name);

    if (rt_split_char(a, s, ';', out, n) != 0)
        return -1;
    for (size_t i = 0; i < *n; i++) {
        rt_str *it = &(*out)[i];

        if (it->len <= nlen || memcmp(it->ptr, name, nlen) != 0 || it->ptr[nlen] != '=')
            return -2;
        it->ptr += nlen + 1;
        it->len -= nlen + 1;
    }
    return 0;
}
