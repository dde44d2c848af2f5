/*
 * docs_test.c - the embedded static site (src/runtime/docs.c): header
 * parsing in isolation, then every kind of answer over a real rt_server on
 * loopback, driven by libcurl without content decoding (so the bytes and
 * headers on the wire are what is checked).
 *
 * The site here is a small table of our own, mounted at a two-segment path
 * so the relative redirect is seen to keep everything before the mount's
 * last segment. The real Swagger UI table is checked end to end by
 * tests/browser/.
 */
#include "docs.h"
#include "log.h"

#include <criterion/criterion.h>
#include <curl/curl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---------------------------------------------------------------- the site */

static const unsigned char idx_bytes[] = "<!doctype html><p>index</p>";
static const unsigned char app_bytes[] = "console.log('plain');";
static const unsigned char app_gz[] = "GZ-BYTES-STAND-IN"; /* never decoded here */
static const unsigned char png_bytes[] = "\x89PNG\r\n\x1a\n";

static const rt_docs_file files[] = {
    { "", "text/html; charset=utf-8", idx_bytes, sizeof idx_bytes - 1, NULL, 0, "i1",
      "\"i1\"", NULL },
    { "app.js", "text/javascript; charset=utf-8", app_bytes, sizeof app_bytes - 1, app_gz,
      sizeof app_gz - 1, "a1", "\"a1\"", "\"a1-gz\"" },
    { "img/logo.png", "image/png", png_bytes, sizeof png_bytes - 1, NULL, 0, "p1", "\"p1\"",
      NULL },
};
static const rt_docs_site site = { "/api/docs", files, sizeof files / sizeof files[0] };

/* ---------------------------------------------------------------- header parsing */

static bool gz(const char *v)
{
    return rt_docs_accepts_gzip((rt_str){ v, strlen(v) });
}

static bool inm(const char *v, const char *etag)
{
    return rt_docs_etag_match((rt_str){ v, strlen(v) }, etag);
}

Test(docs_parse, accept_encoding)
{
    cr_expect(gz("gzip"));
    cr_expect(gz("GZip"));
    cr_expect(gz("x-gzip"));
    cr_expect(gz("gzip, deflate, br"));
    cr_expect(gz("br;q=1.0, gzip;q=0.8, *;q=0.1"));
    cr_expect(gz("deflate , gzip ; q=0.5"));
    cr_expect(gz("*"));
    cr_expect(gz("br, *;q=0.2"));
    cr_expect(gz("gzip;q=1"));
    cr_expect(gz("gzip;q=0.001"));

    cr_expect(!rt_docs_accepts_gzip(RT_STR_NULL));
    cr_expect(!gz(""));
    cr_expect(!gz("identity"));
    cr_expect(!gz("deflate, br"));
    cr_expect(!gz("gzip;q=0"));
    cr_expect(!gz("gzip;q=0.000"));
    cr_expect(!gz("gzip;q=0, *"), "an explicit refusal beats the wildcard");
    cr_expect(!gz("*, gzip;q=0"));
    cr_expect(!gz("gzip;q=0, gzip"), "a refusal is not undone by a repeat");
    cr_expect(!gz("*;q=0"));
    cr_expect(!gz("gzipped"));
    cr_expect(!gz("gzip;q=2"), "malformed weight: the element admits nothing");
    cr_expect(!gz("gzip;q=0.5.1"));
    cr_expect(!gz("gzip;q=1.5"));
    cr_expect(!gz("gzip;q="));
    cr_expect(!gz("gzip junk"));
}

