/*
 * validate.c - string format and length checks called by generated
 * validators: code point counts, UTF-8, byte sets, email, uuid, RFC 3339
 * dates, and strict integer parsing for parameters.
 *
 * Invariants: pure functions of their input view; no allocation, no locale,
 * never read past s.len (views are not NUL-terminated). A NULL ptr with
 * len 0 is an empty string.
 */
#include "validate.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static inline bool is_digit(unsigned char c)
{
    return (unsigned)(c - '0') < 10u;
}

static inline bool is_alpha(unsigned char c)
{
    return (unsigned)((c | 0x20) - 'a') < 26u;
}

static inline bool is_hex(unsigned char c)
{
    return is_digit(c) || (unsigned)((c | 0x20) - 'a') < 6u;
}

/* ================================================================ UTF-8 */

/* Code points = bytes that are not continuation bytes (10xxxxxx). Eight
 * bytes at a time: a byte starts a code point when bit 7 is clear or bit 6
 * is set; those flags (one per byte, in bit 7) are summed by a multiply.
 * Short strings (names, emails) are the common case, which a vectorised
 * byte loop serves poorly. */
size_t rt_utf8_count(rt_str s)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    const uint64_t highs = 0x8080808080808080ull;
    size_t n = 0, i = 0;
    for (; s.len - i >= 8; i += 8) {
        uint64_t v;
        memcpy(&v, p + i, 8);
        uint64_t starts = ((~v | (v << 1)) & highs) >> 7;
        n += (size_t)((starts * 0x0101010101010101ull) >> 56);
    }
    for (; i < s.len; i++)
        n += (p[i] & 0xC0) != 0x80;
    return n;
}

bool rt_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        /* ASCII runs eight bytes at a time. */
        if (len - i >= 8) {
            uint64_t v;
            memcpy(&v, p + i, 8);
            if (!(v & 0x8080808080808080ull)) {
                i += 8;
                continue;
            }
        }
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        unsigned lo = 0x80, hi = 0xBF;
        size_t n;
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* > U+10FFFF */
        } else {
            return false;
        }
        if (len - i < n || p[i + 1] < lo || p[i + 1] > hi)
            return false;
        for (size_t k = 2; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
        i += n;
    }
    return true;
}

/* ================================================================ byte classes */

bool rt_all_in_set(rt_str s, const rt_byteset *set)
{
    for (size_t i = 0; i < s.len; i++)
        if (!rt_byteset_has(set, (unsigned char)s.ptr[i]))
            return false;
    return true;
}

bool rt_is_alphanum(rt_str s)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (!is_alpha(c) && !is_digit(c))
            return false;
    }
    return true;
}

/* ================================================================ email */

/* Byte classes of an address: 1 RFC 5322 atext (letters, digits and
 * !#$%&'*+-/=?^_`{|}~), 2 a domain label's letters, digits and '-',
 * 4 digits. */
enum { EM_ATEXT = 1, EM_LDH = 2, EM_DIGIT = 4 };
static const unsigned char email_cls[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 3, 0, 1,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 0, 0, 0, 1, 0, 1,
    0, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 0, 0, 0, 1, 1,
    1, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
    3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
};

static inline bool is_atext(unsigned char c)
{
    return email_cls[c] & EM_ATEXT;
}

static bool email_local(const unsigned char *p, size_t n)
{
    if (n == 0 || n > 64 || p[0] == '.' || p[n - 1] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '.') {
            if (p[i - 1] == '.')
                return false;
        } else if (!is_atext(p[i])) {
            return false;
        }
    }
    return true;
}

/* LDH labels, at least two; a TLD of digits only is refused so that a dotted
 * IPv4 address without brackets does not pass as a domain. */
static bool email_domain(const unsigned char *p, size_t n)
{
    size_t labels = 0, i = 0;
    bool tld_digits = true;
    while (i <= n) {
        size_t start = i;
        tld_digits = true;
        while (i < n && p[i] != '.') {
            unsigned cls = email_cls[p[i]];
            if (!(cls & EM_LDH))
                return false;
            if (!(cls & EM_DIGIT))
                tld_digits = false;
            i++;
        }
        size_t ln = i - start;
        if (ln == 0 || ln > 63 || p[start] == '-' || p[i - 1] == '-')
            return false;
        labels++;
        i++; /* past '.' (or past the end, ending the loop) */
    }
    return labels >= 2 && !tld_digits;
}

