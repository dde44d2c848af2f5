/*
 * h1_test.c - tests of src/runtime/h1.c: the request-head parser (valid
 * heads, every prefix of them, pipelining, each malformation it must refuse),
 * h1_find, Content-Length, percent-decoding, and the chunked decoder fed whole,
 * byte by byte and split at every point, plus inputs ending at an unmapped page.
 *
 * Inputs are copied into malloc blocks of exactly their length, so ASan
 * reports any read past the end (request bytes are never NUL-terminated).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "h1.h"
#include "testutil.h"

/* ================================================================ helpers */

/* The first n bytes of s, parsed from an exact-length copy. */
static h1_result parse_n(const char *s, size_t n, h1_head *h)
{
    return h1_parse_head(test_copy(s, n), n, h);
}

/* From a string literal, so embedded NULs count. */
#define PARSE(lit, h) parse_n((lit), sizeof(lit) - 1, (h))

static bool view_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}
#define HDR_IS(h, k, nm, val)                                                                 \
    do {                                                                                      \
        cr_assert_lt((k), (h).nheaders);                                                      \
        cr_assert(view_is((h).headers[k].name, (h).headers[k].name_len, (nm)), "name %u", k); \
        cr_assert(view_is((h).headers[k].value, (h).headers[k].value_len, (val)),             \
                  "value %u: '%.*s'", k, (int)(h).headers[k].value_len, (h).headers[k].value); \
    } while (0)

TestSuite(h1, .fini = test_free_copies);

/* ================================================================ valid heads */

Test(h1, simple_get)
{
    static const char req[] = "GET /users/1?x=%41 HTTP/1.1\r\nHost: a\r\n\r\n";
    h1_head h;
    cr_assert_eq(PARSE(req, &h), H1_OK);
    cr_assert(view_is(h.method, h.method_len, "GET"));
    cr_assert(view_is(h.target, h.target_len, "/users/1?x=%41"));
    cr_assert_eq(h.minor, 1);
    cr_assert_eq(h.nheaders, 1);
    HDR_IS(h, 0u, "Host", "a");
    cr_assert_eq(h.head_len, sizeof req - 1);
}

Test(h1, post_with_several_headers)
{
    static const char req[] = "POST /users HTTP/1.1\r\n"
                              "Host: example.com\r\n"
                              "Content-Type: application/json\r\n"
                              "Content-Length: 13\r\n"
                              "X-Odd_Name!#$%&'*+-.^`|~: v\r\n"
                              "\r\n"
                              "{\"a\":\"hello\"}";
    h1_head h;
    cr_assert_eq(PARSE(req, &h), H1_OK);
    cr_assert(view_is(h.method, h.method_len, "POST"));
    cr_assert(view_is(h.target, h.target_len, "/users"));
    cr_assert_eq(h.nheaders, 4);
    HDR_IS(h, 0u, "Host", "example.com");
    HDR_IS(h, 1u, "Content-Type", "application/json");
    HDR_IS(h, 2u, "Content-Length", "13");
    HDR_IS(h, 3u, "X-Odd_Name!#$%&'*+-.^`|~", "v");
    cr_assert_eq(h.head_len, sizeof req - 1 - 13);
}

Test(h1, http10_and_odd_methods)
{
    h1_head h;
    cr_assert_eq(PARSE("GET / HTTP/1.0\r\n\r\n", &h), H1_OK);
    cr_assert_eq(h.minor, 0);
    cr_assert_eq(h.nheaders, 0);
    cr_assert_eq(h.head_len, 18);
    /* any token is a method; '*' is a target (OPTIONS *) */
    cr_assert_eq(PARSE("M-SEARCH * HTTP/1.1\r\n\r\n", &h), H1_OK);
    cr_assert(view_is(h.method, h.method_len, "M-SEARCH"));
    cr_assert(view_is(h.target, h.target_len, "*"));
    cr_assert_eq(PARSE("CONNECT host:443 HTTP/1.1\r\n\r\n", &h), H1_OK);
    cr_assert(view_is(h.target, h.target_len, "host:443"));
}