Test(docs_parse, if_none_match)
{
    cr_expect(inm("\"a1\"", "\"a1\""));
    cr_expect(inm("W/\"a1\"", "\"a1\""), "weak comparison for If-None-Match");
    cr_expect(inm("\"x\", \"a1\"", "\"a1\""));
    cr_expect(inm("\"x\",W/\"a1\" ,\"y\"", "\"a1\""));
    cr_expect(inm("*", "\"a1\""));
    cr_expect(inm(" * ", "\"a1\""));

    cr_expect(!rt_docs_etag_match(RT_STR_NULL, "\"a1\""));
    cr_expect(!inm("", "\"a1\""));
    cr_expect(!inm("\"a1-gz\"", "\"a1\""));
    cr_expect(!inm("\"a\"", "\"a1\""));
    cr_expect(!inm("a1", "\"a1\""), "unquoted is malformed");
    cr_expect(!inm("\"a1", "\"a1\""), "unterminated");
    cr_expect(!inm("w/\"a1\"", "\"a1\""), "the weak prefix is case-sensitive");
    cr_expect(!inm("\"x\", junk, \"a1\"", "\"a1\""), "malformed lists match nothing");
}

Test(docs_parse, find_exact_names_only)
{
    cr_expect_eq(rt_docs_find(&site, RT_STR("app.js")), &files[1]);
    cr_expect_eq(rt_docs_find(&site, RT_STR("img/logo.png")), &files[2]);
    cr_expect_eq(rt_docs_find(&site, RT_STR("")), &files[0]);
    cr_expect_null(rt_docs_find(&site, RT_STR("app.j")));
    cr_expect_null(rt_docs_find(&site, RT_STR("app.jsx")));
    cr_expect_null(rt_docs_find(&site, RT_STR("/app.js")));
    cr_expect_null(rt_docs_find(&site, RT_STR("img/../app.js")));
}

/* ---------------------------------------------------------------- server */

static void handler(rt_req *req, rt_resp *resp)
{
    if (!rt_docs_serve(&site, req, resp))
        rt_buf_puts(&resp->body, "{\"fallthrough\":true}");
}

static rt_server *srv;
static char base[64];

static void start(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rt_log_init(RT_LOG_WARN, 2); /* no access lines; warnings still show */
    rt_server_opts o = {
        .bind_addr = "127.0.0.1", .port = 0, .threads = 1, .body_limit = 4096,
        .conn_timeout_s = 5, .max_conns = 64, .handler = handler, .app = NULL,
    };
    char err[256] = "";
    srv = rt_server_start(&o, err, sizeof err);
    cr_assert_not_null(srv, "server: %s", err);
    snprintf(base, sizeof base, "http://127.0.0.1:%u", (unsigned)rt_server_port(srv));
}

static void stop(void)
{
    rt_server_stop(srv, 1000);
    curl_global_cleanup();
}

typedef struct reply {
    long status;
    char headers[4096];
    size_t hlen;
    char body[4096];
    size_t blen;
    bool truncated;
} reply;

static size_t on_body(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    size_t k = sz * n;
    if (k > sizeof r->body - 1 - r->blen) {
        r->truncated = true;
        return k;
    }
    memcpy(r->body + r->blen, p, k);
    r->blen += k;
    r->body[r->blen] = '\0';
    return k;
}

static size_t on_header(char *p, size_t sz, size_t n, void *ud)
{
    reply *r = ud;
    size_t k = sz * n;
    if (k <= sizeof r->headers - 1 - r->hlen) {
        memcpy(r->headers + r->hlen, p, k);
        r->hlen += k;
        r->headers[r->hlen] = '\0';
    }
    return k;
}

/* method NULL = GET; hdr: one extra request header or NULL. */
static reply *fetch(const char *method, const char *path, const char *hdr)
{
    static reply r;
    memset(&r, 0, sizeof r);
    char url[256];
    snprintf(url, sizeof url, "%s%s", base, path);
    CURL *c = curl_easy_init();
    cr_assert_not_null(c);
    struct curl_slist *h = hdr ? curl_slist_append(NULL, hdr) : NULL;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L); /* send "..", "//" as written */
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
    if (h)
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    if (method && strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (method) /* no body: the runtime's 415 gate never fires */
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    cr_assert_eq(rc, CURLE_OK, "%s %s: %s", method ? method : "GET", path,
                 curl_easy_strerror(rc));
    cr_assert(!r.truncated);
    return &r;
}

