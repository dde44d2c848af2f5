/*
 * validate.h - checks that generated validators call for string formats and
 * lengths. Inputs are rt_str views of already UTF-8-validated text (the JSON
 * decoder guarantees it); none of these allocate.
 */
#ifndef RT_VALIDATE_H
#define RT_VALIDATE_H

#include "rt.h"

/* Number of Unicode code points (counts lead bytes; input must be valid UTF-8). */
size_t rt_utf8_count(rt_str s);
/* Full UTF-8 validity check (for data that did not come through the decoder). */
bool rt_utf8_valid(const char *s, size_t len);

/* A 256-bit byte set: bit b set when byte b is allowed. Generated code emits
 * these as static const tables for patterns of the form ^[class]+$. */
typedef struct rt_byteset {
    uint64_t bits[4];
} rt_byteset;
static inline bool rt_byteset_has(const rt_byteset *set, unsigned char c)
{
    return (set->bits[c >> 6] >> (c & 63)) & 1u;
}
/* Every byte of s is in the set. */
bool rt_all_in_set(rt_str s, const rt_byteset *set);

/* ASCII letters and digits only (non-empty). */
bool rt_is_alphanum(rt_str s);
/* A pragmatic addr-spec: local@domain, dot-atom local part (RFC 5322 atext,
 * no leading/trailing/double dots, <= 64 octets), domain of LDH labels
 * (1-63 octets, no leading/trailing hyphen) with at least one dot, total
 * <= 254 octets. No quoted local parts, no IP literals, no comments. */
bool rt_is_email(rt_str s);
bool rt_is_uuid(rt_str s);
bool rt_is_date(rt_str s);      /* RFC 3339 full-date, real calendar date */
bool rt_is_date_time(rt_str s); /* RFC 3339 date-time */

/* RFC 3986 absolute URI: scheme ":" then printable non-space ASCII or
 * UTF-8, percent escapes well-formed. */
bool rt_is_uri(rt_str s);
bool rt_is_ipv4(rt_str s);      /* dotted quad, no leading zeros */
bool rt_is_ipv6(rt_str s);      /* RFC 4291 text forms, "::" and a trailing IPv4 allowed */
bool rt_is_base64(rt_str s);    /* RFC 4648 standard alphabet, padded */
/* x is an integer multiple of m (m > 0), within a relative 1e-9 so that
 * 0.3 is a multiple of 0.1 as the spec's author meant. */
bool rt_is_multiple_of(double x, double m);

/* Strict decimal integer parse of a whole string (for path/query params):
 * optional '-', digits, no leading '+', no spaces, no leading zeros except
 * "0". 0 ok, -1 not an integer, -2 out of int64 range. */
int rt_parse_i64(rt_str s, int64_t *out);
/* Strict JSON-number parse of a whole string (parameters): 0 ok, -1 not a
 * number, -2 out of range (not finite). */
int rt_parse_f64(rt_str s, double *out);

#endif
