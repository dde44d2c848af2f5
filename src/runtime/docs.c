/*
 * docs.c - serves an embedded static site (the Swagger UI under /docs); the
 * behaviour is described in docs.h.
 *
 * Invariants:
 *  - Only exact file names of the table are served: the request path is
 *    compared byte for byte, never mapped to a file system, so "..", "//"
 *    or encoded tricks simply match nothing (404).
 *  - Every response header value is static storage (the table, literals) or
 *    lives in the request arena, as rt_resp requires.
 *  - A path outside the mount is left untouched for the API router, and the
 *    check costs one length comparison and one memcmp.
 */
#include "docs.h"

#include <string.h>

#define CACHE_IMMUTABLE "public, max-age=31536000, immutable"
#define CACHE_REVALIDATE "no-cache"

/* ---------------------------------------------------------------- header parsing */

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

static bool ieq(const char *p, size_t n, const char *lit)
{
    return rt_str_ieq_cstr((rt_str){ p, n }, lit);
}

/* RFC 9110 qvalue: "0" ["." 0*3DIGIT] / "1" ["." 0*3("0")].
 * Returns 1 for a positive weight, 0 for zero, -1 when malformed. */
static int qvalue_positive(const char *p, size_t n)
{
    if (n == 0 || (p[0] != '0' && p[0] != '1'))
        return -1;
    bool positive = p[0] == '1';
    if (n == 1)
        return positive;
    if (p[1] != '.' || n > 5)
        return -1;
    for (size_t i = 2; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || (p[0] == '1' && p[i] != '0'))
            return -1;
        if (p[i] != '0')
            positive = true;
    }
    return positive;
}

/* One Accept-Encoding element "coding *(OWS ; OWS param)" in [p, p+n):
 * the coding's extent and its weight (1 positive, 0 zero, -1 malformed). */
static int element_weight(const char *p, size_t n, size_t *coding_len)
{
    size_t i = 0;
    while (i < n && p[i] != ';' && !is_ows(p[i]))
        i++;
    *coding_len = i;
    int w = 1;
    while (i < n) {
        while (i < n && is_ows(p[i]))
            i++;
        if (i == n)
            break;
        if (p[i] != ';')
            return -1;
        i++;
        while (i < n && is_ows(p[i]))
            i++;
        size_t start = i;
        while (i < n && p[i] != ';' && !is_ows(p[i]))
            i++;
        if (i - start >= 2 && (p[start] == 'q' || p[start] == 'Q') && p[start + 1] == '=') {
            w = qvalue_positive(p + start + 2, i - start - 2);
            if (w < 0)
                return -1;
        }
    }
    return w;
}

bool rt_docs_accepts_gzip(rt_str v)
{
    int gzip = -1, star = -1; /* -1: not mentioned */
    size_t i = 0;
    while (v.ptr && i < v.len) {
        while (i < v.len && (is_ows(v.ptr[i]) || v.ptr[i] == ','))
            i++;
        size_t start = i;
        while (i < v.len && v.ptr[i] != ',')
            i++;
        size_t end = i;
        while (end > start && is_ows(v.ptr[end - 1]))
            end--;
        if (end == start)
            continue;
        size_t clen = 0;
        int w = element_weight(v.ptr + start, end - start, &clen);
        if (w < 0)
            continue; /* a malformed element admits nothing */
        if (ieq(v.ptr + start, clen, "gzip") || ieq(v.ptr + start, clen, "x-gzip"))
            gzip = gzip == 0 ? 0 : w; /* an explicit refusal wins */
        else if (clen == 1 && v.ptr[start] == '*')
            star = w;
    }
    return gzip == 1 || (gzip == -1 && star == 1);
}

bool rt_docs_etag_match(rt_str v, const char *etag)
{
    size_t elen = strlen(etag);
    size_t i = 0;
    while (v.ptr && i < v.len) {
        while (i < v.len && (is_ows(v.ptr[i]) || v.ptr[i] == ','))
            i++;
        if (i == v.len)
            break;
        if (v.ptr[i] == '*')
            return true;
        if (v.len - i >= 2 && v.ptr[i] == 'W' && v.ptr[i + 1] == '/')
            i += 2;
        if (i == v.len || v.ptr[i] != '"')
            return false; /* malformed: match nothing */
        size_t start = i++;
        while (i < v.len && v.ptr[i] != '"')
            i++;
        if (i == v.len)
            return false;
        i++; /* past the closing quote */
        if (i - start == elen && memcmp(v.ptr + start, etag, elen) == 0)
            return true;
    }
    return false;
}

