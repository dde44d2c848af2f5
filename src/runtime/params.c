/*
 * params.c - repeated query parameters, cookies, comma lists.
 *
 * rt_req_query_all walks libmicrohttpd's argument list, which needs the
 * connection that http.c keeps in its private rt__req_priv. The struct is
 * declared again here with the same single member (compatible across
 * translation units); it must change together with the one in http.c.
 */
#include "params.h"

#include <microhttpd.h>
#include <string.h>

struct rt__req_priv {
    struct MHD_Connection *conn;
};

typedef struct query_all {
    const char *name;
    size_t name_len;
    rt_arena *arena;
    rt_str *items;
    size_t n, cap;
    bool oom;
} query_all;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               size_t key_size, const char *value, size_t value_size)
{
    query_all *q = cls;

    (void)kind;
    if (key_size != q->name_len || memcmp(key, q->name, key_size) != 0)
        return MHD_YES;
    if (q->n == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 4;
        rt_str *grown = rt_arena_alloc(q->arena, ncap * sizeof *grown);

        if (grown == NULL) {
            q->oom = true;
            return MHD_NO;
        }
        if (q->n)
            memcpy(grown, q->items, q->n * sizeof *grown);
        q->items = grown;
        q->cap = ncap;
    }
    q->items[q->n++] = value ? (rt_str){ value, value_size } : (rt_str){ "", 0 };
    return MHD_YES;
}

int rt_req_query_all(rt_req *req, const char *name, rt_str **out, size_t *n)
{
    query_all q = { name, strlen(name), req->arena, NULL, 0, 0, false };

    if (req->priv != NULL)
        (void)MHD_get_connection_values_n(req->priv->conn, MHD_GET_ARGUMENT_KIND, collect, &q);
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
    size_t count = 1, k = 0, start = 0;
    rt_str *items;

    *out = NULL;
    *n = 0;
    if (s.len == 0)
        return 0;
    for (size_t i = 0; i < s.len; i++)
        count += s.ptr[i] == ',';
    items = rt_arena_alloc(a, count * sizeof *items);
    if (items == NULL)
        return -1;
    for (size_t i = 0; i <= s.len; i++) {
        if (i < s.len && s.ptr[i] != ',')
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