bool rt_is_email(rt_str s)
{
    if (s.len == 0 || s.len > 254)
        return false;
    const unsigned char *p = (const unsigned char *)s.ptr;
    const unsigned char *at = memchr(p, '@', s.len);
    if (!at)
        return false;
    size_t ln = (size_t)(at - p);
    /* A second '@' fails the domain's LDH check. */
    return email_local(p, ln) && email_domain(at + 1, s.len - ln - 1);
}

/* ================================================================ uuid */

bool rt_is_uuid(rt_str s)
{
    if (s.len != 36)
        return false;
    for (size_t i = 0; i < 36; i++) {
        unsigned char c = (unsigned char)s.ptr[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!is_hex(c)) {
            return false;
        }
    }
    return true;
}

/* ================================================================ dates */

static int num2(const char *p)
{
    if (!is_digit((unsigned char)p[0]) || !is_digit((unsigned char)p[1]))
        return -1;
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* "YYYY-MM-DD" at p (10 bytes available), a real proleptic Gregorian date. */
static bool full_date(const char *p)
{
    static const unsigned char dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int hi = num2(p), lo = num2(p + 2), m = num2(p + 5), d = num2(p + 8);
    if (hi < 0 || lo < 0 || p[4] != '-' || p[7] != '-' || m < 1 || m > 12 || d < 1)
        return false;
    int y = hi * 100 + lo;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    int max = (m == 2 && leap) ? 29 : dim[m - 1];
    return d <= max;
}

bool rt_is_date(rt_str s)
{
    return s.len == 10 && full_date(s.ptr);
}

/* RFC 3339 section 5.6: full-date "T" partial-time time-offset. 't' and 'z'
 * are allowed (the RFC's note on case); seconds may be 60 (leap second). The
 * fraction may have any number of digits, unlike rt_time_parse. */
bool rt_is_date_time(rt_str s)
{
    const char *p = s.ptr;
    size_t n = s.len;
    if (n < 20 || !full_date(p) || (p[10] != 'T' && p[10] != 't'))
        return false;
    int hh = num2(p + 11), mm = num2(p + 14), ss = num2(p + 17);
    if (p[13] != ':' || p[16] != ':' || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0 || ss > 60)
        return false;
    size_t i = 19;
    if (p[i] == '.') {
        size_t d0 = ++i;
        while (i < n && is_digit((unsigned char)p[i]))
            i++;
        if (i == d0)
            return false;
    }
    if (i >= n)
        return false;
    if (p[i] == 'Z' || p[i] == 'z')
        return i + 1 == n;
    if (p[i] != '+' && p[i] != '-')
        return false;
    if (n - i != 6 || p[i + 3] != ':')
        return false;
    int oh = num2(p + i + 1), om = num2(p + i + 4);
    return oh >= 0 && oh <= 23 && om >= 0 && om <= 59;
}

/* ================================================================ integers */

/* The whole string is checked before an overflow is reported, so "9...9x"
 * is "not an integer" rather than "out of range". "-0" is accepted as 0, as
 * JSON's grammar does. */
int rt_parse_i64(rt_str s, int64_t *out)
{
    const unsigned char *p = (const unsigned char *)s.ptr;
    size_t n = s.len, i = 0;
    bool neg = false;
    if (n && p[0] == '-') {
        neg = true;
        i = 1;
    }
    if (i >= n)
        return -1;
    if (p[i] == '0' && n - i > 1)
        return -1;
    uint64_t lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    uint64_t acc = 0;
    bool over = false;
    for (; i < n; i++) {
        if (!is_digit(p[i]))
            return -1;
        unsigned d = p[i] - '0';
        if (over || acc > (lim - d) / 10)
            over = true;
        else
            acc = acc * 10 + d;
    }
    if (over)
        return -2;
    if (neg)
        *out = acc == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)acc;
    else
        *out = (int64_t)acc;
    return 0;
}

/* ================================================================ more formats */

bool rt_is_uri(rt_str s)
{
    size_t i = 0;

    if (s.len == 0 || !((s.ptr[0] | 0x20) >= 'a' && (s.ptr[0] | 0x20) <= 'z'))
        return false;
    while (i < s.len && (isalnum((unsigned char)s.ptr[i]) || s.ptr[i] == '+' ||
                         s.ptr[i] == '-' || s.ptr[i] == '.'))
        i++;
    if (i == s.len || s.ptr[i] != ':')
        return false;
    for (i++; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];

        if (c <= 0x20 || c == 0x7f || c == '"' || c == '<' || c == '>' || c == '\\' ||
            c == '^' || c == '`' || c == '{' || c == '|' || c == '}')
            return false;
        if (c == '%') {
            if (i + 2 >= s.len + 0 || !isxdigit((unsigned char)s.ptr[i + 1]) ||
                !isxdigit((unsigned char)s.ptr[i + 2]))
                return false;
            i += 2;
        }
    }
    return true;
}