/* ---------------------------------------------------------------- serving */

const rt_docs_file *rt_docs_find(const rt_docs_site *site, rt_str name)
{
    for (size_t i = 0; i < site->nfiles; i++) {
        const rt_docs_file *f = &site->files[i];
        if (strlen(f->name) == name.len && memcmp(f->name, name.ptr, name.len) == 0)
            return f;
    }
    return NULL;
}

/* "<mount>" -> 301 to "<last segment of mount>/", resolved by the client
 * against the URL it asked for, so a prefix added by a proxy is kept. */
static void redirect_to_index(const rt_docs_site *site, rt_req *req, rt_resp *resp)
{
    const char *seg = strrchr(site->mount, '/');
    seg = seg ? seg + 1 : site->mount;
    size_t n = strlen(seg);
    char *loc = rt_arena_alloc(req->arena, n + 1);
    if (!loc) {
        rt_resp_error(req, resp, RT_E_INTERNAL, "out of memory");
        return;
    }
    memcpy(loc, seg, n);
    loc[n] = '/';
    resp->status = 301;
    rt_resp_header(resp, "Location", (rt_str){ loc, n + 1 });
    rt_resp_header(resp, "Cache-Control", RT_STR(CACHE_REVALIDATE));
}

static void serve_file(const rt_docs_file *f, rt_req *req, rt_resp *resp)
{
    bool gz = f->gz && rt_docs_accepts_gzip(rt_req_header(req, "Accept-Encoding"));
    const char *etag = gz ? f->gz_etag : f->etag;
    /* The index links each asset with ?v=<version>: such a URL names these
     * exact bytes for ever. Any other URL may change with the next build. */
    const char *cache = CACHE_REVALIDATE;
    if (f->name[0] != '\0') {
        bool has_v = false;
        rt_str v = rt_req_query(req, "v", &has_v);
        if (has_v && rt_str_eq_cstr(v, f->version))
            cache = CACHE_IMMUTABLE;
    }
    rt_resp_header(resp, "ETag", (rt_str){ etag, strlen(etag) });
    rt_resp_header(resp, "Cache-Control", (rt_str){ cache, strlen(cache) });
    if (f->gz)
        rt_resp_header(resp, "Vary", RT_STR("Accept-Encoding"));
    rt_resp_header(resp, "X-Content-Type-Options", RT_STR("nosniff"));
    if (rt_docs_etag_match(rt_req_header(req, "If-None-Match"), etag)) {
        resp->status = 304; /* the runtime sends no body with it */
        return;
    }
    if (gz)
        rt_resp_header(resp, "Content-Encoding", RT_STR("gzip"));
    resp->status = 200;
    resp->content_type = f->content_type;
    /* Copied: the runtime's response buffer is the only body it sends. The
     * docs are requested rarely, so two copies of ~0.5 MB are acceptable. */
    rt_buf_put(&resp->body, gz ? f->gz : f->data, gz ? f->gz_len : f->len);
}

bool rt_docs_serve(const rt_docs_site *site, rt_req *req, rt_resp *resp)
{
    size_t mlen = strlen(site->mount);
    rt_str p = req->path;
    if (p.len < mlen || memcmp(p.ptr, site->mount, mlen) != 0 ||
        (p.len > mlen && p.ptr[mlen] != '/'))
        return false;

    if (!rt_str_eq_cstr(req->method, "GET") && !rt_str_eq_cstr(req->method, "HEAD")) {
        rt_resp_header(resp, "Allow", RT_STR("GET, HEAD"));
        rt_resp_error(req, resp, RT_E_METHOD_NOT_ALLOWED, NULL);
        return true;
    }
    if (p.len == mlen) {
        redirect_to_index(site, req, resp);
        return true;
    }
    const rt_docs_file *f = rt_docs_find(site, (rt_str){ p.ptr + mlen + 1, p.len - mlen - 1 });
    if (!f) {
        rt_resp_error(req, resp, RT_E_NOT_FOUND, "no such documentation file");
        return true;
    }
    serve_file(f, req, resp);
    return true;
}