Test(h1, leading_empty_lines)
{
    static const char req[] = "\r\n\n\r\nGET / HTTP/1.1\r\n\r\n";
    h1_head h;
    cr_assert_eq(PARSE(req, &h), H1_OK);
    cr_assert(view_is(h.method, h.method_len, "GET"));
    cr_assert_eq(h.head_len, sizeof req - 1, "empty lines count in head_len");
    cr_assert_eq(PARSE("\r\n\r\n", &h), H1_INCOMPLETE);
    cr_assert_eq(PARSE("\r", &h), H1_INCOMPLETE);
    cr_assert_eq(PARSE("\rG", &h), H1_BAD);
    cr_assert_eq(PARSE("", &h), H1_INCOMPLETE);
    cr_assert_eq(h1_parse_head(NULL, 0, &h), H1_INCOMPLETE);
}

Test(h1, bare_lf_line_ends)
{
    static const char req[] = "GET /a HTTP/1.1\nHost: x\nAccept: */*\r\n\n";
    h1_head h;
    cr_assert_eq(PARSE(req, &h), H1_OK);
    cr_assert_eq(h.nheaders, 2);
    HDR_IS(h, 0u, "Host", "x");
    HDR_IS(h, 1u, "Accept", "*/*");
    cr_assert_eq(h.head_len, sizeof req - 1);
}

Test(h1, value_trimming)
{
    static const char req[] = "GET / HTTP/1.1\r\n"
                              "A:  \t one  two \t \r\n"
                              "B:x\r\n"
                              "C: \xc3\xa9t\xe9\x80\xff \r\n"
                              "D:\t\"q\"\t\n"
                              "\r\n";
    h1_head h;
    cr_assert_eq(PARSE(req, &h), H1_OK);
    cr_assert_eq(h.nheaders, 4);
    HDR_IS(h, 0u, "A", "one  two");
    HDR_IS(h, 1u, "B", "x");
    HDR_IS(h, 2u, "C", "\xc3\xa9t\xe9\x80\xff");
    HDR_IS(h, 3u, "D", "\"q\"");
}

Test(h1, empty_values)
{
    h1_head h;
    cr_assert_eq(PARSE("GET / HTTP/1.1\r\nA:\r\nB:   \t \r\nC: \n\r\n", &h), H1_OK);
    cr_assert_eq(h.nheaders, 3);
    HDR_IS(h, 0u, "A", "");
    HDR_IS(h, 1u, "B", "");
    HDR_IS(h, 2u, "C", "");
}

Test(h1, find_is_case_insensitive_and_first)
{
    h1_head h;
    cr_assert_eq(PARSE("GET / HTTP/1.1\r\nhost: one\r\nX-A: 1\r\nHOST: two\r\nHost-X: no\r\n\r\n", &h),
                 H1_OK);
    const h1_header *f = h1_find(&h, "Host", 4);
    cr_assert_not_null(f);
    cr_assert(view_is(f->value, f->value_len, "one"), "the first of two");
    cr_assert_eq(f, &h.headers[0]);
    f = h1_find(&h, "x-a", 3);
    cr_assert_not_null(f);
    cr_assert(view_is(f->value, f->value_len, "1"));
    cr_assert_null(h1_find(&h, "Hos", 3), "a prefix is not a match");
    cr_assert_null(h1_find(&h, "Content-Length", 14));
    /* only ASCII letters fold: '@' (0x40) and '`' (0x60) differ */
    cr_assert_eq(PARSE("GET / HTTP/1.1\r\nA`: 1\r\n\r\n", &h), H1_OK);
    cr_assert_null(h1_find(&h, "A@", 2));
    cr_assert_not_null(h1_find(&h, "a`", 2));
}

/* ================================================================ prefixes and pipelining */

/* Every proper prefix is H1_INCOMPLETE; the whole is H1_OK with the same
 * fields as offsets (the copies differ in address). */