/* The value of a response header (first occurrence), or NULL. */
static const char *hval(const reply *r, const char *name)
{
    static char v[512];
    size_t n = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            break;
        if ((size_t)(eol - line) > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *s = line + n + 1;
            while (*s == ' ')
                s++;
            size_t k = (size_t)(eol - s);
            if (k >= sizeof v)
                k = sizeof v - 1;
            memcpy(v, s, k);
            v[k] = '\0';
            return v;
        }
        line = eol + 2;
    }
    return NULL;
}

#define expect_header(r, name, want)                                                       \
    do {                                                                                   \
        const char *got_ = hval((r), (name));                                              \
        cr_expect(got_ && strcmp(got_, (want)) == 0, "%s: want \"%s\", got \"%s\"", (name), \
                  (want), got_ ? got_ : "(absent)");                                       \
    } while (0)

TestSuite(docs_http, .init = start, .fini = stop, .timeout = 30);

Test(docs_http, mount_redirects_relatively_to_the_index)
{
    reply *r = fetch(NULL, "/api/docs", NULL);
    cr_expect_eq(r->status, 301);
    expect_header(r, "Location", "docs/");
    cr_expect_eq(r->blen, 0);
    r = fetch("HEAD", "/api/docs", NULL);
    cr_expect_eq(r->status, 301);
    expect_header(r, "Location", "docs/");
}

Test(docs_http, index_is_html_and_revalidated)
{
    reply *r = fetch(NULL, "/api/docs/", NULL);
    cr_expect_eq(r->status, 200);
    expect_header(r, "Content-Type", "text/html; charset=utf-8");
    expect_header(r, "Cache-Control", "no-cache");
    expect_header(r, "ETag", "\"i1\"");
    expect_header(r, "X-Content-Type-Options", "nosniff");
    cr_expect_null(hval(r, "Vary"), "no gzip variant, nothing varies");
    cr_expect_eq(r->blen, sizeof idx_bytes - 1);
    cr_expect_str_eq(r->body, (const char *)idx_bytes);
    /* ?v= does not make the index immutable: it must always be fresh */
    r = fetch(NULL, "/api/docs/?v=i1", NULL);
    expect_header(r, "Cache-Control", "no-cache");
}

Test(docs_http, asset_caching_depends_on_the_version_in_the_url)
{
    reply *r = fetch(NULL, "/api/docs/app.js?v=a1", NULL);
    cr_expect_eq(r->status, 200);
    expect_header(r, "Content-Type", "text/javascript; charset=utf-8");
    expect_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    expect_header(r, "Vary", "Accept-Encoding");
    cr_expect_null(hval(r, "Content-Encoding"));
    cr_expect_str_eq(r->body, (const char *)app_bytes);

    r = fetch(NULL, "/api/docs/app.js", NULL);
    expect_header(r, "Cache-Control", "no-cache");
    r = fetch(NULL, "/api/docs/app.js?v=old", NULL);
    expect_header(r, "Cache-Control", "no-cache");
    r = fetch(NULL, "/api/docs/img/logo.png?v=p1", NULL);
    expect_header(r, "Content-Type", "image/png");
    expect_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    cr_expect_eq(r->blen, sizeof png_bytes - 1);
    cr_expect(memcmp(r->body, png_bytes, r->blen) == 0, "binary bytes intact");
}

Test(docs_http, gzip_only_when_accepted)
{
    reply *r = fetch(NULL, "/api/docs/app.js", "Accept-Encoding: br, gzip");
    cr_expect_eq(r->status, 200);
    expect_header(r, "Content-Encoding", "gzip");
    expect_header(r, "ETag", "\"a1-gz\"");
    expect_header(r, "Content-Type", "text/javascript; charset=utf-8");
    cr_expect_str_eq(r->body, (const char *)app_gz);

    r = fetch(NULL, "/api/docs/app.js", "Accept-Encoding: gzip;q=0, *");
    cr_expect_null(hval(r, "Content-Encoding"));
    expect_header(r, "ETag", "\"a1\"");
    cr_expect_str_eq(r->body, (const char *)app_bytes);

    /* a file without a gzip variant is sent as it is */
    r = fetch(NULL, "/api/docs/", "Accept-Encoding: gzip");
    cr_expect_null(hval(r, "Content-Encoding"));
    cr_expect_str_eq(r->body, (const char *)idx_bytes);
}

