/*
 * h1.c - HTTP/1.1 request parsing (RFC 9112): request head, Content-Length,
 * percent-decoding, chunked transfer coding.
 *
 * Invariants:
 *  - Positions are indices, never pointers past the end: every read of b[i]
 *    is preceded by a check i < len, and running out of bytes anywhere is
 *    H1_INCOMPLETE (head) or the end of a feed (chunked).
 *  - The head parser is one forward pass that never looks back, so it is
 *    O(len) and reports H1_BAD at the first byte no valid head could have
 *    there. It keeps no state between calls: the caller re-parses from the
 *    start when more bytes arrive (heads are small; the caller bounds them).
 *  - The chunked decoder is a byte-level state machine whose whole state is
 *    in h1_chunked, so a split anywhere in the input changes nothing but how
 *    the payload is cut into emit() pieces. Data bytes are passed on in bulk;
 *    everything else is looked at once.
 *  - Byte classes come from one table (tchar, field-value byte, target byte),
 *    so the grammar is visible in one place.
 */
#include "h1.h"

#include <string.h>

/* ================================================================ byte classes */

enum {
    C_TCHAR = 1,  /* token: ALPHA DIGIT !#$%&'*+-.^_`|~ */
    C_VALUE = 2,  /* field-value byte: HTAB SP VCHAR obs-text */
    C_TARGET = 4, /* request-target byte: VCHAR (0x21-0x7E) */
};

static const unsigned char byte_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