static void check_prefixes(const char *req, size_t n)
{
    h1_head whole;
    const char *base = test_copy(req, n);
    cr_assert_eq(h1_parse_head(base, n, &whole), H1_OK, "whole: %s", req);
    cr_assert_eq(whole.head_len, n);
    for (size_t k = 0; k < n; k++) {
        h1_head h;
        cr_assert_eq(parse_n(req, k, &h), H1_INCOMPLETE, "prefix %zu of %s", k, req);
    }
    /* the same bytes with more after them give the same head */
    char *more = malloc(n + 7);
    cr_assert_not_null(more);
    memcpy(more, req, n);
    memcpy(more + n, "GET / H", 7);
    h1_head h;
    cr_assert_eq(h1_parse_head(more, n + 7, &h), H1_OK);
    cr_assert_eq(h.head_len, n, "pipelined bytes are not consumed");
    cr_assert_eq(h.method - more, whole.method - base);
    cr_assert_eq(h.method_len, whole.method_len);
    cr_assert_eq(h.target - more, whole.target - base);
    cr_assert_eq(h.target_len, whole.target_len);
    cr_assert_eq(h.minor, whole.minor);
    cr_assert_eq(h.nheaders, whole.nheaders);
    for (unsigned i = 0; i < h.nheaders; i++) {
        cr_assert_eq(h.headers[i].name - more, whole.headers[i].name - base);
        cr_assert_eq(h.headers[i].name_len, whole.headers[i].name_len);
        cr_assert_eq(h.headers[i].value - more, whole.headers[i].value - base);
        cr_assert_eq(h.headers[i].value_len, whole.headers[i].value_len);
    }
    free(more);
}
#define CHECK_PREFIXES(lit) check_prefixes((lit), sizeof(lit) - 1)

Test(h1, every_prefix_is_incomplete)
{
    CHECK_PREFIXES("GET / HTTP/1.1\r\n\r\n");
    CHECK_PREFIXES("GET / HTTP/1.0\n\n");
    CHECK_PREFIXES("\r\n\nPOST /users?a=b HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n");
    CHECK_PREFIXES("PATCH /u/1 HTTP/1.1\nA:\nB: \t v \t\r\nC:x\n\r\n");
}

Test(h1, pipelined_heads)
{
    static const char two[] = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc"
                              "GET /b HTTP/1.1\r\nHost: h\r\n\r\n"
                              "GET /c";
    const char *b = test_copy(two, sizeof two - 1);
    size_t n = sizeof two - 1;
    h1_head h;
    cr_assert_eq(h1_parse_head(b, n, &h), H1_OK);
    cr_assert(view_is(h.target, h.target_len, "/a"));
    size_t off = h.head_len + 3;
    cr_assert_eq(memcmp(b + h.head_len, "abc", 3), 0, "head_len is exact");
    cr_assert_eq(h1_parse_head(b + off, n - off, &h), H1_OK);
    cr_assert(view_is(h.target, h.target_len, "/b"));
    HDR_IS(h, 0u, "Host", "h");
    off += h.head_len;
    cr_assert_eq(h1_parse_head(b + off, n - off, &h), H1_INCOMPLETE);
}

/* ================================================================ malformed heads */

struct bad_case {
    const char *in;
    size_t n;
    h1_result want;
};
#define BC(lit, r) {(lit), sizeof(lit) - 1, (r)}

Test(h1, malformed_heads)
{
    static const struct bad_case cases[] = {
        /* version */
        BC("GET / http/1.1\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1 \r\n\r\n", H1_BAD),
        BC("GET / HTTP/1\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.\r\n\r\n", H1_BAD),
        BC("GET / HTTP/11.1\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.11\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1,1\r\n\r\n", H1_BAD),
        BC("GET / HTTPS/1.1\r\n\r\n", H1_BAD),
        BC("GET / XYZ\r\n\r\n", H1_BAD),
        BC("GET /\r\n\r\n", H1_BAD), /* HTTP/0.9 simple request */
        BC("GET / \r\n\r\n", H1_BAD),
        /* separators */
        BC("GET  / HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET /  HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET\t/ HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET /\tHTTP/1.1\r\n\r\n", H1_BAD),
        BC(" GET / HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\r\n\r\n", H1_BAD),
        /* method */
        BC(" / HTTP/1.1\r\n\r\n", H1_BAD),
        BC("G(T / HTTP/1.1\r\n\r\n", H1_BAD),
        BC("G\x80T / HTTP/1.1\r\n\r\n", H1_BAD),
        /* target */
        BC("GET /a\x01 HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET /a\x7f HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET /\x80 HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET /\xff HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET /a\0b HTTP/1.1\r\n\r\n", H1_BAD),
        BC("GET /a\rb HTTP/1.1\r\n\r\n", H1_BAD),
        /* fields */
        BC("GET / HTTP/1.1\r\nHost : x\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", H1_BAD),   /* obs-fold */
        BC("GET / HTTP/1.1\r\nA: b\r\n\tc\r\n\r\n", H1_BAD),  /* obs-fold */
        BC("GET / HTTP/1.1\r\n A: b\r\n\r\n", H1_BAD),        /* first line folded */
        BC("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA: b\x7f\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA: b\x0b\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA: b\r\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nNoColon\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\n: empty name\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA(b): c\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA\x80: c\r\n\r\n", H1_BAD),
        BC("GET / HTTP/1.1\r\nA: b\r\n\rX", H1_BAD),
        BC("GET / HTTP/1.1\r\nA: b\r\n\r", H1_INCOMPLETE),
        /* versions we do not speak */
        BC("GET / HTTP/2.0\r\n\r\n", H1_VERSION),
        BC("GET / HTTP/1.2\r\n\r\n", H1_VERSION),
        BC("GET / HTTP/0.9\r\n\r\n", H1_VERSION),
        BC("GET / HTTP/9.9\n", H1_VERSION),
        BC("GET / HTTP/2.0", H1_INCOMPLETE),
        BC("GET / HTTP/2.0\r", H1_INCOMPLETE),
        BC("GET / HTTP/2.0\rx", H1_BAD),
        BC("GET / HTTP/2.0 \r\n", H1_BAD),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        h1_head h;
        h1_result r = parse_n(cases[i].in, cases[i].n, &h);
        cr_assert_eq(r, cases[i].want, "case %zu: got %d want %d", i, r, cases[i].want);
    }
}