Test(docs_http, conditional_get_answers_304)
{
    reply *r = fetch(NULL, "/api/docs/app.js", "If-None-Match: \"zz\", W/\"a1\"");
    cr_expect_eq(r->status, 304);
    cr_expect_eq(r->blen, 0);
    expect_header(r, "ETag", "\"a1\"");
    expect_header(r, "Cache-Control", "no-cache");
    expect_header(r, "Vary", "Accept-Encoding");

    /* the identity tag does not validate the gzip representation */
    r = fetch(NULL, "/api/docs/app.js", "If-None-Match: \"a1-gz\"");
    cr_expect_eq(r->status, 200, "a1-gz is not the identity representation's tag");
    cr_expect_str_eq(r->body, (const char *)app_bytes);

    r = fetch(NULL, "/api/docs/", "If-None-Match: \"other\"");
    cr_expect_eq(r->status, 200);
    r = fetch("HEAD", "/api/docs/", "If-None-Match: \"i1\"");
    cr_expect_eq(r->status, 304);
}

Test(docs_http, head_has_the_headers_of_get_and_no_body)
{
    reply *r = fetch("HEAD", "/api/docs/app.js?v=a1", NULL);
    cr_expect_eq(r->status, 200);
    cr_expect_eq(r->blen, 0);
    expect_header(r, "Content-Type", "text/javascript; charset=utf-8");
    expect_header(r, "Cache-Control", "public, max-age=31536000, immutable");
    char want[32];
    snprintf(want, sizeof want, "%zu", sizeof app_bytes - 1);
    expect_header(r, "Content-Length", want);
}

Test(docs_http, other_methods_get_405_with_allow)
{
    const char *methods[] = { "POST", "PUT", "DELETE", "PATCH", "OPTIONS" };
    const char *paths[] = { "/api/docs", "/api/docs/", "/api/docs/app.js", "/api/docs/missing" };
    for (size_t m = 0; m < sizeof methods / sizeof methods[0]; m++) {
        for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
            reply *r = fetch(methods[m], paths[p], NULL);
            cr_expect_eq(r->status, 405, "%s %s: %ld", methods[m], paths[p], r->status);
            expect_header(r, "Allow", "GET, HEAD");
            cr_expect(strstr(r->body, "\"code\":\"METHOD_NOT_ALLOWED\"") != NULL, "%s", r->body);
        }
    }
}

Test(docs_http, unknown_files_get_the_404_envelope)
{
    const char *paths[] = {
        "/api/docs/missing.js", "/api/docs/app.js/", "/api/docs//app.js", "/api/docs/./app.js",
        "/api/docs/img/../app.js", "/api/docs/APP.JS", "/api/docs/img", "/api/docs/img/",
        "/api/docs/%2e%2e/secret", "/api/docs/app.js%00",
    };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        reply *r = fetch(NULL, paths[i], "X-Request-ID: docs-404");
        cr_expect_eq(r->status, 404, "%s: %ld", paths[i], r->status);
        expect_header(r, "Content-Type", "application/json");
        cr_expect(strstr(r->body, "\"code\":\"NOT_FOUND\"") != NULL, "%s: %s", paths[i], r->body);
        cr_expect(strstr(r->body, "\"request_id\":\"docs-404\"") != NULL, "%s", r->body);
    }
}

Test(docs_http, other_paths_fall_through)
{
    const char *paths[] = { "/", "/api", "/api/", "/api/docsx", "/api/docs.json", "/docs",
                            "/api/doc", "/x/api/docs/" };
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        reply *r = fetch(NULL, paths[i], NULL);
        cr_expect_eq(r->status, 200, "%s", paths[i]);
        cr_expect_str_eq(r->body, "{\"fallthrough\":true}", "%s", paths[i]);
    }
    /* falls through for every method: the router, not docs, answers those */
    reply *r = fetch("POST", "/api/docsx", NULL);
    cr_expect_str_eq(r->body, "{\"fallthrough\":true}");
}
