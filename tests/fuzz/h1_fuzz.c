/*
 * h1_fuzz.c - libFuzzer target for the HTTP/1.1 request parser (h1.c).
 *
 * Properties checked on every input (abort() marks a finding):
 *  1. h1_parse_head: on H1_OK, head_len <= size, minor is 0 or 1, every view
 *     lies inside the input, names are tokens and values carry no CR, LF, NUL
 *     or surrounding SP/HTAB; the head alone parses the same, and one byte
 *     less is H1_INCOMPLETE. An H1_INCOMPLETE input stays so when cut shorter.
 *  2. h1_chunked_feed over the bytes after the head (or the whole input): the
 *     result, the total bytes used and the payload are the same fed at once
 *     and in two pieces split at a point taken from the data; *used <= n.
 *  3. h1_unescape on a copy: the length does not grow and no NUL appears
 *     that was not in the input.
 * Memory errors and undefined behaviour are caught by the sanitizers; every
 * buffer handed to the parser is an exact-length heap copy.
 *
 *   make fuzz-h1 FUZZ_SECONDS=60      run it; findings land in build/fuzz/
 */
#include "h1.h"

#include <stdlib.h>
#include <string.h>

static char *copy(const uint8_t *data, size_t size)
{
    char *b = malloc(size ? size : 1);
    if (!b)
        abort();
    if (size)
        memcpy(b, data, size);
    return b;
}

static bool inside(const char *p, size_t n, const char *buf, size_t len)
{
    return p >= buf && p <= buf + len && n <= (size_t)(buf + len - p);
}

static void check_head(const char *b, size_t size, const h1_head *h)
{
    if (h->head_len > size || (h->minor != 0 && h->minor != 1) || h->nheaders > H1_MAX_HEADERS)
        abort();
    if (!inside(h->method, h->method_len, b, h->head_len) || h->method_len == 0 ||
        !inside(h->target, h->target_len, b, h->head_len) || h->target_len == 0)
        abort();
    for (unsigned i = 0; i < h->nheaders; i++) {
        const h1_header *f = &h->headers[i];
        if (!inside(f->name, f->name_len, b, h->head_len) || f->name_len == 0 ||
            !inside(f->value, f->value_len, b, h->head_len))
            abort();
        if (memchr(f->name, ':', f->name_len) || memchr(f->name, ' ', f->name_len))
            abort();
        for (size_t k = 0; k < f->value_len; k++) {
            char c = f->value[k];
            if (c == '\r' || c == '\n' || c == '\0')
                abort();
        }
        if (f->value_len && (f->value[0] == ' ' || f->value[0] == '\t' ||
                             f->value[f->value_len - 1] == ' ' || f->value[f->value_len - 1] == '\t'))
            abort();
        if (h1_find(h, f->name, f->name_len) > f)
            abort(); /* the first match comes first */
    }
}

static void check_parse(const uint8_t *data, size_t size, size_t *body)
{
    char *b = copy(data, size);
    h1_head h;
    h1_result r = h1_parse_head(b, size, &h);
    *body = 0;
    if (r == H1_OK) {
        check_head(b, size, &h);
        size_t hl = h.head_len;
        *body = hl;
        h1_head h2;
        if (h1_parse_head(b, hl, &h2) != H1_OK || h2.head_len != hl || h2.nheaders != h.nheaders)
            abort();
        if (hl == 0 || h1_parse_head(b, hl - 1, &h2) != H1_INCOMPLETE)
            abort();
    } else if (r == H1_INCOMPLETE && size > 0) {
        h1_head h2;
        if (h1_parse_head(b, data[0] % size, &h2) != H1_INCOMPLETE)
            abort();
    } else if (r != H1_BAD && r != H1_TOO_MANY_HEADERS && r != H1_VERSION && r != H1_INCOMPLETE) {
        abort();
    }
    free(b);
}

struct sink {
    char *buf;
    size_t len, cap;
};

static void emit(void *cls, const char *p, size_t k)
{
    struct sink *s = cls;
    if (k == 0 || k > s->cap - s->len)
        abort();
    memcpy(s->buf + s->len, p, k);
    s->len += k;
}

/* Feeds in[0..n) as in[0..at) then in[at..n); the total consumed in *used. */
static h1_result feed2(const uint8_t *in, size_t n, size_t at, struct sink *s, size_t *used)
{
    h1_chunked c;
    h1_chunked_init(&c);
    s->len = 0;
    char *a = copy(in, at);
    size_t u1 = 0, u2 = 0;
    h1_result r = h1_chunked_feed(&c, a, at, &u1, emit, s);
    free(a);
    if (u1 > at || (r == H1_INCOMPLETE && u1 != at))
        abort();
    *used = u1;
    if (r != H1_INCOMPLETE || at == n)
        return r;
    char *b = copy(in + at, n - at);
    r = h1_chunked_feed(&c, b, n - at, &u2, emit, s);
    free(b);
    if (u2 > n - at || (r == H1_INCOMPLETE && u2 != n - at))
        abort();
    *used += u2;
    return r;
}

static void check_chunked(const uint8_t *in, size_t n)
{
    struct sink one = {malloc(n ? n : 1), 0, n}, two = {malloc(n ? n : 1), 0, n};
    if (!one.buf || !two.buf)
        abort();
    size_t u1, u2;
    h1_result r1 = feed2(in, n, n, &one, &u1);
    size_t at = n ? (in[n / 2] * 131u + in[n - 1]) % (n + 1) : 0;
    h1_result r2 = feed2(in, n, at, &two, &u2);
    if (r1 != r2 || u1 != u2 || one.len != two.len || memcmp(one.buf, two.buf, one.len) != 0)
        abort();
    if (r1 != H1_OK && r1 != H1_INCOMPLETE && r1 != H1_BAD)
        abort();
    if (one.len > u1)
        abort(); /* payload comes out of the bytes consumed */
    free(one.buf);
    free(two.buf);
}

static void check_unescape(const uint8_t *data, size_t size, bool plus)
{
    char *b = copy(data, size);
    size_t m = h1_unescape(b, size, plus);
    if (m > size)
        abort();
    size_t nul_in = 0, nul_out = 0;
    for (size_t i = 0; i < size; i++)
        nul_in += data[i] == 0;
    for (size_t i = 0; i < m; i++)
        nul_out += b[i] == 0;
    if (nul_out != nul_in)
        abort();
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t body;
    check_parse(data, size, &body);
    check_chunked(data + body, size - body);
    check_unescape(data, size, size && (data[0] & 1));
    uint64_t v;
    if (h1_content_length((const char *)data, size, &v) && (size > 18 || v > 999999999999999999ull))
        abort();
    return 0;
}