Test(h1, bad_before_the_head_ends)
{
    h1_head h;
    cr_assert_eq(PARSE("GET /x HTTP/1.1\r\nBad Name: x", &h), H1_BAD);
    cr_assert_eq(PARSE("GET /x HTTP/1.1\r\nA: \x01", &h), H1_BAD);
    cr_assert_eq(PARSE("GET /x HTTP/1.1\r\n ", &h), H1_BAD);
    cr_assert_eq(PARSE("GET /x HTTP/1.1\r", &h), H1_INCOMPLETE);
    cr_assert_eq(PARSE("GET /x HTTP/1.1\rA", &h), H1_BAD);
    cr_assert_eq(PARSE("GET /x HTTP/1.2", &h), H1_INCOMPLETE);
    cr_assert_eq(PARSE("GET /x HTTP/1.", &h), H1_INCOMPLETE);
    cr_assert_eq(PARSE("GET /x HTTQ", &h), H1_BAD);
    cr_assert_eq(PARSE("GET /x\x01", &h), H1_BAD);
    cr_assert_eq(PARSE("GE T", &h), H1_INCOMPLETE);
    cr_assert_eq(PARSE("GE\"", &h), H1_BAD);
}

/* A head with k fields "H<i>: v". */
static size_t many_fields(char *buf, size_t cap, unsigned k)
{
    size_t n = (size_t)snprintf(buf, cap, "GET / HTTP/1.1\r\n");
    for (unsigned i = 0; i < k; i++)
        n += (size_t)snprintf(buf + n, cap - n, "H%u: v%u\r\n", i, i);
    n += (size_t)snprintf(buf + n, cap - n, "\r\n");
    cr_assert_lt(n, cap);
    return n;
}

Test(h1, header_count_limit)
{
    char buf[4096];
    h1_head h;
    size_t n = many_fields(buf, sizeof buf, H1_MAX_HEADERS);
    cr_assert_eq(parse_n(buf, n, &h), H1_OK);
    cr_assert_eq(h.nheaders, H1_MAX_HEADERS);
    cr_assert(view_is(h.headers[63].name, h.headers[63].name_len, "H63"));
    cr_assert(view_is(h.headers[63].value, h.headers[63].value_len, "v63"));
    n = many_fields(buf, sizeof buf, H1_MAX_HEADERS + 1);
    cr_assert_eq(parse_n(buf, n, &h), H1_TOO_MANY_HEADERS);
    /* as soon as the 65th line starts, not before */
    size_t at = (size_t)(strstr(buf, "H64:") - buf);
    cr_assert_eq(parse_n(buf, at, &h), H1_INCOMPLETE);
    cr_assert_eq(parse_n(buf, at + 1, &h), H1_TOO_MANY_HEADERS);
    /* 64 fields then the end of the head is still fine */
    n = many_fields(buf, sizeof buf, H1_MAX_HEADERS);
    cr_assert_eq(parse_n(buf, n - 1, &h), H1_INCOMPLETE);
}

