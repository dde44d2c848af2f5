/*
 * json.h - zero-copy JSON: a pull decoder over a mutable buffer and an
 * encoder into an rt_buf.
 *
 * Decoder invariants:
 *  - The body is parsed once, in place. Strings come back as views into the
 *    buffer; escapes are decoded in place (the decoded form is never longer).
 *  - RFC 8259 strictly: no trailing commas, no leading zeros, no bad escapes,
 *    no invalid UTF-8 (overlongs, surrogates encoded in UTF-8, > U+10FFFF),
 *    no lone surrogate escapes, no control characters in strings, nesting
 *    bounded by max_depth. The first syntax error's byte offset and a short
 *    static message are kept in err_pos / err.
 *  - Every function that consumes a value returns 0 on success and a negative
 *    RT_JSON_E* code on failure. After RT_JSON_ESYNTAX or RT_JSON_EDEPTH the
 *    decoder is poisoned (every later call fails the same way).
 */
#ifndef RT_JSON_H
#define RT_JSON_H

#include "rt.h"

enum {
    RT_JSON_ESYNTAX = -1, /* malformed document; err/err_pos set; poisoned */
    RT_JSON_ERANGE = -2,  /* a well-formed number that does not fit; value consumed */
    RT_JSON_ETYPE = -3,   /* well-formed value of another type; nothing consumed */
    RT_JSON_EDEPTH = -4,  /* nesting deeper than max_depth; poisoned */
};

typedef enum rt_json_type {
    RT_JSON_NONE = 0, /* end of input or a byte that cannot start a value */
    RT_JSON_OBJECT,
    RT_JSON_ARRAY,
    RT_JSON_STRING,
    RT_JSON_NUMBER,
    RT_JSON_BOOL,
    RT_JSON_NULL,
} rt_json_type;

#define RT_JSON_DEFAULT_DEPTH 64

typedef struct rt_json_dec {
    char *buf;
    size_t len;
    size_t pos;
    unsigned depth;
    unsigned max_depth;
    int failed;        /* 0, or the poisoning error code */
    size_t err_pos;    /* byte offset of the first syntax error */
    const char *err;   /* static description of it */
    bool response;     /* decoding a response (a client): readOnly fields may be
                        * required, writeOnly ones not; false after init */
} rt_json_dec;

void rt_json_dec_init(rt_json_dec *d, char *buf, size_t len, unsigned max_depth);

/* Skips whitespace; type of the next value judged by its first byte. */
rt_json_type rt_json_peek(rt_json_dec *d);

/* '{' ... '}'. After begin, call next until it returns 0:
 *   1: a key was read into *key (in place, unescaped) and the ':' consumed;
 *      the caller must now consume exactly one value.
 *   0: the closing '}' was consumed.
 *  <0: error. Commas are handled inside. */
int rt_json_obj_begin(rt_json_dec *d);
int rt_json_obj_next(rt_json_dec *d, rt_str *key);

/* '[' ... ']'. next: 1 = an element follows (consume it), 0 = ']' consumed. */
int rt_json_arr_begin(rt_json_dec *d);
int rt_json_arr_next(rt_json_dec *d);

/* Scalars. ETYPE when the next value is of another JSON type (not consumed). */
int rt_json_str(rt_json_dec *d, rt_str *out);
/* Integers. ETYPE when the next value is not a number. A number with a
 * fraction or exponent, or outside int64, is consumed and RT_JSON_ERANGE
 * returned (the caller reports "must be an integer" / "out of range"). */
int rt_json_i64(rt_json_dec *d, int64_t *out);
int rt_json_f64(rt_json_dec *d, double *out);
int rt_json_bool(rt_json_dec *d, bool *out);
int rt_json_null(rt_json_dec *d);
/* Any value, fully syntax-checked (and unescaped in place if a string). */
int rt_json_skip(rt_json_dec *d);
/* Only whitespace may remain. */
int rt_json_finish(rt_json_dec *d);
/* Any value, fully syntax-checked, WITHOUT touching the buffer: *out is the
 * value's exact text (escapes kept), so it can be decoded again later (a
 * oneOf alternative, a free-form object kept as raw JSON). */
int rt_json_raw(rt_json_dec *d, rt_str *out);
/* In the raw text of a well-formed object (from rt_json_raw), the raw value
 * of the top-level member named key (compared after unescaping). 1 found,
 * 0 absent or not an object. Reads only. */
int rt_json_member(rt_str obj, const char *key, size_t key_len, rt_str *val);
/* The string a raw JSON string value holds: a view into raw when it has no
 * escape, else an unescaped copy in the arena. 1 ok, 0 not a string, -1 out
 * of memory. */
int rt_json_raw_str(rt_str raw, rt_arena *a, rt_str *out);

/* Whole-document check that leaves the buffer unchanged (copies nothing:
 * validates escapes without writing). 0 when buf holds exactly one valid
 * JSON value surrounded by optional whitespace. err/err_pos optional. */
int rt_json_validate(const char *buf, size_t len, unsigned max_depth,
                     size_t *err_pos, const char **err);

/* ---------------------------------------------------------------- encoder */

/* A JSON string with quotes. Escapes '"', '\\' and every byte < 0x20
 * (\n, \t, \r, \b, \f short forms, \u00XX otherwise); other bytes are copied
 * as they are, so the input must be valid UTF-8 (decoded request strings and
 * database text are). */
void rt_json_put_str(rt_buf *b, const char *s, size_t len);
static inline void rt_json_put_rtstr(rt_buf *b, rt_str s) { rt_json_put_str(b, s.ptr, s.len); }
void rt_json_put_i64(rt_buf *b, int64_t v);
/* Shortest form that round-trips (%.17g fallback); non-finite -> null. */
void rt_json_put_f64(rt_buf *b, double v);
void rt_json_put_bool(rt_buf *b, bool v);
void rt_json_put_null(rt_buf *b);
/* Raw JSON text as it is (it came validated from rt_json_raw or from the
 * handler, who vouches for it); an empty view writes {} when object, else
 * null. */
void rt_json_put_raw(rt_buf *b, rt_str raw, bool object);
/* RFC 3339 UTC with microseconds: "2026-11-23T10:00:00.000000Z", quoted. */
void rt_json_put_time(rt_buf *b, int64_t unix_us);

/* ---------------------------------------------------------------- time text */

/* RFC 3339 date-time (any offset, optional fraction up to 9 digits, 'T'/'t',
 * 'Z'/'z') -> microseconds since the epoch, UTC. 0 on success, -1 invalid. */
int rt_time_parse(rt_str s, int64_t *unix_us);
/* Writes exactly 27 bytes "YYYY-MM-DDTHH:MM:SS.ffffffZ" (no quotes, no NUL). */
void rt_time_format(int64_t unix_us, char out[27]);

#endif