/* One dotted quad at s[0..len): 4 decimal parts 0-255, no leading zeros. */
static bool ipv4_text(const char *p, size_t len)
{
    size_t i = 0;

    for (int part = 0; part < 4; part++) {
        unsigned v = 0;
        size_t start = i;

        if (part > 0) {
            if (i >= len || p[i] != '.')
                return false;
            start = ++i;
        }
        while (i < len && p[i] >= '0' && p[i] <= '9' && i - start < 3)
            v = v * 10 + (unsigned)(p[i++] - '0');
        if (i == start || v > 255 || (i - start > 1 && p[start] == '0'))
            return false;
    }
    return i == len;
}

bool rt_is_ipv4(rt_str s)
{
    return ipv4_text(s.ptr, s.len);
}

bool rt_is_ipv6(rt_str s)
{
    size_t i = 0, groups = 0;
    bool gap = false;

    if (s.len < 2 || s.len > 45)
        return false;
    if (s.ptr[0] == ':') {
        if (s.ptr[1] != ':')
            return false;
        gap = true;
        i = 2;
        if (i == s.len)
            return true;
    }
    while (i < s.len) {
        size_t start = i;

        while (i < s.len && isxdigit((unsigned char)s.ptr[i]) && i - start < 4)
            i++;
        if (i < s.len && s.ptr[i] == '.') {
            /* an embedded IPv4 takes the last two groups */
            if (!ipv4_text(s.ptr + start, s.len - start))
                return false;
            groups += 2;
            i = s.len;
            break;
        }
        if (i == start)
            return false;
        groups++;
        if (i == s.len)
            break;
        if (s.ptr[i] != ':')
            return false;
        i++;
        if (i < s.len && s.ptr[i] == ':') {
            if (gap)
                return false;
            gap = true;
            i++;
            if (i == s.len)
                break;
        } else if (i == s.len) {
            return false; /* a single trailing ':' */
        }
    }
    return gap ? groups <= 7 : groups == 8;
}

bool rt_is_base64(rt_str s)
{
    size_t pad = 0;

    if (s.len % 4 != 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.ptr[i];

        if (c == '=') {
            pad++;
            continue;
        }
        if (pad > 0 || !(isalnum(c) || c == '+' || c == '/'))
            return false;
    }
    return pad <= 2;
}

bool rt_is_multiple_of(double x, double m)
{
    double q;

    if (!(m > 0) || !isfinite(x))
        return false;
    q = x / m;
    if (!isfinite(q))
        return false;
    return fabs(q - nearbyint(q)) <= 1e-9 * fmax(1.0, fabs(q));
}

int rt_parse_f64(rt_str s, double *out)
{
    char tmp[64];
    size_t i = 0;
    char *end;

    if (s.len == 0 || s.len >= sizeof tmp)
        return -1;
    /* JSON's number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)? */
    if (s.ptr[i] == '-')
        i++;
    if (i < s.len && s.ptr[i] == '0')
        i++;
    else if (i < s.len && s.ptr[i] >= '1' && s.ptr[i] <= '9')
        while (i < s.len && isdigit((unsigned char)s.ptr[i]))
            i++;
    else
        return -1;
    if (i < s.len && s.ptr[i] == '.') {
        size_t f = ++i;
        while (i < s.len && isdigit((unsigned char)s.ptr[i]))
            i++;
        if (i == f)
            return -1;
    }
    if (i < s.len && (s.ptr[i] == 'e' || s.ptr[i] == 'E')) {
        size_t f;
        i++;
        if (i < s.len && (s.ptr[i] == '+' || s.ptr[i] == '-'))
            i++;
        f = i;
        while (i < s.len && isdigit((unsigned char)s.ptr[i]))
            i++;
        if (i == f)
            return -1;
    }
    if (i != s.len)
        return -1;
    memcpy(tmp, s.ptr, s.len);
    tmp[s.len] = '\0';
    *out = strtod(tmp, &end);
    if (!isfinite(*out))
        return -2;
    return 0;
}