/* ================================================================ content-length */

Test(h1, content_length)
{
    uint64_t v = 77;
#define CL(lit) h1_content_length((lit), sizeof(lit) - 1, &v)
    cr_assert(CL("0"));
    cr_assert_eq(v, 0);
    cr_assert(CL("123"));
    cr_assert_eq(v, 123);
    cr_assert(CL("007"));
    cr_assert_eq(v, 7);
    cr_assert(CL("999999999999999999"));
    cr_assert_eq(v, 999999999999999999ull);
    v = 5;
    cr_assert_not(CL(""));
    cr_assert_not(CL("+1"));
    cr_assert_not(CL("-1"));
    cr_assert_not(CL("1 "));
    cr_assert_not(CL(" 1"));
    cr_assert_not(CL("1 1"));
    cr_assert_not(CL("1,1"));
    cr_assert_not(CL("0x10"));
    cr_assert_not(CL("1\0"));
    cr_assert_not(CL("1000000000000000000"));   /* 19 digits */
    cr_assert_not(CL("18446744073709551616")); /* 2^64 */
    cr_assert_not(CL("99999999999999999999999999"));
    cr_assert_eq(v, 5, "unchanged on failure");
#undef CL
}

/* ================================================================ unescape */

static void check_unescape(const char *in, bool plus, const char *want)
{
    size_t n = strlen(in);
    char *b = test_copy(in, n);
    size_t m = h1_unescape(b, n, plus);
    cr_assert_leq(m, n);
    cr_assert(m == strlen(want) && memcmp(b, want, m) == 0, "'%s' -> '%.*s', want '%s'", in,
              (int)m, b, want);
}

Test(h1, unescape)
{
    check_unescape("%41", false, "A");
    check_unescape("a%2fb%2F", false, "a/b/");
    check_unescape("%e2%82%AC", false, "\xe2\x82\xac");
    check_unescape("/users/1%00/x", false, "/users/1%00/x");
    check_unescape("%4", false, "%4");
    check_unescape("%zz", false, "%zz");
    check_unescape("%4g", false, "%4g");
    check_unescape("%g4", false, "%g4");
    check_unescape("x%", false, "x%");
    check_unescape("%", false, "%");
    check_unescape("%%41", false, "%A");
    check_unescape("%2541", false, "%41"); /* decoded once only */
    check_unescape("a+b", false, "a+b");
    check_unescape("a+b", true, "a b");
    check_unescape("%2B", true, "+");
    check_unescape("%2b+%20", true, "+  ");
    check_unescape("", true, "");
    cr_assert_eq(h1_unescape(NULL, 0, true), 0);
}

/* ================================================================ chunked */

#define SINK_MAX 16384
struct sink {
    char buf[SINK_MAX];
    size_t len;
    unsigned calls;
};

static void sink_emit(void *cls, const char *p, size_t k)
{
    struct sink *s = cls;
    cr_assert_gt(k, 0, "emit is never called with nothing");
    cr_assert_leq(s->len + k, SINK_MAX);
    memcpy(s->buf + s->len, p, k);
    s->len += k;
    s->calls++;
}

/* Feeds in[0..n) in pieces of at most `step` bytes (each an exact-length
 * copy); a piece cut at `split` too when split < n. *total is the bytes
 * consumed over all calls. */
static h1_result feed(const char *in, size_t n, size_t step, size_t split, struct sink *s,
                      size_t *total)
{
    h1_chunked c;
    h1_chunked_init(&c);
    s->len = 0;
    s->calls = 0;
    size_t off = 0;
    h1_result r = H1_INCOMPLETE;
    *total = 0;
    while (off < n || n == 0) {
        size_t k = n - off < step ? n - off : step;
        if (off < split && off + k > split)
            k = split - off;
        size_t used = 12345;
        r = h1_chunked_feed(&c, test_copy(in + off, k), k, &used, sink_emit, s);
        cr_assert_leq(used, k);
        *total += used;
        if (r != H1_INCOMPLETE)
            break;
        cr_assert_eq(used, k, "INCOMPLETE consumes everything");
        off += k;
        if (n == 0)
            break;
    }
    return r;
}

