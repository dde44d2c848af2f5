/*
 * client.c - see client.h. Every transfer has a 15 s ceiling so a hung
 * server fails a test instead of hanging the suite.
 */
#include "client.h"

#include "json.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct grow {
    char *p;
    size_t len;
} grow;

static size_t on_data(char *ptr, size_t size, size_t n, void *ud)
{
    grow *g = ud;
    size_t add = size * n;
    char *np = realloc(g->p, g->len + add + 1);
    if (!np)
        return 0;
    memcpy(np + g->len, ptr, add);
    g->len += add;
    np[g->len] = '\0';
    g->p = np;
    return add;
}

/*
 * When the tests run through Prism's validating proxy, every response that
 * breaks the spec carries an sl-violations header whose entries are located
 * at ["response", ...]. Those are appended to $PRISM_VIOLATIONS_LOG for the
 * harness to fail on. Request-side violations are expected: the tests send
 * bad requests on purpose.
 */
static void note_violations(const char *method, const char *path, const http_resp *r)
{
    const char *log = getenv("PRISM_VIOLATIONS_LOG");
    char v[4096];
    if (!log || !http_header(r, "sl-violations", v, sizeof v) || !strstr(v, "[\"response\""))
        return;
    FILE *f = fopen(log, "a");
    if (f) {
        fprintf(f, "%s %s -> %ld: %s\n", method, path, r->status, v);
        fclose(f);
    }
}

const char *api_url(void)
{
    const char *u = getenv("API_URL");
    return u && u[0] ? u : "http://127.0.0.1:8080";
}

int http_do(const char *method, const char *path, const char *content_type,
            const char *body, size_t len, const char *const *extra, http_resp *out)
{
    memset(out, 0, sizeof *out);
    CURL *c = curl_easy_init();
    if (!c)
        return -1;
    char url[2048];
    snprintf(url, sizeof url, "%s%s", api_url(), path);
    grow b = { 0 }, h = { 0 };
    struct curl_slist *hdrs = NULL;
    char ct[256];
    if (content_type) {
        snprintf(ct, sizeof ct, "Content-Type: %s", content_type);
        hdrs = curl_slist_append(hdrs, ct);
    }
    /* curl adds "Expect: 100-continue" for larger bodies; tests want plain requests. */
    hdrs = curl_slist_append(hdrs, "Expect:");
    for (int i = 0; extra && extra[i]; i++)
        hdrs = curl_slist_append(hdrs, extra[i]);

    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    CURLcode rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    out->body = b.p ? b.p : calloc(1, 1);
    out->len = b.len;
    out->headers = h.p ? h.p : calloc(1, 1);
    out->hlen = h.len;
    if (rc != CURLE_OK) {
        fprintf(stderr, "http_do %s %s: %s\n", method, path, curl_easy_strerror(rc));
        return -1;
    }
    note_violations(method, path, out);
    return 0;
}

int http_get(const char *path, http_resp *out)
{
    return http_do("GET", path, NULL, NULL, 0, NULL, out);
}

int http_json(const char *method, const char *path, const char *json, http_resp *out)
{
    return http_do(method, path, "application/json", json, json ? strlen(json) : 0, NULL, out);
}

void http_resp_free(http_resp *r)
{
    free(r->body);
    free(r->headers);
    memset(r, 0, sizeof *r);
}

const char *http_header(const http_resp *r, const char *name, char *buf, size_t n)
{
    size_t nl = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t ll = eol ? (size_t)(eol - line) : strlen(line);
        if (ll > nl && line[nl] == ':' && strncasecmp(line, name, nl) == 0) {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t vl = (size_t)(line + ll - v);
            if (vl >= n)
                vl = n - 1;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            return buf;
        }
        line = eol ? eol + 2 : NULL;
    }
    return NULL;
}

/* Walk one value: descend when it matches the next pointer token. */
static const char *walk(rt_json_dec *d, const char *ptr, char *buf, size_t n)
{
    if (*ptr == '\0') {
        rt_json_type t = rt_json_peek(d);
        size_t start = d->pos;
        if (t == RT_JSON_STRING) {
            rt_str s;
            if (rt_json_str(d, &s) < 0)
                return NULL;
            size_t l = s.len < n - 1 ? s.len : n - 1;
            memcpy(buf, s.ptr, l);
            buf[l] = '\0';
            return buf;
        }
        if (rt_json_skip(d) < 0)
            return NULL;
        size_t l = d->pos - start < n - 1 ? d->pos - start : n - 1;
        memcpy(buf, d->buf + start, l);
        buf[l] = '\0';
        return buf;
    }
    const char *raw = ptr + 1;
    const char *end = strchr(raw, '/');
    size_t rl = end ? (size_t)(end - raw) : strlen(raw);
    const char *rest = raw + rl;
    /* RFC 6901: "~1" is '/', "~0" is '~'. */
    char tok[256];
    size_t tl = 0;
    for (size_t i = 0; i < rl && tl < sizeof tok - 1; i++) {
        if (raw[i] == '~' && i + 1 < rl && (raw[i + 1] == '0' || raw[i + 1] == '1')) {
            tok[tl++] = raw[i + 1] == '1' ? '/' : '~';
            i++;
        } else {
            tok[tl++] = raw[i];
        }
    }
    tok[tl] = '\0';
    rt_json_type t = rt_json_peek(d);
    if (t == RT_JSON_OBJECT) {
        rt_str key;
        if (rt_json_obj_begin(d) < 0)
            return NULL;
        int r;
        while ((r = rt_json_obj_next(d, &key)) == 1) {
            if (key.len == tl && memcmp(key.ptr, tok, tl) == 0)
                return walk(d, rest, buf, n);
            if (rt_json_skip(d) < 0)
                return NULL;
        }
        return NULL;
    }
    if (t == RT_JSON_ARRAY) {
        long want = strtol(tok, NULL, 10);
        if (rt_json_arr_begin(d) < 0)
            return NULL;
        for (long i = 0; rt_json_arr_next(d) == 1; i++) {
            if (i == want)
                return walk(d, rest, buf, n);
            if (rt_json_skip(d) < 0)
                return NULL;
        }
    }
    return NULL;
}

const char *json_at(const char *doc, size_t len, const char *pointer, char *buf, size_t n)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    memcpy(copy, doc, len);
    rt_json_dec d;
    rt_json_dec_init(&d, copy, len, 64);
    const char *r = walk(&d, pointer, buf, n);
    free(copy);
    return r;
}

const char *unique_name(const char *prefix, char *buf, size_t n)
{
    static unsigned counter;
    snprintf(buf, n, "%s%ldx%u", prefix, (long)getpid(), counter++);
    return buf;
}
