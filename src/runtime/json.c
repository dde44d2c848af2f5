/*
 * json.c - zero-copy JSON: a pull decoder that works in place on the request
 * body, a const whole-document validator, an encoder into rt_buf, and RFC 3339
 * timestamps.
 *
 * Decoder invariants:
 *  - Never reads buf[len] or beyond: the body is not NUL-terminated and may end
 *    at an unmapped page. Every multi-byte look-ahead checks the end first.
 *  - Never allocates. Strings are decoded in place: the write cursor trails the
 *    read cursor (an escape is never shorter than its UTF-8), and nothing at or
 *    after a string's closing quote is ever written.
 *  - Container state is not stored: obj_next/arr_next learn whether they are at
 *    the first member by looking back over whitespace for the opening bracket.
 *    That works because every complete value ends in '"', '}', ']', a digit or
 *    a literal's last letter - never '{' or '['.
 *  - rt_json_skip and rt_json_validate are iterative; the kind of each open
 *    container is one bit in a fixed stack, so skipping caps nesting at
 *    SKIP_MAX_DEPTH levels below the point where it starts, whatever max_depth.
 *  - The validator shares the decoder's code with writing switched off
 *    (`write` is a compile-time constant at each call site), so the two cannot
 *    disagree about what is valid.
 *  - max_depth 0 at init means RT_JSON_DEFAULT_DEPTH.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "json.h"

#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SKIP_MAX_DEPTH 4096u
/* A number token longer than this is canonicalised before strtod. */
#define NUM_SHORT_MAX 511u
/* Significant digits kept when canonicalising; 767 decide any double. */
#define NUM_SIG_DIGITS 780u

#if defined(__GNUC__)
#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define LIKELY(x) (x)
#define UNLIKELY(x) (x)
#define ALWAYS_INLINE inline
#endif

/* ================================================================ tables */

/* 1 for bytes a string may hold verbatim without further checks: printable
 * ASCII other than '"' and '\\'. */
static const unsigned char str_plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

/* Value of a hex digit, -1 for any other byte. */
static const signed char hexval[256] = {
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, 10, 11, 12, 13, 14, 15, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
    -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static inline bool is_ws(unsigned char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static inline bool is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10u;
}

/* The type of the value a byte starts (RT_JSON_NONE: no value starts so). */
static const unsigned char value_type[256] = {
    ['{'] = RT_JSON_OBJECT, ['['] = RT_JSON_ARRAY, ['"'] = RT_JSON_STRING,
    ['t'] = RT_JSON_BOOL, ['f'] = RT_JSON_BOOL, ['n'] = RT_JSON_NULL, ['-'] = RT_JSON_NUMBER,
    ['0'] = RT_JSON_NUMBER, ['1'] = RT_JSON_NUMBER, ['2'] = RT_JSON_NUMBER,
    ['3'] = RT_JSON_NUMBER, ['4'] = RT_JSON_NUMBER, ['5'] = RT_JSON_NUMBER,
    ['6'] = RT_JSON_NUMBER, ['7'] = RT_JSON_NUMBER, ['8'] = RT_JSON_NUMBER,
    ['9'] = RT_JSON_NUMBER,
};

static ALWAYS_INLINE rt_json_type type_of(unsigned char c)
{
    return (rt_json_type)value_type[c];
}

/* ================================================================ errors */

/* Records the first error and poisons the decoder. */
static int fail_at(rt_json_dec *d, int code, size_t pos, const char *msg)
{
    if (!d->failed) {
        d->failed = code;
        d->err_pos = pos;
        d->err = msg;
    }
    return d->failed;
}

static int syntax(rt_json_dec *d, size_t pos, const char *msg)
{
    return fail_at(d, RT_JSON_ESYNTAX, pos, msg);
}

static ALWAYS_INLINE void skip_ws(rt_json_dec *d)
{
    const unsigned char *b = (const unsigned char *)d->buf;
    size_t p = d->pos, n = d->len;
    while (p < n && b[p] <= ' ' && is_ws(b[p]))
        p++;
    d->pos = p;
}

/* The next value is not what the caller asked for: ETYPE if it starts like
 * some other value (nothing consumed), ESYNTAX if nothing can start here. */
static int wrong_type(rt_json_dec *d)
{
    if (d->pos >= d->len)
        return syntax(d, d->len, "unexpected end of input");
    if (type_of((unsigned char)d->buf[d->pos]) != RT_JSON_NONE)
        return RT_JSON_ETYPE;
    return syntax(d, d->pos, "expected a value");
}

void rt_json_dec_init(rt_json_dec *d, char *buf, size_t len, unsigned max_depth)
{
    d->buf = buf;
    d->len = buf ? len : 0;
    d->pos = 0;
    d->depth = 0;
    d->max_depth = max_depth ? max_depth : RT_JSON_DEFAULT_DEPTH;
    d->failed = 0;
    d->err_pos = 0;
    d->err = NULL;
    d->response = false;
}

rt_json_type rt_json_peek(rt_json_dec *d)
{
    if (d->failed)
        return RT_JSON_NONE;
    skip_ws(d);
    if (d->pos >= d->len)
        return RT_JSON_NONE;
    return type_of((unsigned char)d->buf[d->pos]);
}

/* ================================================================ strings */

/* Index of the first byte at or after p that is not plain ASCII (or len).
 * Eight bytes at a time while they fit: a byte is "special" when it is
 * < 0x20, >= 0x80, '"' or '\\'; the SWAR tests below are exact as booleans. */
static ALWAYS_INLINE size_t skip_plain(const unsigned char *b, size_t p, size_t len)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (len - p >= 8) {
        uint64_t v;
        memcpy(&v, b + p, 8);
        uint64_t q = v ^ (ones * '"'), s = v ^ (ones * '\\');
        uint64_t special = (v | ((v - ones * 0x20) & ~v) | ((q - ones) & ~q) | ((s - ones) & ~s)) & highs;
        if (special) {
#if defined(__GNUC__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            /* A borrow only runs upwards from a special byte, so the lowest
             * flagged byte is the first special one. */
            return p + ((unsigned)__builtin_ctzll(special) >> 3);
#else
            break;
#endif
        }
        p += 8;
    }
    while (p < len && str_plain[b[p]])
        p++;
    return p;
}