#define IS(c, k) ((byte_class[(unsigned char)(c)] & (k)) != 0)

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static unsigned char lower(unsigned char c)
{
    return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

/* ================================================================ request head */

/* b[*i] is CR or LF: consumes CRLF or a bare LF. */
static h1_result eol(const unsigned char *b, size_t len, size_t *i)
{
    if (b[*i] == '\n') {
        *i += 1;
        return H1_OK;
    }
    if (*i + 1 >= len)
        return H1_INCOMPLETE;
    if (b[*i + 1] != '\n')
        return H1_BAD;
    *i += 2;
    return H1_OK;
}

/* 1*k-class bytes then exactly one `stop` byte (consumed). */
static h1_result span(const unsigned char *b, size_t len, size_t *i, int k, unsigned char stop,
                      const char **p, size_t *n)
{
    size_t s = *i, j = *i;
    while (j < len && IS(b[j], k))
        j++;
    if (j == len)
        return H1_INCOMPLETE;
    if (j == s || b[j] != stop)
        return H1_BAD;
    *p = (const char *)b + s;
    *n = j - s;
    *i = j + 1;
    return H1_OK;
}

/* method SP request-target SP HTTP-version line-end. */
static h1_result request_line(const unsigned char *b, size_t len, size_t *i, h1_head *out)
{
    static const char pat[] = "HTTP/d.d";
    h1_result r;
    if ((r = span(b, len, i, C_TCHAR, ' ', &out->method, &out->method_len)) != H1_OK)
        return r;
    if ((r = span(b, len, i, C_TARGET, ' ', &out->target, &out->target_len)) != H1_OK)
        return r;
    size_t v = *i;
    for (size_t k = 0; k < sizeof pat - 1; k++) {
        if (v + k == len)
            return H1_INCOMPLETE;
        unsigned char c = b[v + k];
        if (pat[k] == 'd' ? !(c >= '0' && c <= '9') : c != (unsigned char)pat[k])
            return H1_BAD;
    }
    *i = v + sizeof pat - 1;
    if (*i == len)
        return H1_INCOMPLETE;
    if (b[*i] != '\r' && b[*i] != '\n')
        return H1_BAD;
    if ((r = eol(b, len, i)) != H1_OK)
        return r;
    if (b[v + 5] != '1' || b[v + 7] > '1')
        return H1_VERSION;
    out->minor = b[v + 7] - '0';
    return H1_OK;
}

/* field-name ":" OWS field-value OWS line-end, starting at a tchar. */
static h1_result field_line(const unsigned char *b, size_t len, size_t *i, h1_header *h)
{
    h1_result r;
    if ((r = span(b, len, i, C_TCHAR, ':', &h->name, &h->name_len)) != H1_OK)
        return r;
    size_t j = *i;
    while (j < len && (b[j] == ' ' || b[j] == '\t'))
        j++;
    size_t s = j, e = j; /* e: just past the last byte that is not OWS */
    while (j < len && IS(b[j], C_VALUE)) {
        if (b[j] != ' ' && b[j] != '\t')
            e = j + 1;
        j++;
    }
    if (j == len)
        return H1_INCOMPLETE;
    if (b[j] != '\r' && b[j] != '\n')
        return H1_BAD;
    if ((r = eol(b, len, &j)) != H1_OK)
        return r;
    h->value = (const char *)b + s;
    h->value_len = e - s;
    *i = j;
    return H1_OK;
}

h1_result h1_parse_head(const char *buf, size_t len, h1_head *out)
{
    const unsigned char *b = (const unsigned char *)buf;
    size_t i = 0;
    h1_result r;
    out->nheaders = 0;
    out->head_len = 0;
    while (i < len && (b[i] == '\r' || b[i] == '\n'))
        if ((r = eol(b, len, &i)) != H1_OK)
            return r;
    if (i == len)
        return H1_INCOMPLETE;
    if ((r = request_line(b, len, &i, out)) != H1_OK)
        return r;
    for (;;) {
        if (i == len)
            return H1_INCOMPLETE;
        if (b[i] == '\r' || b[i] == '\n')
            break;
        /* Also rejects obs-fold (a line starting with SP/HTAB) and ":x". */
        if (!IS(b[i], C_TCHAR))
            return H1_BAD;
        if (out->nheaders == H1_MAX_HEADERS)
            return H1_TOO_MANY_HEADERS;
        if ((r = field_line(b, len, &i, &out->headers[out->nheaders])) != H1_OK)
            return r;
        out->nheaders++;
    }
    if ((r = eol(b, len, &i)) != H1_OK)
        return r;
    out->head_len = i;
    return H1_OK;
}

const h1_header *h1_find(const h1_head *h, const char *name, size_t n)
{
    for (unsigned k = 0; k < h->nheaders; k++) {
        const h1_header *f = &h->headers[k];
        if (f->name_len != n)
            continue;
        size_t j = 0;
        while (j < n && lower((unsigned char)f->name[j]) == lower((unsigned char)name[j]))
            j++;
        if (j == n)
            return f;
    }
    return NULL;
}

/* ================================================================ field values */

bool h1_content_length(const char *v, size_t n, uint64_t *out)
{
    if (n == 0 || n > 18)
        return false;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    *out = x;
    return true;
}

size_t h1_unescape(char *s, size_t n, bool plus_space)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%' && n - i >= 3) {
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            /* "%00" stays: a NUL in a decoded path would cut it short. */
            if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
                s[w++] = (char)(hi << 4 | lo);
                i += 2;
                continue;
            }
        } else if (c == '+' && plus_space) {
            c = ' ';
        }
        s[w++] = c;
    }
    return w;
}

/* ================================================================ chunked */

enum {
    CH_SIZE0,    /* first hex digit of a chunk-size */
    CH_SIZE,     /* more hex digits, BWS, ';' or the line end */
    CH_BWS,      /* after BWS: more BWS or ';' */
    CH_EXT,      /* chunk extensions, skipped to the line end */
    CH_SIZE_LF,  /* CR seen on the size line */
    CH_DATA,     /* chunk-data, `left` bytes to go */
    CH_DATA_CR,  /* CRLF after chunk-data */
    CH_DATA_LF,  /* CR seen after chunk-data */
    CH_TR_START, /* start of a trailer line or of the final empty line */
    CH_TR_NAME,  /* trailer field-name */
    CH_TR_VALUE, /* trailer field-value to the line end */
    CH_TR_LF,    /* CR seen on a trailer line */
    CH_END_LF,   /* CR seen on the final empty line */
    CH_DONE,
    CH_FAILED,
};

void h1_chunked_init(h1_chunked *c)
{
    c->state = CH_SIZE0;
    c->left = 0;
    c->line = 0;
    c->trailers = 0;
}

/* One byte of a size or trailer line that is not its line end; false when the
 * line grows too long. */
static bool line_byte(h1_chunked *c)
{
    return ++c->line <= H1_CHUNK_LINE_MAX;
}

/* The size line has ended: on to the data, or to the trailers after the last chunk. */
static void size_done(h1_chunked *c)
{
    c->line = 0;
    c->state = c->left ? CH_DATA : CH_TR_START;
}