/* Whole, byte by byte, and every 2-way split agree. */
static h1_result feed_every_way(const char *in, size_t n, struct sink *whole, size_t *used)
{
    h1_result r = feed(in, n, n ? n : 1, n, whole, used);
    struct sink *s = malloc(sizeof *s);
    cr_assert_not_null(s);
    size_t u;
    cr_assert_eq(feed(in, n, 1, n, s, &u), r, "byte by byte");
    cr_assert_eq(u, *used);
    cr_assert(s->len == whole->len && memcmp(s->buf, whole->buf, s->len) == 0);
    for (size_t at = 0; at <= n; at++) {
        cr_assert_eq(feed(in, n, n ? n : 1, at, s, &u), r, "split at %zu", at);
        cr_assert_eq(u, *used, "split at %zu", at);
        cr_assert(s->len == whole->len && memcmp(s->buf, whole->buf, s->len) == 0, "split at %zu",
                  at);
    }
    free(s);
    return r;
}
#define FEED(lit, s, u) feed_every_way((lit), sizeof(lit) - 1, (s), (u))

static struct sink sink;

Test(h1, chunked_two_chunks_with_extensions_and_trailers)
{
    static const char body[] = "5;name=val;q=\"a b\"\r\n"
                               "hello\r\n"
                               "1A \t; ext\r\n"
                               "abcdefghijklmnopqrstuvwxyz\r\n"
                               "0;last\r\n"
                               "Expires: never\r\n"
                               "X-Sum:\tabc \r\n"
                               "\r\n";
    size_t used;
    cr_assert_eq(FEED(body, &sink, &used), H1_OK);
    cr_assert_eq(used, sizeof body - 1);
    cr_assert_eq(sink.len, 31);
    cr_assert_eq(memcmp(sink.buf, "helloabcdefghijklmnopqrstuvwxyz", 31), 0);
}

Test(h1, chunked_last_chunk_only)
{
    size_t used;
    cr_assert_eq(FEED("0\r\n\r\n", &sink, &used), H1_OK);
    cr_assert_eq(used, 5);
    cr_assert_eq(sink.len, 0);
    cr_assert_eq(sink.calls, 0);
    cr_assert_eq(FEED("000\r\n\r\n", &sink, &used), H1_OK);
    cr_assert_eq(used, 7);
    cr_assert_eq(FEED("0\n\n", &sink, &used), H1_OK, "bare LF");
    cr_assert_eq(used, 3);
    cr_assert_eq(FEED("0\r\n", &sink, &used), H1_INCOMPLETE);
    cr_assert_eq(used, 3);
    cr_assert_eq(FEED("", &sink, &used), H1_INCOMPLETE);
    cr_assert_eq(used, 0);
}

Test(h1, chunked_hex_digits)
{
    char body[64];
    size_t used;
    cr_assert_eq(FEED("A\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n", &sink, &used), H1_OK);
    cr_assert_eq(sink.len, 20);
    /* 15 digits are allowed: the decoder then waits for that much data */
    memcpy(body, "00000000000000F\r\n", 17);
    memcpy(body + 17, "abc", 3);
    cr_assert_eq(feed_every_way(body, 20, &sink, &used), H1_INCOMPLETE);
    cr_assert_eq(sink.len, 3);
    cr_assert_eq(FEED("fffffffffffffff\r\nab", &sink, &used), H1_INCOMPLETE);
}

Test(h1, chunked_malformed)
{
    static const struct bad_case cases[] = {
        BC("g\r\n", H1_BAD),
        BC("\r\n", H1_BAD),
        BC(";x\r\n", H1_BAD),
        BC("-1\r\n", H1_BAD),
        BC("+1\r\n", H1_BAD),
        BC("0x5\r\n", H1_BAD),
        BC(" 5\r\n", H1_BAD),
        BC("5 \r\n", H1_BAD),        /* BWS only before ';' */
        BC("5 x;\r\n", H1_BAD),
        BC("5\rx", H1_BAD),
        BC("5;a\rb\r\n", H1_BAD),    /* lone CR in an extension */
        BC("5;a\0\r\n", H1_BAD),     /* control byte in an extension */
        BC("3\r\nabcX", H1_BAD),     /* no CRLF after data */
        BC("3\r\nabc\rX", H1_BAD),
        BC("3\r\nabcd\r\n", H1_BAD),
        BC("3\r\nab\r\n\r\n", H1_BAD), /* data "ab\r", LF, then an empty size line */
        BC("1000000000000000\r\n", H1_BAD), /* 16 digits */
        BC("ffffffffffffffff0\r\n", H1_BAD),
        BC("0000000000000001\r\n", H1_BAD), /* leading zeros count */
        BC("0\r\nA : b\r\n\r\n", H1_BAD),
        BC("0\r\n b\r\n\r\n", H1_BAD),
        BC("0\r\nNoColon\r\n\r\n", H1_BAD),
        BC("0\r\nA: b\0\r\n\r\n", H1_BAD),
        BC("0\r\nA: b\rc\r\n\r\n", H1_BAD),
        BC("0\r\n\rX", H1_BAD),
        BC("0\r\n\r", H1_INCOMPLETE),
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t used;
        h1_result r = feed_every_way(cases[i].in, cases[i].n, &sink, &used);
        cr_assert_eq(r, cases[i].want, "case %zu: got %d want %d", i, r, cases[i].want);
    }
}

