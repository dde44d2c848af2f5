/*
 * h1.h - a standalone HTTP/1.1 request parser (RFC 9112): the request head,
 * Content-Length, percent-decoding, and the chunked transfer coding.
 *
 * Invariants:
 *  - No I/O, no allocation, no global state: every function works on the
 *    caller's bytes and the caller's structs, so it is safe from any thread.
 *  - Never reads outside [buf, buf + len): input is not NUL-terminated and may
 *    end at an unmapped page. Views returned (h1_head, h1_header, the pieces
 *    given to emit) point into the caller's buffer, which keeps owning them.
 *  - Each function is O(n) in its input, whatever the bytes.
 *  - Strict where RFC 9112 allows it: anything that one peer could read one
 *    way and another peer another way (obs-fold, whitespace before a colon,
 *    a lone CR, control bytes, a Content-Length list) is rejected.
 *
 * What is left to the caller (request-smuggling rules that need the whole
 * head): reject a request with both Transfer-Encoding and Content-Length, a
 * Transfer-Encoding other than exactly "chunked", more than one Content-Length
 * field, and a missing Host in HTTP/1.1; and bound the head size (the parser
 * answers H1_INCOMPLETE for as long as the bytes are a valid prefix).
 */
#ifndef RT_H1_H
#define RT_H1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define H1_MAX_HEADERS 64
/* Longest chunk-size line (digits, BWS, extensions) and trailer line, and the
 * most trailer lines, before h1_chunked_feed answers H1_BAD. Line ends do not
 * count towards the line length. */
#define H1_CHUNK_LINE_MAX 4096
#define H1_MAX_TRAILERS 64

typedef struct h1_header {
    const char *name;  size_t name_len;
    const char *value; size_t value_len;   /* leading/trailing SP/HTAB removed */
} h1_header;

typedef struct h1_head {
    const char *method; size_t method_len;
    const char *target; size_t target_len; /* request-target as sent */
    int minor;                             /* HTTP/1.<minor>: 0 or 1 */
    h1_header headers[H1_MAX_HEADERS];
    unsigned nheaders;
    size_t head_len;                       /* bytes of the head including its final empty line */
} h1_head;

typedef enum h1_result {
    H1_OK = 0,
    H1_INCOMPLETE,        /* need more bytes (the caller enforces the head size limit) */
    H1_BAD,               /* malformed: answer 400 and close */
    H1_TOO_MANY_HEADERS,  /* more than H1_MAX_HEADERS fields: answer 431 */
    H1_VERSION,           /* well-formed HTTP-version other than 1.0/1.1, e.g. HTTP/2.0 or HTTP/1.2: answer 505 */
} h1_result;

/* Parses the request head at the start of buf[0..len).
 *  - Empty lines before the request line are skipped (and count in head_len).
 *  - A line ends in CRLF or a bare LF; a CR not followed by LF is H1_BAD.
 *  - H1_BAD as soon as a byte makes the prefix invalid; H1_TOO_MANY_HEADERS as
 *    soon as a 65th field line starts; H1_VERSION once the request line with
 *    a well-formed but unsupported version has ended.
 * out is filled in as parsing goes; it is only meaningful for H1_OK. Bytes
 * after head_len (a body, a pipelined request) are not looked at. */
h1_result h1_parse_head(const char *buf, size_t len, h1_head *out);

/* Case-insensitive (ASCII) lookup of the first field named name (n bytes);
 * NULL if absent. */
const h1_header *h1_find(const h1_head *h, const char *name, size_t n);

/* Content-Length value: 1*DIGIT only (no sign, no blanks inside, no comma
 * list), at most 18 digits (so it always fits; leading zeros count).
 * false leaves *out unchanged. */
bool h1_content_length(const char *v, size_t n, uint64_t *out);

/* Percent-decodes s[0..n) in place and returns the new length. "%00" and malformed escapes
 * ("%", "%4", "%zz") stay literally as they are (a decoded NUL would let "/users/1%00/x" be cut
 * short by C-string code). With plus_space, '+' becomes ' ' first (query strings); a "%2B"
 * still decodes to '+'. */
size_t h1_unescape(char *s, size_t n, bool plus_space);

/* Chunked transfer coding (RFC 9112 section 7.1), fed in pieces as bytes arrive.
 * state is private; left is the chunk-data still due; line counts the bytes of
 * the current size or trailer line; trailers counts trailer lines. */
typedef struct h1_chunked { int state; uint64_t left; size_t line; unsigned trailers; } h1_chunked;
void h1_chunked_init(h1_chunked *c);
/* Consumes bytes from in[0..n). Each piece of payload is passed to emit(cls, p, k) (p points
 * into in, k > 0; emit may be NULL to discard). Returns H1_OK when the last chunk and its
 * trailer section (ignored, but checked to be field lines) have been consumed; *used is then
 * the number of bytes consumed (the rest of in belongs to the next request). H1_INCOMPLETE when
 * all n bytes were consumed and the body is not finished (*used == n). H1_BAD on malformed
 * input; *used is then the offset of the offending byte.
 *  - chunk-size: 1 to 15 HEXDIG; BWS (SP/HTAB) only before a ';' that starts
 *    the extensions, which are skipped up to the line end but may not hold
 *    control bytes other than HTAB.
 *  - After chunk-data exactly CRLF or LF.
 *  - Size lines and trailer lines at most H1_CHUNK_LINE_MAX bytes, at most
 *    H1_MAX_TRAILERS trailer lines.
 * Any split of the input gives the same result, payload and total *used as
 * feeding it at once. Once finished (H1_OK) or failed (H1_BAD), later calls
 * return the same result with *used == 0. */
h1_result h1_chunked_feed(h1_chunked *c, const char *in, size_t n, size_t *used,
                          void (*emit)(void *cls, const char *p, size_t k), void *cls);

#endif
