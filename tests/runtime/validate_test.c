/*
 * validate_test.c - tests of src/runtime/validate.c: code point counts,
 * UTF-8 validity, byte sets, alphanum, email, uuid, RFC 3339 dates and
 * strict integer parsing.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "validate.h"

static rt_str S(const char *s)
{
    return (rt_str){ s, strlen(s) };
}

/* ================================================================ UTF-8 */

Test(validate, utf8_count)
{
    cr_assert_eq(rt_utf8_count(RT_STR_NULL), 0);
    cr_assert_eq(rt_utf8_count(S("")), 0);
    cr_assert_eq(rt_utf8_count(S("abc")), 3);
    cr_assert_eq(rt_utf8_count(S("h\xc3\xa9llo")), 5);                  /* é: 2 bytes */
    cr_assert_eq(rt_utf8_count(S("\xe2\x82\xac" "5")), 2);              /* €: 3 bytes */
    cr_assert_eq(rt_utf8_count(S("\xf0\x9f\x98\x80\xf0\x9f\x98\x80")), 2); /* 😀: 4 bytes */
    cr_assert_eq(rt_utf8_count(S("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z")), 5);
    cr_assert_eq(rt_utf8_count(RT_STR("a\0b")), 3, "NUL is a code point");
    /* only len bytes count */
    cr_assert_eq(rt_utf8_count((rt_str){ "\xc3\xa9\xc3\xa9", 2 }), 1);
}