Test(h1, chunked_bad_offset_and_sticky_results)
{
    h1_chunked c;
    size_t used;
    h1_chunked_init(&c);
    cr_assert_eq(h1_chunked_feed(&c, "3\r\nabcX", 7, &used, NULL, NULL), H1_BAD);
    cr_assert_eq(used, 6, "the offset of the offending byte");
    cr_assert_eq(h1_chunked_feed(&c, "0\r\n\r\n", 5, &used, NULL, NULL), H1_BAD, "stays failed");
    cr_assert_eq(used, 0);
    h1_chunked_init(&c);
    cr_assert_eq(h1_chunked_feed(&c, "0\r\n\r\n", 5, &used, NULL, NULL), H1_OK);
    cr_assert_eq(h1_chunked_feed(&c, "0\r\n\r\n", 5, &used, NULL, NULL), H1_OK, "stays done");
    cr_assert_eq(used, 0);
}

static size_t line_body(char *buf, size_t ext_len)
{
    size_t n = 0;
    memcpy(buf, "1;", 2);
    n = 2;
    memset(buf + n, 'e', ext_len);
    n += ext_len;
    memcpy(buf + n, "\r\nx\r\n0\r\n\r\n", 10);
    return n + 10;
}

Test(h1, chunked_size_line_bound)
{
    static char buf[8192];
    size_t used, n;
    /* "1;" and 4094 bytes of extension: 4096 bytes, the most allowed */
    n = line_body(buf, H1_CHUNK_LINE_MAX - 2);
    cr_assert_eq(feed(buf, n, n, n, &sink, &used), H1_OK);
    cr_assert_eq(used, n);
    cr_assert_eq(feed(buf, n, 1, n, &sink, &used), H1_OK);
    cr_assert_eq(sink.len, 1);
    n = line_body(buf, H1_CHUNK_LINE_MAX - 1);
    cr_assert_eq(feed(buf, n, n, n, &sink, &used), H1_BAD);
    cr_assert_eq(used, H1_CHUNK_LINE_MAX, "the 4097th byte is refused");
    cr_assert_eq(feed(buf, n, 7, n, &sink, &used), H1_BAD);
    /* BWS counts too */
    memset(buf, ' ', sizeof buf);
    buf[0] = '1';
    cr_assert_eq(feed(buf, 5000, 5000, 5000, &sink, &used), H1_BAD);
    cr_assert_eq(used, H1_CHUNK_LINE_MAX);
}

static size_t trailer_body(char *buf, size_t cap, unsigned lines, size_t value_len)
{
    size_t n = (size_t)snprintf(buf, cap, "2\r\nok\r\n0\r\n");
    for (unsigned i = 0; i < lines; i++) {
        n += (size_t)snprintf(buf + n, cap - n, "T%02u:", i % 100);
        cr_assert_lt(n + value_len + 2, cap);
        memset(buf + n, 'v', value_len);
        n += value_len;
        buf[n++] = '\r';
        buf[n++] = '\n';
    }
    n += (size_t)snprintf(buf + n, cap - n, "\r\nnext");
    return n;
}