/* Length (2-4) of the valid UTF-8 sequence whose lead byte is b[p] >= 0x80,
 * or 0: overlongs, UTF-8-encoded surrogates, > U+10FFFF, stray continuation
 * bytes and sequences cut by the end of input are all invalid. */
static inline size_t utf8_seq(const unsigned char *b, size_t p, size_t len)
{
    unsigned c = b[p];
    size_t avail = len - p;
    unsigned lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* U+D800..DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n)
        return 0;
    if (b[p + 1] < lo || b[p + 1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((b[p + i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* Four hex digits at b[p..p+4), or -1. */
static inline long hex4(const unsigned char *b, size_t p, size_t len)
{
    if (len - p < 4)
        return -1;
    int h0 = hexval[b[p]], h1 = hexval[b[p + 1]], h2 = hexval[b[p + 2]], h3 = hexval[b[p + 3]];
    if ((h0 | h1 | h2 | h3) < 0)
        return -1;
    return (long)((h0 << 12) | (h1 << 8) | (h2 << 4) | h3);
}

static inline size_t utf8_put(char *w, unsigned long cp)
{
    if (cp < 0x80) {
        w[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        w[0] = (char)(0xC0 | (cp >> 6));
        w[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        w[0] = (char)(0xE0 | (cp >> 12));
        w[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        w[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    w[0] = (char)(0xF0 | (cp >> 18));
    w[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    w[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    w[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static inline size_t utf8_len(unsigned long cp)
{
    return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
}

/* One escape at b[r] == '\\'. Decodes into buf[*w] when writing; advances
 * *r and *w. Returns 0 or the (poisoning) error. */
static ALWAYS_INLINE int string_escape(rt_json_dec *d, bool write, size_t *r, size_t *w)
{
    const unsigned char *b = (const unsigned char *)d->buf;
    size_t len = d->len, at = *r;
    if (len - at < 2)
        return syntax(d, len, "unterminated string");
    char ch;
    switch (b[at + 1]) {
    case '"': ch = '"'; break;
    case '\\': ch = '\\'; break;
    case '/': ch = '/'; break;
    case 'b': ch = '\b'; break;
    case 'f': ch = '\f'; break;
    case 'n': ch = '\n'; break;
    case 'r': ch = '\r'; break;
    case 't': ch = '\t'; break;
    case 'u': {
        long cp = hex4(b, at + 2, len);
        if (cp < 0)
            return syntax(d, at, "invalid \\u escape");
        size_t end = at + 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return syntax(d, at, "lone low surrogate escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long lo = -1;
            if (len - end >= 6 && b[end] == '\\' && b[end + 1] == 'u')
                lo = hex4(b, end + 2, len);
            if (lo < 0xDC00 || lo > 0xDFFF)
                return syntax(d, at, "lone high surrogate escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            end += 6;
        }
        if (write)
            *w += utf8_put(d->buf + *w, (unsigned long)cp);
        else
            *w += utf8_len((unsigned long)cp);
        *r = end;
        return 0;
    }
    default:
        return syntax(d, at, "invalid escape");
    }
    if (write)
        d->buf[*w] = ch;
    *w += 1;
    *r = at + 2;
    return 0;
}

/* The string starting at d->pos (which holds '"'). On success *out views the
 * decoded text (in place when writing) and d->pos is past the closing quote.
 * The loop before the first escape only reads; after it, bytes shift left. */
static ALWAYS_INLINE int scan_string(rt_json_dec *d, bool write, rt_str *out)
{
    const unsigned char *b = (const unsigned char *)d->buf;
    size_t len = d->len, start = d->pos + 1, r = start;
    for (;;) {
        r = skip_plain(b, r, len);
        if (UNLIKELY(r >= len))
            return syntax(d, len, "unterminated string");
        unsigned c = b[r];
        if (LIKELY(c == '"')) {
            out->ptr = d->buf + start;
            out->len = r - start;
            d->pos = r + 1;
            return 0;
        }
        if (c == '\\')
            break;
        if (c < 0x20)
            return syntax(d, r, "control character in string");
        size_t n = utf8_seq(b, r, len);
        if (!n)
            return syntax(d, r, "invalid UTF-8 in string");
        r += n;
    }
    size_t w = r;
    for (;;) {
        unsigned c = b[r];
        if (c == '"') {
            out->ptr = d->buf + start;
            out->len = w - start;
            d->pos = r + 1;
            return 0;
        }
        if (c == '\\') {
            int rc = string_escape(d, write, &r, &w);
            if (rc)
                return rc;
        } else if (c < 0x20) {
            return syntax(d, r, "control character in string");
        } else if (c < 0x80) {
            size_t e = skip_plain(b, r, len);
            if (write)
                memmove(d->buf + w, d->buf + r, e - r);
            w += e - r;
            r = e;
        } else {
            size_t n = utf8_seq(b, r, len);
            if (!n)
                return syntax(d, r, "invalid UTF-8 in string");
            if (write)
                memmove(d->buf + w, d->buf + r, n);
            w += n;
            r += n;
        }
        if (r >= len)
            return syntax(d, len, "unterminated string");
    }
}

/* ================================================================ numbers */

/* Checks the RFC 8259 number at d->pos; *end is past it. Does not move pos. */
static int scan_number(rt_json_dec *d, size_t *end, bool *integral)
{
    const unsigned char *b = (const unsigned char *)d->buf;
    size_t len = d->len, p = d->pos;
    *integral = true;
    if (p < len && b[p] == '-')
        p++;
    if (p >= len)
        return syntax(d, p, "unexpected end of input in number");
    if (b[p] == '0') {
        p++;
        if (p < len && is_digit(b[p]))
            return syntax(d, p, "leading zero in number");
    } else if (is_digit(b[p])) {
        while (p < len && is_digit(b[p]))
            p++;
    } else {
        return syntax(d, p, "expected digit");
    }
    if (p < len && b[p] == '.') {
        p++;
        *integral = false;
        if (p >= len || !is_digit(b[p]))
            return syntax(d, p, "expected digit after '.'");
        while (p < len && is_digit(b[p]))
            p++;
    }
    if (p < len && (b[p] == 'e' || b[p] == 'E')) {
        p++;
        *integral = false;
        if (p < len && (b[p] == '+' || b[p] == '-'))
            p++;
        if (p >= len || !is_digit(b[p]))
            return syntax(d, p, "expected digit in exponent");
        while (p < len && is_digit(b[p]))
            p++;
    }
    *end = p;
    return 0;
}

int rt_json_i64(rt_json_dec *d, int64_t *out)
{
    if (d->failed)
        return d->failed;
    skip_ws(d);
    if (d->pos >= d->len || type_of((unsigned char)d->buf[d->pos]) != RT_JSON_NUMBER)
        return wrong_type(d);
    const unsigned char *b = (const unsigned char *)d->buf;
    size_t p = d->pos, len = d->len;
    bool neg = b[p] == '-';
    p += neg;
    /* Fast path: 1-18 digits, the first not 0, and no fraction or exponent
     * after them: valid, and too short to overflow. */
    if (p < len && b[p] >= '1' && b[p] <= '9') {
        uint64_t acc = 0;
        size_t e = p;
        while (e < len && e - p < 19 && is_digit(b[e]))
            acc = acc * 10 + (b[e++] - '0');
        if (e - p <= 18 && (e == len || (b[e] != '.' && (b[e] | 0x20) != 'e'))) {
            d->pos = e;
            *out = neg ? -(int64_t)acc : (int64_t)acc;
            return 0;
        }
    }
    size_t end;
    bool integral;
    int rc = scan_number(d, &end, &integral);
    if (rc)
        return rc;
    d->pos = end;
    if (!integral)
        return RT_JSON_ERANGE;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    for (; p < end; p++) {
        unsigned dg = b[p] - '0';
        if (acc > (lim - dg) / 10)
            return RT_JSON_ERANGE;
        acc = acc * 10 + dg;
    }
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return 0;
}

/* strtod must not depend on LC_NUMERIC: a process that calls setlocale()
 * for its logs would otherwise parse "1.5" as 1. */
static locale_t c_loc;
static pthread_once_t c_loc_once = PTHREAD_ONCE_INIT;

static void c_loc_init(void)
{
    c_loc = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
}

static locale_t c_locale(void)
{
    pthread_once(&c_loc_once, c_loc_init);
    return c_loc;
}

static double strtod_c(const char *s)
{
    locale_t l = c_locale();
    return l ? strtod_l(s, NULL, l) : strtod(s, NULL);
}

/* A very long number token (thousands of digits) rewritten as at most
 * NUM_SIG_DIGITS significant digits, a sticky '1' standing for any dropped
 * non-zero digits, and a clamped exponent. Digits beyond the 767th only
 * matter as "is the tail non-zero", and an exponent beyond +-99999 gives
 * inf/0 whatever the digits, so strtod sees the same value. */
static void canon_number(const unsigned char *t, size_t n, char *out)
{
    size_t i = 0, o = 0, kept = 0;
    bool sticky = false, seen_sig = false;
    int64_t exp10 = 0; /* value = kept digits * 10^exp10 */
    if (t[i] == '-')
        out[o++] = t[i++];
    for (bool frac = false; i < n; i++) {
        unsigned char c = t[i];
        if (c == '.') {
            frac = true;
            continue;
        }
        if (!is_digit(c))
            break;
        if (c == '0' && !seen_sig) {
            if (frac)
                exp10--;
            continue;
        }
        seen_sig = true;
        if (kept < NUM_SIG_DIGITS) {
            out[o++] = (char)c;
            kept++;
            if (frac)
                exp10--;
        } else {
            if (c != '0')
                sticky = true;
            if (!frac)
                exp10++;
        }
    }
    if (!seen_sig) {
        out[o++] = '0';
        out[o] = 0;
        return;
    }
    if (sticky) {
        out[o++] = '1';
        exp10--;
    }
    if (i < n) { /* exponent part */
        i++;
        bool eneg = false;
        if (t[i] == '+' || t[i] == '-')
            eneg = t[i++] == '-';
        int64_t e = 0;
        for (; i < n; i++)
            if (e < 1000000000)
                e = e * 10 + (t[i] - '0');
        exp10 += eneg ? -e : e;
    }
    if (exp10 > 99999)
        exp10 = 99999;
    if (exp10 < -99999)
        exp10 = -99999;
    snprintf(out + o, 16, "e%d", (int)exp10);
}

int rt_json_f64(rt_json_dec *d, double *out)
{
    if (d->failed)
        return d->failed;
    skip_ws(d);
    if (d->pos >= d->len || type_of((unsigned char)d->buf[d->pos]) != RT_JSON_NUMBER)
        return wrong_type(d);
    size_t end;
    bool integral;
    int rc = scan_number(d, &end, &integral);
    if (rc)
        return rc;
    const unsigned char *t = (const unsigned char *)d->buf + d->pos;
    size_t n = end - d->pos;
    d->pos = end;
    double v;
    if (n <= NUM_SHORT_MAX) {
        char tmp[NUM_SHORT_MAX + 1];
        memcpy(tmp, t, n);
        tmp[n] = 0;
        v = strtod_c(tmp);
    } else {
        char tmp[NUM_SIG_DIGITS + 32];
        canon_number(t, n, tmp);
        v = strtod_c(tmp);
    }
    if (isinf(v))
        return RT_JSON_ERANGE;
    *out = v;
    return 0;
}

/* ================================================================ literals */

static int scan_literal(rt_json_dec *d, const char *lit, size_t n)
{
    size_t p = d->pos;
    if (d->len - p < n || memcmp(d->buf + p, lit, n) != 0) {
        /* Point at the first byte that differs. */
        size_t i = 0;
        while (p + i < d->len && i < n && d->buf[p + i] == lit[i])
            i++;
        return syntax(d, p + i, p + i >= d->len ? "unexpected end of input" : "invalid literal");
    }
    d->pos = p + n;
    return 0;
}

int rt_json_bool(rt_json_dec *d, bool *out)
{
    if (d->failed)
        return d->failed;
    skip_ws(d);
    if (d->pos < d->len) {
        char c = d->buf[d->pos];
        if (c == 't' || c == 'f') {
            int rc = c == 't' ? scan_literal(d, "true", 4) : scan_literal(d, "false", 5);
            if (rc)
                return rc;
            *out = c == 't';
            return 0;
        }
    }
    return wrong_type(d);
}

int rt_json_null(rt_json_dec *d)
{
    if (d->failed)
        return d->failed;
    skip_ws(d);
    if (d->pos < d->len && d->buf[d->pos] == 'n')
        return scan_literal(d, "null", 4);
    return wrong_type(d);
}

int rt_json_str(rt_json_dec *d, rt_str *out)
{
    if (d->failed)
        return d->failed;
    skip_ws(d);
    if (d->pos < d->len && d->buf[d->pos] == '"') {
        rt_str s;
        int rc = scan_string(d, true, &s);
        if (rc)
            return rc;
        *out = s;
        return 0;
    }
    return wrong_type(d);
}

/* ================================================================ containers */

static int open_container(rt_json_dec *d, char open)
{
    if (d->failed)
        return d->failed;
    skip_ws(d);
    if (d->pos < d->len && d->buf[d->pos] == open) {
        if (d->depth >= d->max_depth)
            return fail_at(d, RT_JSON_EDEPTH, d->pos, "nesting too deep");
        d->depth++;
        d->pos++;
        return 0;
    }
    return wrong_type(d);
}

int rt_json_obj_begin(rt_json_dec *d)
{
    return open_container(d, '{');
}

int rt_json_arr_begin(rt_json_dec *d)
{
    return open_container(d, '[');
}

/* True when the last non-whitespace byte before pos is `open`: nothing has
 * been read in this container yet (see the invariants at the top). */
static ALWAYS_INLINE bool at_first(const rt_json_dec *d, char open)
{
    size_t p = d->pos;
    while (p > 0 && is_ws((unsigned char)d->buf[p - 1]))
        p--;
    return p > 0 && d->buf[p - 1] == open;
}

/* After ',' or the opening bracket a value must start here. */
static ALWAYS_INLINE int expect_value(rt_json_dec *d)
{
    skip_ws(d);
    if (d->pos >= d->len)
        return syntax(d, d->len, "unexpected end of input");
    if (type_of((unsigned char)d->buf[d->pos]) == RT_JSON_NONE)
        return syntax(d, d->pos, "expected a value");
    return 0;
}

static void close_container(rt_json_dec *d)
{
    d->pos++;
    if (d->depth)
        d->depth--;
}

int rt_json_obj_next(rt_json_dec *d, rt_str *key)
{
    if (d->failed)
        return d->failed;
    bool first = at_first(d, '{');
    skip_ws(d);
    if (d->pos >= d->len)
        return syntax(d, d->len, "unexpected end of input in object");
    char c = d->buf[d->pos];
    if (c == '}') {
        close_container(d);
        return 0;
    }
    if (!first) {
        if (c != ',')
            return syntax(d, d->pos, "expected ',' or '}'");
        d->pos++;
        skip_ws(d);
        if (d->pos >= d->len)
            return syntax(d, d->len, "unexpected end of input in object");
        c = d->buf[d->pos];
    }
    if (c != '"')
        return syntax(d, d->pos, "expected string key");
    rt_str k;
    int rc = scan_string(d, true, &k);
    if (rc)
        return rc;
    skip_ws(d);
    if (d->pos >= d->len || d->buf[d->pos] != ':')
        return syntax(d, d->pos, "expected ':'");
    d->pos++;
    rc = expect_value(d);
    if (rc)
        return rc;
    *key = k;
    return 1;
}

int rt_json_arr_next(rt_json_dec *d)
{
    if (d->failed)
        return d->failed;
    bool first = at_first(d, '[');
    skip_ws(d);
    if (d->pos >= d->len)
        return syntax(d, d->len, "unexpected end of input in array");
    char c = d->buf[d->pos];
    if (c == ']') {
        close_container(d);
        return 0;
    }
    if (!first) {
        if (c != ',')
            return syntax(d, d->pos, "expected ',' or ']'");
        d->pos++;
    }
    int rc = expect_value(d);
    return rc ? rc : 1;
}

/* ================================================================ skip / validate */

/*
 * Any value, iteratively. `kind` holds one bit per container opened here
 * (1 = object), so closing brackets are matched and keys demanded without
 * recursion. A loop rather than helpers per state: it is the hot path for
 * unknown keys and the whole of rt_json_validate.
 */
static ALWAYS_INLINE int skip_impl(rt_json_dec *d, bool write)
{
    uint64_t kind[SKIP_MAX_DEPTH / 64];
    unsigned top = 0;
    const unsigned char *b = (const unsigned char *)d->buf;
    size_t len = d->len;
    rt_str s;
    int rc;

    if (d->failed)
        return d->failed;
value:
    skip_ws(d);
    if (d->pos >= len)
        return syntax(d, len, "unexpected end of input");
    switch (b[d->pos]) {
    case '{':
    case '[': {
        bool obj = b[d->pos] == '{';
        if (d->depth >= d->max_depth || top >= SKIP_MAX_DEPTH)
            return fail_at(d, RT_JSON_EDEPTH, d->pos, "nesting too deep");
        uint64_t bit = 1ull << (top % 64);
        kind[top / 64] = obj ? (kind[top / 64] | bit) : (kind[top / 64] & ~bit);
        top++;
        d->depth++;
        d->pos++;
        skip_ws(d);
        if (d->pos < len && b[d->pos] == (obj ? '}' : ']')) {
            d->pos++;
            d->depth--;
            top--;
            goto after;
        }
        if (obj)
            goto key;
        goto value;
    }
    case '"':
        rc = scan_string(d, write, &s);
        break;
    case 't':
        rc = scan_literal(d, "true", 4);
        break;
    case 'f':
        rc = scan_literal(d, "false", 5);
        break;
    case 'n':
        rc = scan_literal(d, "null", 4);
        break;
    default: {
        if (type_of(b[d->pos]) != RT_JSON_NUMBER)
            return syntax(d, d->pos, "expected a value");
        size_t end;
        bool integral;
        rc = scan_number(d, &end, &integral);
        if (!rc)
            d->pos = end;
        break;
    }
    }
    if (rc)
        return rc;
after:
    if (top == 0)
        return 0;
    {
        bool obj = (kind[(top - 1) / 64] >> ((top - 1) % 64)) & 1;
        skip_ws(d);
        if (d->pos >= len)
            return syntax(d, len, "unexpected end of input");
        unsigned char c = b[d->pos];
        if (c == ',') {
            d->pos++;
            if (obj)
                goto key;
            goto value;
        }
        if (c == (obj ? '}' : ']')) {
            d->pos++;
            d->depth--;
            top--;
            goto after;
        }
        return syntax(d, d->pos, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
key:
    skip_ws(d);
    if (d->pos >= len)
        return syntax(d, len, "unexpected end of input");
    if (b[d->pos] != '"')
        return syntax(d, d->pos, "expected string key");
    rc = scan_string(d, write, &s);
    if (rc)
        return rc;
    skip_ws(d);
    if (d->pos >= len || b[d->pos] != ':')
        return syntax(d, d->pos, "expected ':'");
    d->pos++;
    goto value;
}

int rt_json_skip(rt_json_dec *d)
{
    return skip_impl(d, true);
}

int rt_json_finish(rt_json_dec *d)
{
    if (d->failed)
        return d->failed;
    if (d->depth)
        return syntax(d, d->pos, "unclosed object or array");
    skip_ws(d);
    if (d->pos != d->len)
        return syntax(d, d->pos, "trailing characters after value");
    return 0;
}

int rt_json_validate(const char *buf, size_t len, unsigned max_depth,
                     size_t *err_pos, const char **err)
{
    rt_json_dec d;
    /* The cast is safe: with write == false nothing stores through buf. */
    rt_json_dec_init(&d, (char *)(uintptr_t)buf, len, max_depth);
    int rc = skip_impl(&d, false);
    if (!rc)
        rc = rt_json_finish(&d);
    if (rc) {
        if (err_pos)
            *err_pos = d.err_pos;
        if (err)
            *err = d.err;
    }
    return rc;
}

/* ================================================================ encoder */

/* Escape for bytes that need one; 0 = copy as is. */
static const char esc_short[256] = {
    ['"'] = '"', ['\\'] = '\\', ['\b'] = 'b', ['\f'] = 'f',
    ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't',
};

static inline bool needs_escape(unsigned char c)
{
    return c < 0x20 || c == '"' || c == '\\';
}

/* Nonzero when one of the eight bytes of v needs an escape (< 0x20, '"' or
 * '\\'). Each term is the classic "some byte below n" test, exact as a
 * boolean; XOR with an ASCII byte keeps the high bits, so ~v serves all
 * three. Bytes >= 0x80 never match. */
static inline uint64_t esc_any8(uint64_t v)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t q = v ^ (ones * '"'), s = v ^ (ones * '\\');
    return ((v - ones * 0x20) | (q - ones) | (s - ones)) & ~v & highs;
}

void rt_json_put_str(rt_buf *b, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *u = (const unsigned char *)s;
    /* One reservation covers the common case of nothing to escape. */
    if (len > SIZE_MAX - 2 || !rt_buf_reserve(b, len + 2))
        return;
    size_t i = 0;
    while (len - i >= 8) {
        uint64_t v;
        memcpy(&v, u + i, 8);
        if (esc_any8(v))
            break;
        i += 8;
    }
    while (i < len && !needs_escape(u[i]))
        i++;
    if (i == len) { /* nothing to escape: one copy */
        char *o = b->data + b->len;
        o[0] = '"';
        if (len)
            memcpy(o + 1, s, len);
        o[len + 1] = '"';
        b->len += len + 2;
        return;
    }
    b->data[b->len++] = '"';
    i = 0;
    while (i < len) {
        size_t run = i;
        while (run < len && !needs_escape(u[run]))
            run++;
        rt_buf_put(b, u + i, run - i);
        if (run == len)
            break;
        unsigned char c = u[run];
        char e[6] = { '\\', esc_short[c], 0, 0, 0, 0 };
        if (e[1]) {
            rt_buf_put(b, e, 2);
        } else {
            e[1] = 'u';
            e[2] = '0';
            e[3] = '0';
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
            rt_buf_put(b, e, 6);
        }
        i = run + 1;
    }
    rt_buf_putc(b, '"');
}

void rt_json_put_i64(rt_buf *b, int64_t v)
{
    rt_buf_put_i64(b, v);
}

/* %g under a non-C LC_NUMERIC would print a decimal comma. */
static int fmt_g(char *out, size_t n, int prec, double v)
{
    locale_t l = c_locale(), old = l ? uselocale(l) : (locale_t)0;
    int k = snprintf(out, n, "%.*g", prec, v);
    if (l)
        uselocale(old);
    return k;
}

void rt_json_put_f64(rt_buf *b, double v)
{
    if (!isfinite(v)) {
        rt_buf_put(b, "null", 4);
        return;
    }
    char tmp[40];
    int n = 0;
    /* Fewest digits that read back as the same double; %g never prints
     * inf/nan for finite input, and its output is always a JSON number. */
    for (int prec = 15; prec <= 17; prec++) {
        n = fmt_g(tmp, sizeof tmp, prec, v);
        if (prec == 17 || strtod_c(tmp) == v)
            break;
    }
    if (n > 0)
        rt_buf_put(b, tmp, (size_t)n);
}

void rt_json_put_bool(rt_buf *b, bool v)
{
    if (v)
        rt_buf_put(b, "true", 4);
    else
        rt_buf_put(b, "false", 5);
}

void rt_json_put_null(rt_buf *b)
{
    rt_buf_put(b, "null", 4);
}

void rt_json_put_time(rt_buf *b, int64_t unix_us)
{
    if (!rt_buf_reserve(b, 29))
        return;
    char *o = b->data + b->len;
    o[0] = '"';
    rt_time_format(unix_us, o + 1);
    o[28] = '"';
    b->len += 29;
}

/* ================================================================ time text */

/*
 * Both directions are straight-line code for the shapes they meet: the
 * encoder writes one fixed shape and the parser reads fixed positions before
 * the optional fraction. The calendar arithmetic runs on unsigned 32-bit
 * values shifted to start at 0000-03-01 (years begin in March, so the leap
 * day is the last day of a year), which is all the range the four-digit
 * years need; constant divisions become multiplications.
 */

/* "00" "01" ... "99": two digits per table entry. */
static const char dig2_tab[200] = {
    '0','0','0','1','0','2','0','3','0','4','0','5','0','6','0','7','0','8','0','9',
    '1','0','1','1','1','2','1','3','1','4','1','5','1','6','1','7','1','8','1','9',
    '2','0','2','1','2','2','2','3','2','4','2','5','2','6','2','7','2','8','2','9',
    '3','0','3','1','3','2','3','3','3','4','3','5','3','6','3','7','3','8','3','9',
    '4','0','4','1','4','2','4','3','4','4','4','5','4','6','4','7','4','8','4','9',
    '5','0','5','1','5','2','5','3','5','4','5','5','5','6','5','7','5','8','5','9',
    '6','0','6','1','6','2','6','3','6','4','6','5','6','6','6','7','6','8','6','9',
    '7','0','7','1','7','2','7','3','7','4','7','5','7','6','7','7','7','8','7','9',
    '8','0','8','1','8','2','8','3','8','4','8','5','8','6','8','7','8','8','8','9',
    '9','0','9','1','9','2','9','3','9','4','9','5','9','6','9','7','9','8','9','9',
};

static inline void put2(char *o, unsigned v)
{
    memcpy(o, dig2_tab + 2 * v, 2);
}

/* Days since 0000-03-01 of a proleptic Gregorian date, year 0..9999, plus
 * one 400-year era (146097 days): January and February of year 0 belong to
 * the March-based year -1, and the era keeps that unsigned. */
#define ERA_DAYS 146097
static inline uint32_t days_from_march0_era(uint32_t y, uint32_t m, uint32_t d)
{
    uint32_t yy = y + 400 - (m <= 2);
    uint32_t mp = m > 2 ? m - 3 : m + 9;
    return yy * 365 + yy / 4 - yy / 100 + yy / 400 + (153 * mp + 2) / 5 + d - 1;
}

/* Civil date of z days since 0000-03-01. */
static inline void civil_from_march0(uint32_t z, uint32_t *y, uint32_t *m, uint32_t *d)
{
    uint32_t era = z / ERA_DAYS, doe = z - era * ERA_DAYS;
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = yoe + era * 400 + (*m <= 2);
}

/* 1970-01-01 is day 719468 after 0000-03-01. */
#define EPOCH_MARCH0 719468

static inline bool leap_year(uint32_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static inline uint32_t dig(unsigned char c)
{
    return (uint32_t)c - '0'; /* > 9 for anything but a digit */
}

/*
 * The date part last parsed and the one last formatted on this thread, with
 * their day numbers: the timestamps of one document (created_at and
 * updated_at of one row, the rows of one page) often share their day, and
 * then the calendar arithmetic is a 10-byte compare. A miss costs that
 * compare and a 10-byte store on top of the arithmetic.
 */
static _Thread_local bool parse_date_ok;
static _Thread_local char parse_date[10];
static _Thread_local int64_t parse_days; /* since 1970-01-01 */
static _Thread_local uint32_t format_day = UINT32_MAX; /* since 0001-01-01 */
static _Thread_local char format_date[10];

/* "YYYY-MM-DD" at p: its day number since 1970-01-01, or false. */
static inline bool parse_full_date(const unsigned char *p, int64_t *days)
{
    static const unsigned char dim[13] = { 0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    uint32_t y0 = dig(p[0]), y1 = dig(p[1]), y2 = dig(p[2]), y3 = dig(p[3]);
    uint32_t mo0 = dig(p[5]), mo1 = dig(p[6]), d0 = dig(p[8]), d1 = dig(p[9]);
    /* one branch for separators and digits */
    bool bad = (p[4] != '-') | (p[7] != '-') | (y0 > 9) | (y1 > 9) | (y2 > 9) | (y3 > 9) |
               (mo0 > 9) | (mo1 > 9) | (d0 > 9) | (d1 > 9);
    if (bad)
        return false;
    uint32_t y = y0 * 1000 + y1 * 100 + y2 * 10 + y3, mo = mo0 * 10 + mo1, dd = d0 * 10 + d1;
    if (mo < 1 || mo > 12 || dd < 1)
        return false;
    if (dd > dim[mo] && !(mo == 2 && dd == 29 && leap_year(y)))
        return false;
    *days = (int64_t)days_from_march0_era(y, mo, dd) - ERA_DAYS - EPOCH_MARCH0;
    return true;
}

int rt_time_parse(rt_str s, int64_t *unix_us)
{
    static const uint32_t pow10[10] = { 1, 10, 100, 1000, 10000, 100000, 1000000,
                                        10000000, 100000000, 1000000000 };
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t n = s.len;
    /* "YYYY-MM-DDTHH:MM:SS" + "Z" is the shortest form. */
    if (!p || n < 20)
        return -1;
    int64_t days;
    if (parse_date_ok && memcmp(p, parse_date, 10) == 0) {
        days = parse_days;
    } else {
        if (!parse_full_date(p, &days))
            return -1;
        memcpy(parse_date, p, 10);
        parse_days = days;
        parse_date_ok = true;
    }
    uint32_t h0 = dig(p[11]), h1 = dig(p[12]), mi0 = dig(p[14]), mi1 = dig(p[15]);
    uint32_t s0 = dig(p[17]), s1 = dig(p[18]);
    bool bad = ((p[10] | 0x20) != 't') | (p[13] != ':') | (p[16] != ':') | (h0 > 9) | (h1 > 9) |
               (mi0 > 9) | (mi1 > 9) | (s0 > 9) | (s1 > 9);
    if (bad)
        return -1;
    uint32_t hh = h0 * 10 + h1, mi = mi0 * 10 + mi1, ss = s0 * 10 + s1;
    if (hh > 23 || mi > 59 || ss > 60)
        return -1;
    size_t i = 19;
    int64_t frac_us = 0;
    if (p[i] == '.' && n >= 27 && dig(p[20]) <= 9 && dig(p[21]) <= 9 && dig(p[22]) <= 9 &&
        dig(p[23]) <= 9 && dig(p[24]) <= 9 && dig(p[25]) <= 9 && dig(p[26]) > 9) {
        /* exactly microseconds, the shape rt_time_format writes */
        frac_us = (int64_t)(dig(p[20]) * 100000 + dig(p[21]) * 10000 + dig(p[22]) * 1000 +
                            dig(p[23]) * 100 + dig(p[24]) * 10 + dig(p[25]));
        i = 26;
    } else if (p[i] == '.') {
        size_t d_start = ++i;
        uint32_t ns = 0;
        while (i < n && dig(p[i]) <= 9) {
            if (i - d_start == 9)
                return -1; /* more than nanoseconds */
            ns = ns * 10 + dig(p[i]);
            i++;
        }
        if (i == d_start)
            return -1;
        /* Digits past microseconds are dropped: floor, as the epoch count
         * is signed and the fraction is always added. */
        frac_us = (int64_t)(ns * pow10[9 - (i - d_start)] / 1000);
    }
    if (i >= n)
        return -1;
    int64_t off_s = 0;
    if ((p[i] | 0x20) == 'z') {
        i++;
    } else if (p[i] == '+' || p[i] == '-') {
        if (n - i < 6)
            return -1;
        uint32_t oh0 = dig(p[i + 1]), oh1 = dig(p[i + 2]), om0 = dig(p[i + 4]), om1 = dig(p[i + 5]);
        if (p[i + 3] != ':' || oh0 > 9 || oh1 > 9 || om0 > 9 || om1 > 9)
            return -1;
        uint32_t oh = oh0 * 10 + oh1, om = om0 * 10 + om1;
        if (oh > 23 || om > 59)
            return -1;
        off_s = (int64_t)(oh * 3600 + om * 60);
        if (p[i] == '-')
            off_s = -off_s;
        i += 6;
    } else {
        return -1;
    }
    if (i != n)
        return -1;
    /* A leap second (:60) reads as the first instant of the next minute,
     * which is what POSIX time (no leap seconds) can represent. */
    int64_t secs = days * 86400 + (int64_t)(hh * 3600 + mi * 60 + ss) - off_s;
    *unix_us = secs * 1000000 + frac_us;
    return 0;
}

/* Out-of-range instants are clamped to 0001-01-01 .. 9999-12-31: the
 * format has exactly four year digits and a response must stay valid. */
void rt_time_format(int64_t unix_us, char out[27])
{
    const int64_t min_us = -62135596800LL * 1000000;      /* 0001-01-01T00:00:00Z */
    const int64_t max_us = 253402300799LL * 1000000 + 999999; /* 9999-12-31T23:59:59.999999Z */
    if (unix_us < min_us)
        unix_us = min_us;
    if (unix_us > max_us)
        unix_us = max_us;
    /* Counting from 0001-01-01 keeps everything unsigned, so the division
     * floors: -1 us is 1969-12-31T23:59:59.999999Z. */
    uint64_t u = (uint64_t)(unix_us - min_us);
    uint64_t secs = u / 1000000;
    uint32_t us = (uint32_t)(u - secs * 1000000);
    uint32_t days = (uint32_t)(secs / 86400);
    uint32_t sod = (uint32_t)(secs - (uint64_t)days * 86400);
    if (days != format_day) {
        uint32_t y, m, dd;
        /* 0001-01-01 is day 306 after 0000-03-01 */
        civil_from_march0(days + 306, &y, &m, &dd);
        put2(format_date, y / 100);
        put2(format_date + 2, y % 100);
        format_date[4] = '-';
        put2(format_date + 5, m);
        format_date[7] = '-';
        put2(format_date + 8, dd);
        format_day = days;
    }
    memcpy(out, format_date, 10);
    out[10] = 'T';
    put2(out + 11, sod / 3600);
    out[13] = ':';
    put2(out + 14, sod / 60 % 60);
    out[16] = ':';
    put2(out + 17, sod % 60);
    out[19] = '.';
    put2(out + 20, us / 10000);
    put2(out + 22, us / 100 % 100);
    put2(out + 24, us % 100);
    out[26] = 'Z';
}

/* ================================================================ raw values */

int rt_json_raw(rt_json_dec *d, rt_str *out)
{
    rt_json_type t = rt_json_peek(d);
    size_t start = d->pos;
    int rc;

    (void)t;
    rc = skip_impl(d, false);
    if (rc < 0)
        return rc;
    out->ptr = d->buf + start;
    out->len = d->pos - start;
    return 0;
}

/* key (raw JSON string text, quotes included) equals want after unescaping. */
static bool raw_key_eq(const char *k, size_t klen, const char *want, size_t wlen)
{
    rt_json_dec d;
    char tmp[256];
    rt_str s;

    if (klen - 2 == wlen && memchr(k, '\\', klen) == NULL)
        return memcmp(k + 1, want, wlen) == 0;
    if (klen > sizeof tmp)
        return false; /* an escaped key this long cannot equal a property name we know */
    memcpy(tmp, k, klen);
    rt_json_dec_init(&d, tmp, klen, 1);
    if (rt_json_str(&d, &s) != 0)
        return false;
    return s.len == wlen && memcmp(s.ptr, want, wlen) == 0;
}

int rt_json_member(rt_str obj, const char *key, size_t key_len, rt_str *val)
{
    rt_json_dec d;
    size_t kstart, klen;

    /* The text is well-formed (rt_json_raw checked it), so skip_impl with
     * write == false only moves pos; the cast is safe for the same reason
     * as in rt_json_validate. */
    rt_json_dec_init(&d, (char *)(uintptr_t)obj.ptr, obj.len, RT_JSON_DEFAULT_DEPTH * 4);
    skip_ws(&d);
    if (d.pos >= d.len || d.buf[d.pos] != '{')
        return 0;
    d.pos++;
    for (;;) {
        skip_ws(&d);
        if (d.pos >= d.len || d.buf[d.pos] != '"')
            return 0;
        kstart = d.pos;
        if (skip_impl(&d, false) < 0)
            return 0;
        klen = d.pos - kstart;
        skip_ws(&d);
        if (d.pos >= d.len || d.buf[d.pos] != ':')
            return 0;
        d.pos++;
        skip_ws(&d);
        if (raw_key_eq(d.buf + kstart, klen, key, key_len)) {
            size_t vstart = d.pos;

            if (skip_impl(&d, false) < 0)
                return 0;
            val->ptr = d.buf + vstart;
            val->len = d.pos - vstart;
            return 1;
        }
        if (skip_impl(&d, false) < 0)
            return 0;
        skip_ws(&d);
        if (d.pos >= d.len || d.buf[d.pos] != ',')
            return 0;
        d.pos++;
    }
}

int rt_json_raw_str(rt_str raw, rt_arena *a, rt_str *out)
{
    rt_json_dec d;
    char *copy;

    if (raw.len < 2 || raw.ptr[0] != '"')
        return 0;
    if (memchr(raw.ptr, '\\', raw.len) == NULL) {
        out->ptr = raw.ptr + 1;
        out->len = raw.len - 2;
        return 1;
    }
    copy = rt_arena_alloc(a, raw.len);
    if (copy == NULL)
        return -1;
    memcpy(copy, raw.ptr, raw.len);
    rt_json_dec_init(&d, copy, raw.len, 1);
    return rt_json_str(&d, out) == 0 ? 1 : 0;
}

void rt_json_put_raw(rt_buf *b, rt_str raw, bool object)
{
    if (raw.ptr == NULL || raw.len == 0)
        rt_buf_puts(b, object ? "{}" : "null");
    else
        rt_buf_put(b, raw.ptr, raw.len);
}