Test(validate, utf8_valid)
{
    static const char *good[] = {
        "", "plain ascii", "\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
        "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf", "0123456789abcdef\303\2510123456789",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(rt_utf8_valid(good[i], strlen(good[i])), "rejected #%zu", i);
    static const char *bad[] = {
        "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
        "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xff",
        "\x80", "\xe2\x82", "\xc3", "\xf0\x9f\x98", "\xc3\x28", "0123456789abcdef\x80",
        "0123456789abcdefgh\xe2\x82",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!rt_utf8_valid(bad[i], strlen(bad[i])), "accepted #%zu", i);
    /* a sequence cut by len, though the bytes after it would complete it */
    cr_assert(!rt_utf8_valid("\xe2\x82\xac", 2));
    cr_assert(rt_utf8_valid("a\0b", 3));
    cr_assert(rt_utf8_valid(NULL, 0));
}

/* ================================================================ byte sets */

static void set_add(rt_byteset *s, unsigned char c)
{
    s->bits[c >> 6] |= (uint64_t)1 << (c & 63);
}

Test(validate, byteset)
{
    rt_byteset set = { { 0, 0, 0, 0 } };
    for (const char *p = "abc-_"; *p; p++)
        set_add(&set, (unsigned char)*p);
    set_add(&set, 0xFF);
    set_add(&set, 0x00);
    cr_assert(rt_byteset_has(&set, 'a'));
    cr_assert(rt_byteset_has(&set, 0xFF));
    cr_assert(rt_byteset_has(&set, 0x00));
    cr_assert(!rt_byteset_has(&set, 'd'));
    cr_assert(!rt_byteset_has(&set, 0x80));
    cr_assert(rt_all_in_set(S("abc-_cba"), &set));
    cr_assert(rt_all_in_set(S(""), &set), "empty string: every byte (none) is allowed");
    cr_assert(!rt_all_in_set(S("abcd"), &set));
    cr_assert(!rt_all_in_set(S("ab c"), &set));
    cr_assert(rt_all_in_set(RT_STR("a\0\xff"), &set));
    /* every bit position maps to its own byte */
    for (unsigned c = 0; c < 256; c++) {
        rt_byteset one = { { 0, 0, 0, 0 } };
        set_add(&one, (unsigned char)c);
        for (unsigned k = 0; k < 256; k++)
            if (rt_byteset_has(&one, (unsigned char)k) != (k == c))
                cr_assert_fail("bit %u answers for byte %u", c, k);
    }
}

Test(validate, alphanum)
{
    cr_assert(rt_is_alphanum(S("abcXYZ019")));
    cr_assert(rt_is_alphanum(S("a")));
    cr_assert(!rt_is_alphanum(S("")));
    cr_assert(!rt_is_alphanum(RT_STR_NULL));
    cr_assert(!rt_is_alphanum(S("ab c")));
    cr_assert(!rt_is_alphanum(S("ab-c")));
    cr_assert(!rt_is_alphanum(S("ab_c")));
    cr_assert(!rt_is_alphanum(S("caf\xc3\xa9")));
    /* the neighbours of the ranges */
    cr_assert(!rt_is_alphanum(S("@")));
    cr_assert(!rt_is_alphanum(S("[")));
    cr_assert(!rt_is_alphanum(S("`")));
    cr_assert(!rt_is_alphanum(S("{")));
    cr_assert(!rt_is_alphanum(S("/")));
    cr_assert(!rt_is_alphanum(S(":")));
    cr_assert(!rt_is_alphanum(RT_STR("a\0")));
}

/* ================================================================ email */

Test(validate, email_good)
{
    static const char *good[] = {
        "a@b.co",
        "user@example.com",
        "first.last@sub.example.org",
        "x+tag@example.io",
        "o'brien@example.ie",
        "!#$%&'*+-/=?^_`{|}~@example.com",
        "a@a-b.c-d.example",
        "A@EXAMPLE.COM",
        "1@2.x3",
        "u@xn--bcher-kva.example",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(rt_is_email(S(good[i])), "rejected %s", good[i]);
}

Test(validate, email_bad)
{
    static const char *bad[] = {
        "",
        "plain",
        "@example.com",
        "user@",
        "user@@example.com",
        "a@b@example.com",
        "us er@example.com",
        "user@exa mple.com",
        " user@example.com",
        "user@example.com ",
        ".user@example.com",
        "user.@example.com",
        "us..er@example.com",
        "user@.example.com",
        "user@example..com",
        "user@example.com.",
        "user@-example.com",
        "user@example-.com",
        "user@example.-com",
        "user@localhost",
        "user@example_under.com",
        "\"quoted\"@example.com",
        "us\"er@example.com",
        "user@[127.0.0.1]",
        "user@1.2.3.4",
        "user(comment)@example.com",
        "user@example.com(comment)",
        "us\ter@example.com",
        "user@exam\nple.com",
        "user\x7f@example.com",
        "us\\er@example.com",
        "caf\xc3\xa9@example.com",
        "user@b\303\274cher.example",
        "a,b@example.com",
        "a;b@example.com",
        "a:b@example.com",
        "<a@example.com>",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!rt_is_email(S(bad[i])), "accepted \"%s\"", bad[i]);
    /* a NUL in the view is a control character */
    cr_assert(!rt_is_email(RT_STR("us\0er@example.com")));
    cr_assert(!rt_is_email(RT_STR("user@example.com\0")));
    cr_assert(!rt_is_email(RT_STR_NULL));
}

Test(validate, email_lengths)
{
    char buf[400];
    /* local part: 64 ok, 65 not */
    memset(buf, 'l', 64);
    strcpy(buf + 64, "@example.com");
    cr_assert(rt_is_email(S(buf)));
    memset(buf, 'l', 65);
    strcpy(buf + 65, "@example.com");
    cr_assert(!rt_is_email(S(buf)), "65-octet local part");
    /* label: 63 ok, 64 not */
    strcpy(buf, "u@");
    memset(buf + 2, 'd', 63);
    strcpy(buf + 65, ".com");
    cr_assert(rt_is_email(S(buf)));
    memset(buf + 2, 'd', 64);
    strcpy(buf + 66, ".com");
    cr_assert(!rt_is_email(S(buf)), "64-octet label");
    /* total: 254 ok, 255 not (labels of 50 joined by dots) */
    for (size_t total = 254; total <= 255; total++) {
        size_t o = 0;
        memcpy(buf, "user@", 5);
        o = 5;
        while (total - o > 51) {
            memset(buf + o, 'd', 50);
            o += 50;
            buf[o++] = '.';
        }
        memset(buf + o, 'e', total - o);
        o = total;
        buf[o] = 0;
        cr_assert_eq(strlen(buf), total);
        cr_assert_eq(rt_is_email(S(buf)), total == 254, "total length %zu", total);
    }
    /* only len bytes are looked at */
    cr_assert(rt_is_email((rt_str){ "a@b.cox@", 6 }));
}

/* ================================================================ uuid */

Test(validate, uuid)
{
    cr_assert(rt_is_uuid(S("123e4567-e89b-12d3-a456-426614174000")));
    cr_assert(rt_is_uuid(S("123E4567-E89B-12D3-A456-426614174000")));
    cr_assert(rt_is_uuid(S("00000000-0000-0000-0000-000000000000")));
    cr_assert(rt_is_uuid(S("FFFFFFFF-ffff-FfFf-fFfF-abcdefABCDEF")));
    static const char *bad[] = {
        "",
        "123e4567e89b12d3a456426614174000",
        "123e4567-e89b-12d3-a456-42661417400",
        "123e4567-e89b-12d3-a456-4266141740000",
        "123e4567-e89b-12d3-a456_426614174000",
        "123e4567-e89b-12d3-a4564-26614174000",
        "g23e4567-e89b-12d3-a456-426614174000",
        "{123e4567-e89b-12d3-a456-426614174000}",
        "123e4567-e89b-12d3-a456-42661417400 ",
        " 23e4567-e89b-12d3-a456-426614174000",
        "123e4567-e89b-12d3-a456-42661417400:",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!rt_is_uuid(S(bad[i])), "accepted %s", bad[i]);
}

/* ================================================================ dates */

Test(validate, date)
{
    static const char *good[] = { "2024-02-29", "2000-02-29", "2023-12-31", "0000-01-01", "9999-12-31",
                                  "2023-04-30", "2023-01-31" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(rt_is_date(S(good[i])), "rejected %s", good[i]);
    static const char *bad[] = {
        "", "2023-02-29", "1900-02-29", "2100-02-29", "2023-04-31", "2023-13-01", "2023-00-10",
        "2023-01-00", "2023-01-32", "2023-1-01", "23-01-01", "2023/01/01", "2023-01-01T",
        "2023-01-01 ", "202a-01-01", "2023-0a-01", "+2023-01-01", "20230101",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!rt_is_date(S(bad[i])), "accepted %s", bad[i]);
}

Test(validate, date_time)
{
    static const char *good[] = {
        "2024-02-29T12:34:56Z",
        "2024-02-29t12:34:56z",
        "2024-02-29T12:34:56+01:00",
        "2024-02-29T12:34:56-23:59",
        "2024-02-29T12:34:56.1Z",
        "2024-02-29T12:34:56.123456789012Z", /* RFC 3339 allows any number of digits */
        "2016-12-31T23:59:60Z",              /* leap second */
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59.999999+00:00",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(rt_is_date_time(S(good[i])), "rejected %s", good[i]);
    static const char *bad[] = {
        "",
        "2024-02-29",
        "2024-02-29T12:34:56",       /* offset is required */
        "2024-02-29 12:34:56Z",
        "2023-02-29T12:34:56Z",
        "2024-04-31T12:34:56Z",
        "2024-13-01T12:34:56Z",
        "2024-02-29T24:00:00Z",
        "2024-02-29T12:60:00Z",
        "2024-02-29T12:34:61Z",
        "2024-02-29T12:34Z",
        "2024-02-29T12:34:56.Z",
        "2024-02-29T12:34:56,5Z",
        "2024-02-29T12:34:56+24:00",
        "2024-02-29T12:34:56+01:60",
        "2024-02-29T12:34:56+0100",
        "2024-02-29T12:34:56+01",
        "2024-02-29T12:34:56Z ",
        "2024-02-29T12:34:56ZZ",
        "2024-02-29T1:34:56Z",
        "2024-02-29T12:34:56.5",
        "2024-02-29T12:34:56.5+01:00x",
        "2024-02-29T12:34:5aZ",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert(!rt_is_date_time(S(bad[i])), "accepted %s", bad[i]);
    /* bounded by len */
    cr_assert(rt_is_date_time((rt_str){ "2024-02-29T12:34:56Zjunk", 20 }));
    cr_assert(!rt_is_date_time((rt_str){ "2024-02-29T12:34:56Z", 19 }));
}

/* ================================================================ integers */

Test(validate, parse_i64)
{
    static const struct {
        const char *s;
        int rc;
        int64_t v;
    } cases[] = {
        { "0", 0, 0 },
        { "7", 0, 7 },
        { "-7", 0, -7 },
        { "-0", 0, 0 },
        { "1234567890", 0, 1234567890 },
        { "9223372036854775807", 0, INT64_MAX },
        { "-9223372036854775808", 0, INT64_MIN },
        { "9223372036854775808", -2, 0 },
        { "-9223372036854775809", -2, 0 },
        { "99999999999999999999999999", -2, 0 },
        { "", -1, 0 },
        { "-", -1, 0 },
        { "+1", -1, 0 },
        { " 1", -1, 0 },
        { "1 ", -1, 0 },
        { "01", -1, 0 },
        { "-01", -1, 0 },
        { "00", -1, 0 },
        { "1.0", -1, 0 },
        { "1e3", -1, 0 },
        { "0x10", -1, 0 },
        { "12a", -1, 0 },
        { "--1", -1, 0 },
        { "99999999999999999999x", -1, 0 }, /* not an integer beats out of range */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 42;
        int rc = rt_parse_i64(S(cases[i].s), &v);
        cr_assert_eq(rc, cases[i].rc, "\"%s\": rc %d", cases[i].s, rc);
        cr_assert_eq(v, rc == 0 ? cases[i].v : 42, "\"%s\": value %lld", cases[i].s, (long long)v);
    }
    int64_t v;
    cr_assert_eq(rt_parse_i64(RT_STR_NULL, &v), -1);
    cr_assert_eq(rt_parse_i64((rt_str){ "123456", 3 }, &v), 0);
    cr_assert_eq(v, 123);
    cr_assert_eq(rt_parse_i64(RT_STR("1\0"), &v), -1);
}