Test(h1, chunked_trailer_bounds)
{
    static char buf[16384];
    size_t used, n;
    n = trailer_body(buf, sizeof buf, H1_MAX_TRAILERS, 10);
    cr_assert_eq(feed(buf, n, n, n, &sink, &used), H1_OK);
    cr_assert_eq(used, n - 4);
    n = trailer_body(buf, sizeof buf, H1_MAX_TRAILERS + 1, 10);
    cr_assert_eq(feed(buf, n, n, n, &sink, &used), H1_BAD, "65 trailer lines");
    cr_assert_eq(feed(buf, n, 3, n, &sink, &used), H1_BAD);
    /* a 4096-byte trailer line passes, a 4097-byte one does not */
    n = trailer_body(buf, sizeof buf, 1, H1_CHUNK_LINE_MAX - 4);
    cr_assert_eq(feed(buf, n, n, n, &sink, &used), H1_OK);
    n = trailer_body(buf, sizeof buf, 1, H1_CHUNK_LINE_MAX - 3);
    cr_assert_eq(feed(buf, n, n, n, &sink, &used), H1_BAD);
    cr_assert_eq(feed(buf, n, 1, n, &sink, &used), H1_BAD);
}

Test(h1, chunked_leaves_what_follows)
{
    static const char body[] = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
    size_t used;
    cr_assert_eq(FEED(body, &sink, &used), H1_OK);
    cr_assert_eq(used, 13);
    cr_assert_lt(used, sizeof body - 1);
    cr_assert_eq(sink.len, 3);
    cr_assert_eq(memcmp(sink.buf, "abc", 3), 0);
    /* bare LF everywhere */
    cr_assert_eq(FEED("3;x\nabc\n0\nT: v\n\nXYZ", &sink, &used), H1_OK);
    cr_assert_eq(used, 16);
    cr_assert_eq(memcmp(sink.buf, "abc", 3), 0);
}

Test(h1, chunked_large_chunk_in_one_emit)
{
    static char buf[8300];
    size_t n = (size_t)snprintf(buf, sizeof buf, "2000\r\n");
    memset(buf + n, 'z', 0x2000);
    n += 0x2000;
    memcpy(buf + n, "\r\n0\r\n\r\n", 7);
    n += 7;
    size_t used;
    cr_assert_eq(feed(buf, n, n, n, &sink, &used), H1_OK);
    cr_assert_eq(used, n);
    cr_assert_eq(sink.len, 0x2000);
    cr_assert_eq(sink.calls, 1, "data is passed on in bulk");
}

/* ================================================================ guard page */

/* The input's last byte is the last byte before a PROT_NONE page: any read
 * past the end faults, with or without ASan. */
static char *at_page_end(const char *s, size_t n, void **map, size_t *maplen)
{
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    cr_assert_eq(mprotect(m + pg, pg, PROT_NONE), 0);
    cr_assert_leq(n, pg);
    memcpy(m + pg - n, s, n);
    *map = m;
    *maplen = 2 * pg;
    return m + pg - n;
}

Test(h1, inputs_ending_at_an_unmapped_page)
{
    static const char *heads[] = {
        "GET / HTTP/1.1\r\nA: b\r\n\r\n", "GET / HTTP/1.1\r\nA: b\r\n\r", "GET / HTTP/1.1\r\nA:  ",
        "GET / HTTP/1.1\r\nA", "GET / HTTP/1.1\r", "GET / HTTP/1.", "GET / HTT", "GET /", "\r",
        "%4", "%", "0;ext\r", "3\r\nab", "0\r\nT: v\r", "fff",
    };
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        size_t n = strlen(heads[i]), ml;
        void *map;
        char *b = at_page_end(heads[i], n, &map, &ml);
        h1_head h;
        h1_result r = h1_parse_head(b, n, &h);
        cr_assert(r == H1_OK || r == H1_INCOMPLETE || r == H1_BAD);
        for (size_t k = 0; k < n; k++) {
            h1_chunked c;
            size_t used;
            h1_chunked_init(&c);
            h1_chunked_feed(&c, b + k, n - k, &used, NULL, NULL);
            cr_assert_leq(used, n - k);
        }
        cr_assert_leq(h1_unescape(b, n, true), n);
        munmap(map, ml);
    }
    /* and the answers are the right ones, not just no fault */
    void *map;
    size_t ml;
    char *b = at_page_end("GET / HTTP/1.1\r\n\r", 17, &map, &ml);
    h1_head h;
    cr_assert_eq(h1_parse_head(b, 17, &h), H1_INCOMPLETE);
    munmap(map, ml);
}