/* Long for a reason: one switch over the states reads as the grammar, and
 * splitting it would scatter the transitions. Each case consumes one byte
 * except CH_DATA, which passes on as much payload as there is. */
h1_result h1_chunked_feed(h1_chunked *c, const char *in, size_t n, size_t *used,
                          void (*emit)(void *cls, const char *p, size_t k), void *cls)
{
    const unsigned char *b = (const unsigned char *)in;
    size_t i = 0;
    if (c->state == CH_DONE || c->state == CH_FAILED) {
        *used = 0;
        return c->state == CH_DONE ? H1_OK : H1_BAD;
    }
    while (i < n) {
        unsigned char ch = b[i];
        int v;
        switch (c->state) {
        case CH_DATA: {
            size_t k = n - i;
            if ((uint64_t)k > c->left)
                k = (size_t)c->left;
            if (emit)
                emit(cls, in + i, k);
            i += k;
            c->left -= k;
            if (c->left == 0)
                c->state = CH_DATA_CR;
            continue;
        }
        case CH_SIZE0:
            if ((v = hexval(ch)) < 0)
                goto bad;
            c->left = (uint64_t)v;
            c->line = 1;
            c->state = CH_SIZE;
            break;
        case CH_SIZE:
            if ((v = hexval(ch)) >= 0) {
                /* All bytes so far are digits: line counts them. 15 digits
                 * keep left below 2^60, so it never overflows. */
                if (c->line == 15)
                    goto bad;
                c->left = c->left << 4 | (uint64_t)v;
                c->line++;
            } else if (ch == ' ' || ch == '\t') {
                c->line++;
                c->state = CH_BWS;
            } else if (ch == ';') {
                c->line++;
                c->state = CH_EXT;
            } else if (ch == '\r') {
                c->state = CH_SIZE_LF;
            } else if (ch == '\n') {
                size_done(c);
            } else {
                goto bad;
            }
            break;
        case CH_BWS:
            if (ch == ';')
                c->state = CH_EXT;
            else if (ch != ' ' && ch != '\t')
                goto bad;
            if (!line_byte(c))
                goto bad;
            break;
        case CH_EXT:
            if (ch == '\r')
                c->state = CH_SIZE_LF;
            else if (ch == '\n')
                size_done(c);
            else if (!IS(ch, C_VALUE) || !line_byte(c))
                goto bad;
            break;
        case CH_SIZE_LF:
            if (ch != '\n')
                goto bad;
            size_done(c);
            break;
        case CH_DATA_CR:
            if (ch == '\r')
                c->state = CH_DATA_LF;
            else if (ch == '\n')
                c->state = CH_SIZE0;
            else
                goto bad;
            break;
        case CH_DATA_LF:
            if (ch != '\n')
                goto bad;
            c->state = CH_SIZE0;
            break;
        case CH_TR_START:
            if (ch == '\r') {
                c->state = CH_END_LF;
            } else if (ch == '\n') {
                i++;
                goto done;
            } else {
                if (!IS(ch, C_TCHAR) || ++c->trailers > H1_MAX_TRAILERS)
                    goto bad;
                c->line = 1;
                c->state = CH_TR_NAME;
            }
            break;
        case CH_TR_NAME:
            if (ch == ':')
                c->state = CH_TR_VALUE;
            else if (!IS(ch, C_TCHAR))
                goto bad;
            if (!line_byte(c))
                goto bad;
            break;
        case CH_TR_VALUE:
            if (ch == '\r')
                c->state = CH_TR_LF;
            else if (ch == '\n')
                c->state = CH_TR_START;
            else if (!IS(ch, C_VALUE) || !line_byte(c))
                goto bad;
            break;
        case CH_TR_LF:
            if (ch != '\n')
                goto bad;
            c->state = CH_TR_START;
            break;
        case CH_END_LF:
            if (ch != '\n')
                goto bad;
            i++;
            goto done;
        default:
            goto bad;
        }
        i++;
    }
    *used = n;
    return H1_INCOMPLETE;
done:
    c->state = CH_DONE;
    *used = i;
    return H1_OK;
bad:
    c->state = CH_FAILED;
    *used = i;
    return H1_BAD;
}
