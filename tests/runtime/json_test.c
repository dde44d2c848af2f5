/*
 * json_test.c - tests of src/runtime/json.c: the pull decoder function by
 * function, rt_json_validate, the encoder, RFC 3339 time text, a walk of the
 * whole JSONTestSuite corpus, and documents ending at an unmapped page.
 *
 * Inputs are copied into malloc blocks of exactly their length, so ASan
 * reports any read past the end (the decoder's buffers are never
 * NUL-terminated in production either).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "json.h"
#include "testutil.h"

/* ================================================================ helpers */

static rt_json_dec dec_n(const char *s, size_t n, unsigned depth)
{
    rt_json_dec d;
    rt_json_dec_init(&d, test_copy(s, n), n, depth);
    return d;
}

/* From a string literal, so embedded NULs count. */
#define DEC(lit) dec_n((lit), sizeof(lit) - 1, 0)
#define DECD(lit, depth) dec_n((lit), sizeof(lit) - 1, (depth))

static int validate_n(const char *s, size_t n, unsigned depth, size_t *err_pos)
{
    const char *err = NULL;
    size_t pos = 0;
    int rc = rt_json_validate(test_copy(s, n), n, depth, &pos, &err);
    if (rc)
        cr_assert_not_null(err, "an error must come with a message");
    if (err_pos)
        *err_pos = pos;
    return rc;
}

/* Full in-place walk: skip one value, then only whitespace. */
static int walk_n(const char *s, size_t n, unsigned depth, size_t *err_pos)
{
    rt_json_dec d = dec_n(s, n, depth);
    int rc = rt_json_skip(&d);
    if (!rc)
        rc = rt_json_finish(&d);
    if (err_pos)
        *err_pos = d.err_pos;
    return rc;
}

static bool str_is(rt_str s, const char *want, size_t n)
{
    return s.len == n && memcmp(s.ptr, want, n) == 0;
}
#define STR_IS(s, lit) str_is((s), (lit), sizeof(lit) - 1)

TestSuite(json, .fini = test_free_copies);

/* ================================================================ objects & arrays */

Test(json, object_walk)
{
    rt_json_dec d = DEC(" {\"a\":1, \"b\" : \"x\\ny\",\"c\":true,\"d\":null,"
                        "\"e\":[1,2],\"f\":{\"g\":-2.5},\"h\":{},\"i\":[]} ");
    rt_str k;
    int64_t i;
    double f;
    bool b;
    rt_str s;
    cr_assert_eq(rt_json_peek(&d), RT_JSON_OBJECT);
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(d.depth, 1);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "a"));
    cr_assert_eq(rt_json_i64(&d, &i), 0);
    cr_assert_eq(i, 1);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "b"));
    cr_assert_eq(rt_json_str(&d, &s), 0);
    cr_assert(STR_IS(s, "x\ny"));
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "c"));
    cr_assert_eq(rt_json_bool(&d, &b), 0);
    cr_assert(b);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "d"));
    cr_assert_eq(rt_json_null(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "e"));
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(d.depth, 2);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &i), 0);
    cr_assert_eq(i, 1);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &i), 0);
    cr_assert_eq(i, 2);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(d.depth, 1);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "f"));
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "g"));
    cr_assert_eq(rt_json_f64(&d, &f), 0);
    cr_assert_eq(f, -2.5);
    cr_assert_eq(rt_json_obj_next(&d, &k), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "h"));
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "i"));
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 0);
    cr_assert_eq(d.depth, 0);
    cr_assert_eq(rt_json_finish(&d), 0);
}

Test(json, empty_containers_with_whitespace)
{
    rt_json_dec d = DEC(" \t\r\n{ \n } ");
    rt_str k;
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
    d = DEC("[ ]");
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
    /* a peek between begin and next must not confuse the first-member logic */
    d = DEC("[ 1 , 2 ]");
    int64_t v;
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_peek(&d), RT_JSON_NUMBER);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(rt_json_peek(&d), RT_JSON_NONE); /* ',' starts no value */
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(v, 2);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
}

Test(json, nested_arrays)
{
    rt_json_dec d = DEC("[[1,[2]],{\"k\":[3]},[]]");
    int64_t v, sum = 0;
    rt_str k;
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    sum += v;
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    sum += v;
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    sum += v;
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
    cr_assert_eq(sum, 6);
}

Test(json, object_rejections)
{
    static const struct {
        const char *doc;
        size_t err_pos;
    } cases[] = {
        { "{\"a\":1,}", 7 },  /* trailing comma */
        { "{,}", 1 },
        { "{,\"a\":1}", 1 },
        { "{\"a\" 1}", 5 },   /* missing ':' */
        { "{\"a\"}", 4 },
        { "{1:2}", 1 },       /* non-string key */
        { "{a:1}", 1 },
        { "{'a':1}", 1 },
        { "{\"a\":1 \"b\":2}", 7 },
        { "{\"a\":1,,\"b\":2}", 7 },
        { "{\"a\":}", 5 },
        { "{\"a\":1", 6 },
        { "{", 1 },
        { "{\"a\":1]", 6 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *doc = cases[i].doc;
        size_t n = strlen(doc);
        rt_json_dec d = dec_n(doc, n, 0);
        rt_str k;
        int64_t v;
        int rc = rt_json_obj_begin(&d);
        cr_assert_eq(rc, 0, "%s", doc);
        /* walk until something fails */
        for (int step = 0; step < 10 && rc >= 0; step++) {
            rc = rt_json_obj_next(&d, &k);
            if (rc == 1)
                rc = rt_json_i64(&d, &v);
            else if (rc == 0)
                rc = rt_json_finish(&d);
            if (rc == 0 && d.depth == 0)
                break;
        }
        cr_assert_eq(rc, RT_JSON_ESYNTAX, "pull decoder accepted %s", doc);
        cr_assert_eq(d.err_pos, cases[i].err_pos, "%s: err_pos %zu", doc, d.err_pos);
        size_t ep;
        cr_assert_eq(validate_n(doc, n, 0, &ep), RT_JSON_ESYNTAX, "validate accepted %s", doc);
        cr_assert_eq(ep, cases[i].err_pos, "%s: validate err_pos %zu", doc, ep);
    }
}

Test(json, array_rejections)
{
    static const struct {
        const char *doc;
        size_t err_pos;
    } cases[] = {
        { "[1,]", 3 },
        { "[,1]", 1 },
        { "[,]", 1 },
        { "[1 2]", 3 },
        { "[1,,2]", 3 },
        { "[1", 2 },
        { "[", 1 },
        { "[1}", 2 },
        { "[1,]  ", 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *doc = cases[i].doc;
        size_t n = strlen(doc);
        rt_json_dec d = dec_n(doc, n, 0);
        int64_t v;
        int rc = rt_json_arr_begin(&d);
        cr_assert_eq(rc, 0);
        for (int step = 0; step < 10 && rc >= 0; step++) {
            rc = rt_json_arr_next(&d);
            if (rc == 1)
                rc = rt_json_i64(&d, &v);
            else if (rc == 0)
                break;
        }
        cr_assert_eq(rc, RT_JSON_ESYNTAX, "pull decoder accepted %s", doc);
        cr_assert_eq(d.err_pos, cases[i].err_pos, "%s: err_pos %zu", doc, d.err_pos);
        size_t ep;
        cr_assert_eq(validate_n(doc, n, 0, &ep), RT_JSON_ESYNTAX, "%s", doc);
        cr_assert_eq(ep, cases[i].err_pos, "%s: validate err_pos %zu", doc, ep);
    }
}

/* ================================================================ strings */

Test(json, escapes_decoded_in_place)
{
    rt_json_dec d = DEC("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"");
    rt_str s;
    cr_assert_eq(rt_json_str(&d, &s), 0);
    cr_assert(STR_IS(s, "a\"b\\c/d\b\f\n\r\t"));
    cr_assert_eq(s.ptr, d.buf + 1, "decoded in place");
    cr_assert_eq(rt_json_finish(&d), 0);
}

Test(json, unicode_escapes)
{
    rt_json_dec d = DEC("\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\\u0000z\\uDBFF\\uDFFF\"");
    rt_str s;
    cr_assert_eq(rt_json_str(&d, &s), 0);
    cr_assert(STR_IS(s, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\0z\xf4\x8f\xbf\xbf"));
    cr_assert_eq(s.ptr, d.buf + 1);
    cr_assert_eq(rt_json_finish(&d), 0);
}

Test(json, mixed_runs_after_escape)
{
    /* Plain runs, multi-byte UTF-8 and escapes interleaved, long enough for
     * the 8-byte scan on both sides of the first escape. */
    rt_json_dec d = DEC("\"abcdefghijklmnop\xc3\xa9qrstuvwx\\n\xe2\x82\xac" "0123456789abcdef\\u00e9\\\\\xf0\x9f\x98\x80z\"");
    rt_str s;
    cr_assert_eq(rt_json_str(&d, &s), 0);
    cr_assert(STR_IS(s, "abcdefghijklmnop\xc3\xa9qrstuvwx\n\xe2\x82\xac" "0123456789abcdef\xc3\xa9\\\xf0\x9f\x98\x80z"));
}

Test(json, lone_surrogates_rejected)
{
    static const char *cases[] = {
        "\"\\ud800\"", "\"\\udc00\"", "\"\\udfff\"", "\"\\ud800\\u0041\"", "\"\\ud800x\"",
        "\"\\udbff\\udbff\"", "\"\\ud800\\\"\"", "\"\\ud800\\n\"", "\"\\ude00\\ud83d\"",
        "\"\\ud800\\u\"", "\"\\ud800\\uDC0\"",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        rt_json_dec d = dec_n(cases[i], n, 0);
        rt_str s;
        cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX, "accepted %s", cases[i]);
        cr_assert_eq(d.err_pos, 1, "%s: err_pos %zu", cases[i], d.err_pos);
        cr_assert_neq(validate_n(cases[i], n, 0, NULL), 0, "%s", cases[i]);
    }
}

Test(json, bad_escapes_rejected)
{
    static const char *cases[] = {
        "\"\\x\"", "\"\\u12G4\"", "\"\\U0041\"", "\"\\'\"", "\"\\a\"", "\"\\0\"",
        "\"\\u00\"", "\"\\ \"", "\"\\\"",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        rt_json_dec d = dec_n(cases[i], n, 0);
        rt_str s;
        cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX, "accepted %s", cases[i]);
        cr_assert_neq(validate_n(cases[i], n, 0, NULL), 0, "%s", cases[i]);
    }
}

Test(json, invalid_utf8_rejected)
{
    static const char *bad[] = {
        "\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf", "\xed\xa0\x80", "\xed\xbf\xbf",
        "\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf", "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",
        "\xf8\x88\x80\x80\x80", "\xff", "\xfe", "\x80", "\xbf", "\xe2\x82", "\xc3",
        "\xf0\x9f\x98", "\xc3\x28", "\xe2\x28\xa1", "\xf0\x9f\x28\x80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        for (int pad = 0; pad < 2; pad++) {
            /* pad = 1 puts the bad byte after a plain run the 8-byte scan handles */
            char doc[64];
            int n = snprintf(doc, sizeof doc, "\"%s%sz\"", pad ? "0123456789abcdefgh" : "", bad[i]);
            rt_json_dec d = dec_n(doc, (size_t)n, 0);
            rt_str s;
            cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX, "accepted bad UTF-8 #%zu", i);
            cr_assert_eq(d.err_pos, pad ? 19u : 1u, "#%zu err_pos %zu", i, d.err_pos);
            cr_assert_neq(validate_n(doc, (size_t)n, 0, NULL), 0, "#%zu", i);
            /* also after an escape (the copying path) */
            n = snprintf(doc, sizeof doc, "\"\\n%sz\"", bad[i]);
            d = dec_n(doc, (size_t)n, 0);
            cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX, "accepted bad UTF-8 #%zu after escape", i);
        }
    }
    static const char *good[] = {
        "\xc2\x80", "\xc3\xa9", "\xdf\xbf", "\xe0\xa0\x80", "\xe2\x82\xac", "\xed\x9f\xbf",
        "\xee\x80\x80", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\x7f",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char doc[64];
        int n = snprintf(doc, sizeof doc, "\"0123456789%s\\t%s\"", good[i], good[i]);
        rt_json_dec d = dec_n(doc, (size_t)n, 0);
        rt_str s;
        cr_assert_eq(rt_json_str(&d, &s), 0, "rejected good UTF-8 #%zu", i);
        size_t gl = strlen(good[i]);
        cr_assert_eq(s.len, 10 + 2 * gl + 1);
        cr_assert_eq(memcmp(s.ptr + 10, good[i], gl), 0);
        cr_assert_eq(s.ptr[10 + gl], '\t');
        cr_assert_eq(memcmp(s.ptr + 11 + gl, good[i], gl), 0);
    }
}

Test(json, control_chars_rejected)
{
    for (int c = 0; c < 0x20; c++) {
        for (int pad = 0; pad < 2; pad++) {
            char doc[40];
            int n = snprintf(doc, sizeof doc, "\"%sa", pad ? "0123456789abcdef" : "");
            doc[n++] = (char)c;
            doc[n++] = 'b';
            doc[n++] = '"';
            rt_json_dec d = dec_n(doc, (size_t)n, 0);
            rt_str s;
            cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX, "accepted raw byte 0x%02x", c);
            cr_assert_eq(d.err_pos, pad ? 18u : 2u);
            cr_assert_neq(validate_n(doc, (size_t)n, 0, NULL), 0);
        }
    }
    rt_json_dec d = DEC("\"a\x7f\"");
    rt_str s;
    cr_assert_eq(rt_json_str(&d, &s), 0, "DEL is allowed");
}

Test(json, unterminated_strings)
{
    static const char *cases[] = { "\"", "\"abc", "\"0123456789abcdefghij", "\"a\\\"", "\"\\u00e9" };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        rt_json_dec d = dec_n(cases[i], n, 0);
        rt_str s;
        cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX, "%s", cases[i]);
        cr_assert_eq(d.err_pos, n, "%s: err_pos %zu", cases[i], d.err_pos);
    }
}

/* ================================================================ numbers */

Test(json, number_grammar)
{
    static const char *bad[] = {
        "01", "-01", "00", "-", "1.", "-.5", ".5", "1e", "1e+", "1E-", "+1", "1.e5", "0x10",
        "1.5e", "--1", "- 1", "Infinity", "NaN", "-Infinity", "1e5.5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        cr_assert_neq(validate_n(bad[i], n, 0, NULL), 0, "validate accepted %s", bad[i]);
        cr_assert_neq(walk_n(bad[i], n, 0, NULL), 0, "walk accepted %s", bad[i]);
        rt_json_dec d = dec_n(bad[i], n, 0);
        double f;
        int rc = rt_json_f64(&d, &f);
        if (rc == 0)
            rc = rt_json_finish(&d);
        cr_assert_eq(rc, RT_JSON_ESYNTAX, "f64 accepted %s", bad[i]);
    }
    static const char *good[] = { "0", "-0", "1", "-1", "0.5", "-0.5", "1e5", "1E5", "1e+5", "1e-5",
                                  "1.25e-3", "123456789", "0e0", "-0.0e-0" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        size_t n = strlen(good[i]);
        cr_assert_eq(validate_n(good[i], n, 0, NULL), 0, "validate rejected %s", good[i]);
        cr_assert_eq(walk_n(good[i], n, 0, NULL), 0, "walk rejected %s", good[i]);
    }
    size_t ep;
    validate_n("01", 2, 0, &ep);
    cr_assert_eq(ep, 1);
    validate_n("[-01]", 5, 0, &ep);
    cr_assert_eq(ep, 3);
    validate_n("1.}", 3, 0, &ep);
    cr_assert_eq(ep, 2);
}

Test(json, i64_limits)
{
    static const struct {
        const char *doc;
        int64_t v;
    } ok[] = {
        { "0", 0 },
        { "-0", 0 },
        { "123", 123 },
        { " -42 ", -42 },
        { "9223372036854775807", INT64_MAX },
        { "-9223372036854775808", INT64_MIN },
        { "-9223372036854775807", -INT64_MAX },
        /* around the 18-digit fast path */
        { "999999999999999999", INT64_C(999999999999999999) },
        { "-999999999999999999", -INT64_C(999999999999999999) },
        { "1000000000000000000", INT64_C(1000000000000000000) },
        { "4200", 4200 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        rt_json_dec d = dec_n(ok[i].doc, strlen(ok[i].doc), 0);
        int64_t v = 7;
        cr_assert_eq(rt_json_i64(&d, &v), 0, "%s", ok[i].doc);
        cr_assert_eq(v, ok[i].v, "%s", ok[i].doc);
        cr_assert_eq(rt_json_finish(&d), 0);
    }
}

Test(json, i64_range_errors_consume)
{
    static const char *cases[] = {
        "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "99999999999999999999999999999", "1.0", "1e2", "-1E-2", "0.5", "1E400", "-0.0",
        "12.5", "42e0", "-7E1", "999999999999999999.0",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        rt_json_dec d = dec_n(cases[i], n, 0);
        int64_t v = 7;
        cr_assert_eq(rt_json_i64(&d, &v), RT_JSON_ERANGE, "%s", cases[i]);
        cr_assert_eq(v, 7, "out untouched on error");
        cr_assert_eq(d.pos, n, "%s: value consumed", cases[i]);
        cr_assert_eq(d.failed, 0, "ERANGE does not poison");
        cr_assert_eq(rt_json_finish(&d), 0);
    }
    /* decoding goes on after a range error */
    rt_json_dec d = DEC("[9223372036854775808, 5, 1.5, 6]");
    int64_t v;
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), RT_JSON_ERANGE);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(v, 5);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), RT_JSON_ERANGE);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(v, 6);
    cr_assert_eq(rt_json_arr_next(&d), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
}

Test(json, f64_values)
{
    static const struct {
        const char *doc;
        double v;
    } ok[] = {
        { "0", 0.0 },
        { "1.5", 1.5 },
        { "-2.25e2", -225.0 },
        { "0.1", 0.1 },
        { "1e308", 1e308 },
        { "-1e308", -1e308 },
        { "1.7976931348623157e308", 1.7976931348623157e308 },
        { "2.2250738585072014e-308", 2.2250738585072014e-308 },
        { "5e-324", 5e-324 },
        { "1e-400", 0.0 }, /* underflow reads as zero */
        { "123456789012345678901234567890", 1.2345678901234568e29 },
        { "9007199254740993", 9007199254740992.0 }, /* ties to even */
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        rt_json_dec d = dec_n(ok[i].doc, strlen(ok[i].doc), 0);
        double v = -1;
        cr_assert_eq(rt_json_f64(&d, &v), 0, "%s", ok[i].doc);
        cr_assert_eq(v, ok[i].v, "%s -> %.17g", ok[i].doc, v);
    }
    rt_json_dec d = DEC("-0.0");
    double v;
    cr_assert_eq(rt_json_f64(&d, &v), 0);
    cr_assert(v == 0 && signbit(v), "-0.0 keeps its sign");
    static const char *range[] = { "1e309", "-1e400", "1e99999999999999999999" };
    for (size_t i = 0; i < sizeof range / sizeof range[0]; i++) {
        size_t n = strlen(range[i]);
        d = dec_n(range[i], n, 0);
        cr_assert_eq(rt_json_f64(&d, &v), RT_JSON_ERANGE, "%s", range[i]);
        cr_assert_eq(d.pos, n);
        cr_assert_eq(rt_json_finish(&d), 0);
    }
    /* a number followed by something strtod would read on: bounded copy */
    d = DEC("[0,1]");
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_f64(&d, &v), 0);
    cr_assert_eq(v, 0.0);
    d = DEC("0x10");
    cr_assert_eq(rt_json_f64(&d, &v), 0);
    cr_assert_eq(v, 0.0, "must not read hex");
    cr_assert_eq(rt_json_finish(&d), RT_JSON_ESYNTAX);
}

/* 2^-1075 written out: exactly half of the smallest subnormal, so it rounds
 * to 0 (ties to even), and any non-zero digit after it rounds up. */
static char *half_min_subnormal(size_t *len)
{
    unsigned char dig[800];
    size_t nd = 1;
    dig[0] = 1; /* little-endian decimal digits of 5^1075 */
    for (int k = 0; k < 1075; k++) {
        unsigned carry = 0;
        for (size_t i = 0; i < nd; i++) {
            unsigned x = dig[i] * 5u + carry;
            dig[i] = (unsigned char)(x % 10);
            carry = x / 10;
        }
        while (carry) {
            dig[nd++] = (unsigned char)(carry % 10);
            carry /= 10;
        }
    }
    char *s = malloc(2 + 1075 + 1);
    cr_assert_not_null(s);
    size_t o = 0;
    s[o++] = '0';
    s[o++] = '.';
    for (size_t i = 0; i < 1075 - nd; i++)
        s[o++] = '0';
    for (size_t i = nd; i-- > 0;)
        s[o++] = (char)('0' + dig[i]);
    s[o] = 0;
    *len = o;
    return s;
}

static double f64_of(const char *s, size_t n, int *rc)
{
    rt_json_dec d = dec_n(s, n, 0);
    double v = -1;
    *rc = rt_json_f64(&d, &v);
    if (!*rc)
        *rc = rt_json_finish(&d);
    return v;
}

Test(json, f64_long_tokens)
{
    size_t n;
    char *half = half_min_subnormal(&n);
    int rc;
    cr_assert_eq(n, 1077);
    double v = f64_of(half, n, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v, 0.0, "exact half rounds to even (0), got %g", v);

    char *buf = malloc(n + 200);
    cr_assert_not_null(buf);
    memcpy(buf, half, n);
    /* trailing zeros past the kept digits do not make it sticky */
    memset(buf + n, '0', 100);
    v = f64_of(buf, n + 100, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v, 0.0);
    /* but a non-zero digit far past them does */
    buf[n + 100] = '1';
    v = f64_of(buf, n + 101, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v, 5e-324, "sticky digit must round up, got %g", v);
    /* and right after the exact digits too */
    memcpy(buf, half, n);
    buf[n] = '1';
    v = f64_of(buf, n + 1, &rc);
    cr_assert_eq(v, 5e-324);
    free(buf);
    free(half);

    /* 1 followed by 300 zeros, a point and 500 zeros: 1e300 */
    char big[900];
    size_t o = 0;
    big[o++] = '1';
    memset(big + o, '0', 300);
    o += 300;
    big[o++] = '.';
    memset(big + o, '0', 500);
    o += 500;
    v = f64_of(big, o, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v, 1e300);
    /* 0.(700 zeros)1e705 = 1e4 */
    o = 0;
    big[o++] = '-';
    big[o++] = '0';
    big[o++] = '.';
    memset(big + o, '0', 700);
    o += 700;
    memcpy(big + o, "1e705", 5);
    o += 5;
    v = f64_of(big, o, &rc);
    cr_assert_eq(rc, 0);
    cr_assert_eq(v, -1e4);
    /* 1 and 799 zeros: overflow */
    memset(big, '0', 800);
    big[0] = '1';
    v = f64_of(big, 800, &rc);
    cr_assert_eq(rc, RT_JSON_ERANGE);
}

/* Long random numbers against glibc's correctly rounded strtod on a
 * NUL-terminated copy. */
Test(json, f64_long_tokens_match_strtod)
{
    srand(12345);
    static char num[4200];
    int long_cases = 0;
    for (int iter = 0; iter < 400; iter++) {
        size_t o = 0;
        if (rand() & 1)
            num[o++] = '-';
        size_t intlen = (size_t)(rand() % 3 == 0 ? 1 : 1 + rand() % 400);
        if (intlen == 1 && rand() % 2) {
            num[o++] = '0';
        } else {
            num[o++] = (char)('1' + rand() % 9);
            for (size_t i = 1; i < intlen; i++)
                num[o++] = (char)('0' + (rand() % 4 == 0 ? rand() % 10 : (iter % 3 ? 0 : 9)));
        }
        if (rand() % 4) {
            num[o++] = '.';
            size_t fl = 1 + (size_t)(rand() % 1500);
            for (size_t i = 0; i < fl; i++)
                num[o++] = (char)('0' + (rand() % 5 == 0 ? rand() % 10 : (iter % 2 ? 0 : 9)));
        }
        if (rand() % 2) {
            o += (size_t)sprintf(num + o, "e%d", rand() % 1400 - 700);
        }
        num[o] = 0;
        if (o <= 511)
            continue;
        long_cases++;
        double want = strtod(num, NULL);
        int rc;
        double got = f64_of(num, o, &rc);
        if (isinf(want) ? rc != RT_JSON_ERANGE : (rc != 0 || memcmp(&got, &want, sizeof got) != 0))
            cr_assert_fail("iter %d: rc %d, %.17g != %.17g (len %zu)", iter, rc, got, want, o);
        test_free_copies();
    }
    cr_assert_gt(long_cases, 200, "too few long tokens generated");
}

/* ================================================================ literals, types */

Test(json, literals)
{
    bool b = false;
    rt_json_dec d = DEC("true");
    cr_assert_eq(rt_json_bool(&d, &b), 0);
    cr_assert(b);
    d = DEC(" false ");
    cr_assert_eq(rt_json_bool(&d, &b), 0);
    cr_assert(!b);
    cr_assert_eq(rt_json_finish(&d), 0);
    d = DEC("null");
    cr_assert_eq(rt_json_null(&d), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
    static const char *bad[] = { "tru", "nul", "fals", "t", "trUe", "nulL", "f" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        d = dec_n(bad[i], n, 0);
        int rc = bad[i][0] == 'n' ? rt_json_null(&d) : rt_json_bool(&d, &b);
        cr_assert_eq(rc, RT_JSON_ESYNTAX, "%s", bad[i]);
        cr_assert_neq(validate_n(bad[i], n, 0, NULL), 0);
    }
    cr_assert_neq(validate_n("True", 4, 0, NULL), 0);
    cr_assert_neq(validate_n("truex", 5, 0, NULL), 0);
    d = DEC("[truefalse]");
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_bool(&d, &b), 0);
    cr_assert_eq(rt_json_arr_next(&d), RT_JSON_ESYNTAX);
}

Test(json, etype_does_not_consume)
{
    rt_json_dec d = DEC("  \"x\"");
    int64_t i;
    double f;
    bool b;
    rt_str s;
    rt_str k;
    cr_assert_eq(rt_json_i64(&d, &i), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_f64(&d, &f), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_bool(&d, &b), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_null(&d), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_obj_begin(&d), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_arr_begin(&d), RT_JSON_ETYPE);
    cr_assert_eq(d.failed, 0);
    cr_assert_eq(d.pos, 2, "only whitespace consumed");
    cr_assert_eq(rt_json_str(&d, &s), 0);
    cr_assert(STR_IS(s, "x"));

    d = DEC("{\"n\":12,\"o\":{\"p\":1},\"a\":[1],\"t\":true,\"z\":null}");
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_bool(&d, &b), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_i64(&d, &i), 0);
    cr_assert_eq(i, 12);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_arr_begin(&d), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_i64(&d, &i), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_skip(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_obj_begin(&d), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_skip(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_null(&d), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_bool(&d, &b), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_bool(&d, &b), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_f64(&d, &f), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_null(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 0);
    cr_assert_eq(rt_json_finish(&d), 0);

    /* ETYPE judges by the first byte; a malformed value is found by skip */
    d = DEC("tru");
    cr_assert_eq(rt_json_i64(&d, &i), RT_JSON_ETYPE);
    cr_assert_eq(rt_json_skip(&d), RT_JSON_ESYNTAX);
    /* a byte that starts no value is a syntax error, not a type error */
    d = DEC("]");
    cr_assert_eq(rt_json_i64(&d, &i), RT_JSON_ESYNTAX);
    d = DEC("");
    cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX);
    cr_assert_eq(d.err_pos, 0);
}

Test(json, peek)
{
    static const struct {
        const char *doc;
        rt_json_type t;
    } cases[] = {
        { " {", RT_JSON_OBJECT }, { "[", RT_JSON_ARRAY }, { "\"", RT_JSON_STRING },
        { "-1", RT_JSON_NUMBER }, { "7", RT_JSON_NUMBER }, { "true", RT_JSON_BOOL },
        { "f", RT_JSON_BOOL },    { "null", RT_JSON_NULL }, { "", RT_JSON_NONE },
        { "   ", RT_JSON_NONE },  { ",", RT_JSON_NONE },    { "}", RT_JSON_NONE },
        { "+1", RT_JSON_NONE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        rt_json_dec d = dec_n(cases[i].doc, strlen(cases[i].doc), 0);
        cr_assert_eq(rt_json_peek(&d), cases[i].t, "%s", cases[i].doc);
        cr_assert_eq(d.failed, 0, "peek never fails");
    }
}

/* ================================================================ poisoning, depth */

Test(json, poisoned_after_syntax_error)
{
    rt_json_dec d = DEC("[1 2] {\"a\":\"b\"}");
    int64_t v;
    rt_str s;
    bool b;
    double f;
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(rt_json_arr_next(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(d.err_pos, 3);
    cr_assert_not_null(d.err);
    const char *msg = d.err;
    cr_assert_eq(rt_json_arr_next(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_i64(&d, &v), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_f64(&d, &f), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_bool(&d, &b), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_null(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_obj_begin(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_obj_next(&d, &s), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_arr_begin(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_skip(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_finish(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(rt_json_peek(&d), RT_JSON_NONE);
    cr_assert_eq(d.err_pos, 3, "first error is kept");
    cr_assert_eq(d.err, msg);
}

Test(json, depth_limit)
{
    cr_assert_eq(walk_n("[[[1]]]", 7, 3, NULL), 0);
    cr_assert_eq(walk_n("[[[[1]]]]", 9, 3, NULL), RT_JSON_EDEPTH);
    cr_assert_eq(validate_n("[[[1]]]", 7, 3, NULL), 0);
    size_t ep;
    cr_assert_eq(validate_n("[[[[1]]]]", 9, 3, &ep), RT_JSON_EDEPTH);
    cr_assert_eq(ep, 3);
    /* objects count too */
    static const char mixed[] = "{\"a\":[{\"b\":1}]}";
    cr_assert_eq(walk_n(mixed, sizeof mixed - 1, 3, NULL), 0);
    cr_assert_eq(walk_n(mixed, sizeof mixed - 1, 2, NULL), RT_JSON_EDEPTH);
    /* siblings do not add up */
    static const char sib[] = "[[1],[2],{\"a\":[]},[[]]]";
    cr_assert_eq(walk_n(sib, sizeof sib - 1, 3, NULL), 0);

    /* pull API: the fourth begin fails and poisons */
    rt_json_dec d = DECD("[[[[1]]]]", 3);
    int64_t v;
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_arr_begin(&d), RT_JSON_EDEPTH);
    cr_assert_eq(d.err_pos, 3);
    cr_assert_eq(rt_json_i64(&d, &v), RT_JSON_EDEPTH);
    cr_assert_eq(rt_json_skip(&d), RT_JSON_EDEPTH);
    cr_assert_eq(rt_json_finish(&d), RT_JSON_EDEPTH);

    /* skip inside a pulled container counts the outer level */
    d = DECD("{\"x\":[[1]]}", 2);
    rt_str k;
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_skip(&d), RT_JSON_EDEPTH);

    /* deep input is refused without deep recursion */
    size_t n = 200000;
    char *deep = malloc(n);
    cr_assert_not_null(deep);
    memset(deep, '[', n);
    cr_assert_eq(rt_json_validate(deep, n, 0, NULL, NULL), RT_JSON_EDEPTH);
    cr_assert_eq(rt_json_validate(deep, n, 100000, NULL, NULL), RT_JSON_EDEPTH);
    free(deep);
    /* max_depth 0 means the default */
    char def[2 * RT_JSON_DEFAULT_DEPTH + 2];
    memset(def, '[', RT_JSON_DEFAULT_DEPTH);
    memset(def + RT_JSON_DEFAULT_DEPTH, ']', RT_JSON_DEFAULT_DEPTH);
    cr_assert_eq(rt_json_validate(def, 2 * RT_JSON_DEFAULT_DEPTH, 0, NULL, NULL), 0);
    memset(def, '[', RT_JSON_DEFAULT_DEPTH + 1);
    memset(def + RT_JSON_DEFAULT_DEPTH + 1, ']', RT_JSON_DEFAULT_DEPTH + 1);
    cr_assert_eq(rt_json_validate(def, 2 * RT_JSON_DEFAULT_DEPTH + 2, 0, NULL, NULL), RT_JSON_EDEPTH);
}

/* ================================================================ skip, finish, validate */

Test(json, skip_unknown_members)
{
    rt_json_dec d = DEC("{\"unknown\":{\"x\":[1,{\"y\":\"\\u00e9\"}],\"z\":null,\"w\":-1.5e3},\"id\":7,\"s\":\"a\\nb\"}");
    rt_str k;
    int64_t v;
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "unknown"));
    cr_assert_eq(rt_json_skip(&d), 0);
    cr_assert_eq(d.depth, 1);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert(STR_IS(k, "id"));
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(v, 7);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    size_t at = d.pos;
    cr_assert_eq(rt_json_skip(&d), 0);
    /* skip unescapes in place too */
    cr_assert_eq(memcmp(d.buf + at + 1, "a\nb", 3), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
}

Test(json, skip_checks_syntax)
{
    static const char *bad[] = {
        "{\"a\":[1,]}", "{\"a\":{\"b\":1,}}", "[{\"a\" 1}]", "[1}", "{\"a\":1]", "[\"\\x\"]",
        "{\"\\ud800\":1}", "[01]", "[tru]", "{\"a\"::1}", "[[]", "[]]", "{}}", "{\"a\":1}x",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        size_t e1, e2;
        cr_assert_neq(walk_n(bad[i], n, 0, &e1), 0, "walk accepted %s", bad[i]);
        cr_assert_neq(validate_n(bad[i], n, 0, &e2), 0, "validate accepted %s", bad[i]);
        cr_assert_eq(e1, e2, "%s: decoder and validator disagree on the position", bad[i]);
    }
}

Test(json, finish)
{
    rt_json_dec d = DEC("1 \r\n\t");
    int64_t v;
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(rt_json_finish(&d), 0);
    d = DEC("1 x");
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(rt_json_finish(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(d.err_pos, 2);
    d = DEC("{} {}");
    cr_assert_eq(rt_json_skip(&d), 0);
    cr_assert_eq(rt_json_finish(&d), RT_JSON_ESYNTAX);
    cr_assert_eq(d.err_pos, 3);
    /* an unclosed container is not a finished document */
    d = DEC("[1");
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(rt_json_finish(&d), RT_JSON_ESYNTAX);
    /* form feed is not JSON whitespace */
    d = DEC("1\f");
    cr_assert_eq(rt_json_i64(&d, &v), 0);
    cr_assert_eq(rt_json_finish(&d), RT_JSON_ESYNTAX);
    cr_assert_neq(validate_n("", 0, 0, NULL), 0, "empty document");
    cr_assert_neq(validate_n(" ", 1, 0, NULL), 0);
    cr_assert_eq(rt_json_validate(NULL, 0, 0, NULL, NULL), RT_JSON_ESYNTAX);
}

Test(json, validate_does_not_write)
{
    static const char doc[] = "{\"k\\u00e9y\":[\"a\\n\\\"b\\ud83d\\ude00\",1.5,true,null,{\"x\":\"\\/\"}]}";
    size_t n = sizeof doc - 1;
    char *b = test_copy(doc, n);
    size_t ep = 99;
    const char *err = "unchanged";
    cr_assert_eq(rt_json_validate(b, n, 0, &ep, &err), 0);
    cr_assert_eq(memcmp(b, doc, n), 0);
    cr_assert_eq(ep, 99, "outputs untouched on success");
    cr_assert_str_eq(err, "unchanged");
    /* outputs are optional */
    cr_assert_eq(rt_json_validate(b, 3, 0, NULL, NULL), RT_JSON_ESYNTAX);
    /* read-only memory proves it: a write would fault */
    long pg = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(m, MAP_FAILED);
    memcpy(m, doc, n);
    cr_assert_eq(mprotect(m, (size_t)pg, PROT_READ), 0);
    cr_assert_eq(rt_json_validate(m, n, 0, NULL, NULL), 0);
    munmap(m, (size_t)pg);
}

/* ================================================================ encoder */

static rt_buf enc_buf(void)
{
    rt_buf b;
    rt_buf_init(&b);
    return b;
}

Test(json, put_str_control_bytes)
{
    for (int c = 0; c < 0x20; c++) {
        rt_buf b = enc_buf();
        char in = (char)c;
        rt_json_put_str(&b, &in, 1);
        char want[16];
        switch (c) {
        case '\b': strcpy(want, "\"\\b\""); break;
        case '\t': strcpy(want, "\"\\t\""); break;
        case '\n': strcpy(want, "\"\\n\""); break;
        case '\f': strcpy(want, "\"\\f\""); break;
        case '\r': strcpy(want, "\"\\r\""); break;
        default: snprintf(want, sizeof want, "\"\\u%04x\"", c); break;
        }
        cr_assert(!b.oom);
        cr_assert_eq(b.len, strlen(want), "byte 0x%02x", c);
        cr_assert_eq(memcmp(b.data, want, b.len), 0, "byte 0x%02x: %.*s", c, (int)b.len, b.data);
        rt_buf_free(&b);
    }
    rt_buf b = enc_buf();
    rt_json_put_str(&b, "a\"b\\c/d\x7f\xc3\xa9", 10);
    cr_assert_eq(b.len, 14);
    cr_assert_eq(memcmp(b.data, "\"a\\\"b\\\\c/d\x7f\xc3\xa9\"", 14), 0);
    rt_buf_reset(&b);
    rt_json_put_str(&b, NULL, 0);
    cr_assert_eq(b.len, 2);
    cr_assert_eq(memcmp(b.data, "\"\"", 2), 0);
    rt_buf_reset(&b);
    rt_json_put_rtstr(&b, RT_STR("x\0y"));
    cr_assert_eq(b.len, 10);
    cr_assert_eq(memcmp(b.data, "\"x\\u0000y\"", 10), 0);
    rt_buf_free(&b);
}

Test(json, put_str_round_trip)
{
    static const char *units[] = { "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf", "\xef\xbf\xbf" };
    srand(777);
    char in[600];
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 0, target = (size_t)(rand() % 500);
        while (n < target) {
            int r = rand() % 10;
            if (r < 6) {
                in[n++] = (char)(rand() % 128);
            } else if (r < 7) {
                in[n++] = "\"\\/"[rand() % 3];
            } else {
                const char *u = units[rand() % 5];
                size_t ul = strlen(u);
                memcpy(in + n, u, ul);
                n += ul;
            }
        }
        rt_buf b = enc_buf();
        rt_json_put_str(&b, in, n);
        if (b.oom || validate_n(b.data, b.len, 0, NULL) != 0)
            cr_assert_fail("iter %d: encoder produced invalid JSON", iter);
        rt_json_dec d = dec_n(b.data, b.len, 0);
        rt_str s;
        if (rt_json_str(&d, &s) != 0 || rt_json_finish(&d) != 0 || !str_is(s, in, n))
            cr_assert_fail("iter %d: round trip differs", iter);
        rt_buf_free(&b);
        test_free_copies(); /* the copies of this iteration */
    }
}

Test(json, put_scalars)
{
    rt_buf b = enc_buf();
    rt_json_put_i64(&b, INT64_MIN);
    rt_buf_putc(&b, ',');
    rt_json_put_i64(&b, INT64_MAX);
    rt_buf_putc(&b, ',');
    rt_json_put_bool(&b, true);
    rt_buf_putc(&b, ',');
    rt_json_put_bool(&b, false);
    rt_buf_putc(&b, ',');
    rt_json_put_null(&b);
    rt_buf_putc(&b, 0);
    cr_assert_str_eq(b.data, "-9223372036854775808,9223372036854775807,true,false,null");
    rt_buf_free(&b);
}

static const char *f64_text(rt_buf *b, double v)
{
    rt_buf_reset(b);
    rt_json_put_f64(b, v);
    rt_buf_putc(b, 0);
    return b->data;
}

Test(json, put_f64)
{
    rt_buf b = enc_buf();
    cr_assert_str_eq(f64_text(&b, 0.1), "0.1");
    cr_assert_str_eq(f64_text(&b, 1.5), "1.5");
    cr_assert_str_eq(f64_text(&b, 100), "100");
    cr_assert_str_eq(f64_text(&b, -0.0), "-0");
    cr_assert_str_eq(f64_text(&b, 0.1 + 0.2), "0.30000000000000004");
    cr_assert_str_eq(f64_text(&b, 1e300), "1e+300");
    cr_assert_str_eq(f64_text(&b, 5e-324), "4.94065645841247e-324"); /* 15 digits suffice */
    cr_assert_str_eq(f64_text(&b, NAN), "null");
    cr_assert_str_eq(f64_text(&b, INFINITY), "null");
    cr_assert_str_eq(f64_text(&b, -INFINITY), "null");
    rt_buf_free(&b);
}

Test(json, put_f64_round_trip)
{
    rt_buf b = enc_buf();
    srand(4242);
    for (int iter = 0; iter < 20000; iter++) {
        uint64_t bits = 0;
        for (int k = 0; k < 4; k++)
            bits = (bits << 16) ^ (uint64_t)(rand() & 0xFFFF);
        double v;
        memcpy(&v, &bits, sizeof v);
        if (!isfinite(v))
            continue;
        rt_buf_reset(&b);
        rt_json_put_f64(&b, v);
        if (rt_json_validate(b.data, b.len, 0, NULL, NULL) != 0 || b.len > 24)
            cr_assert_fail("not a JSON number: %.*s", (int)b.len, b.data);
        rt_json_dec d;
        rt_json_dec_init(&d, b.data, b.len, 0);
        double back = 0;
        if (rt_json_f64(&d, &back) != 0 || memcmp(&back, &v, sizeof v) != 0)
            cr_assert_fail("%.*s does not round-trip", (int)b.len, b.data);
    }
    rt_buf_free(&b);
}

/* ================================================================ time */

static const char *time_text(int64_t us)
{
    static char out[28];
    rt_time_format(us, out);
    out[27] = 0;
    return out;
}

Test(json, time_format)
{
    cr_assert_str_eq(time_text(0), "1970-01-01T00:00:00.000000Z");
    cr_assert_str_eq(time_text(1), "1970-01-01T00:00:00.000001Z");
    cr_assert_str_eq(time_text(-1), "1969-12-31T23:59:59.999999Z");
    cr_assert_str_eq(time_text(-1000000), "1969-12-31T23:59:59.000000Z");
    cr_assert_str_eq(time_text(-1000001), "1969-12-31T23:59:58.999999Z");
    cr_assert_str_eq(time_text(INT64_C(951782400) * 1000000), "2000-02-29T00:00:00.000000Z");
    cr_assert_str_eq(time_text(INT64_C(1709164800) * 1000000 + 123456), "2024-02-29T00:00:00.123456Z");
    cr_assert_str_eq(time_text(INT64_C(1795428000) * 1000000), "2026-11-23T10:00:00.000000Z");
    cr_assert_str_eq(time_text(INT64_C(-2208988800) * 1000000), "1900-01-01T00:00:00.000000Z");
    cr_assert_str_eq(time_text(INT64_C(-62135596800) * 1000000), "0001-01-01T00:00:00.000000Z");
    cr_assert_str_eq(time_text(INT64_C(253402300799) * 1000000 + 999999), "9999-12-31T23:59:59.999999Z");
    /* clamped to the four-digit years */
    cr_assert_str_eq(time_text(INT64_MIN), "0001-01-01T00:00:00.000000Z");
    cr_assert_str_eq(time_text(INT64_MAX), "9999-12-31T23:59:59.999999Z");

    rt_buf b = enc_buf();
    rt_json_put_time(&b, 0);
    cr_assert_eq(b.len, 29);
    cr_assert_eq(memcmp(b.data, "\"1970-01-01T00:00:00.000000Z\"", 29), 0);
    rt_buf_free(&b);
}

static int parse_c(const char *s, int64_t *us)
{
    return rt_time_parse((rt_str){ s, strlen(s) }, us);
}

Test(json, time_parse)
{
    static const struct {
        const char *s;
        int64_t us;
    } ok[] = {
        { "1970-01-01T00:00:00Z", 0 },
        { "1970-01-01t00:00:00z", 0 },
        { "1970-01-01T01:00:00+01:00", 0 },
        { "1969-12-31T18:30:00-05:30", 0 },
        { "1970-01-01T00:00:00.5Z", 500000 },
        { "1970-01-01T00:00:00.123456789Z", 123456 },
        { "1970-01-01T00:00:00.000001Z", 1 },
        { "1969-12-31T23:59:59.999999Z", -1 },
        { "2000-02-29T00:00:00Z", INT64_C(951782400) * 1000000 },
        { "2024-02-29T12:00:00+12:00", INT64_C(1709164800) * 1000000 },
        { "1900-03-01T00:00:00Z", INT64_C(-2203891200) * 1000000 },
        { "0001-01-01T00:00:00Z", INT64_C(-62135596800) * 1000000 },
        { "9999-12-31T23:59:59.999999Z", INT64_C(253402300799) * 1000000 + 999999 },
        { "2016-12-31T23:59:60Z", INT64_C(1483228800) * 1000000 }, /* leap second */
        { "2026-11-23T10:00:00.000000Z", INT64_C(1795428000) * 1000000 },
        { "2026-11-23T10:00:00+23:59", (INT64_C(1795428000) - 86340) * 1000000 },
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t us = 42;
        cr_assert_eq(parse_c(ok[i].s, &us), 0, "rejected %s", ok[i].s);
        cr_assert_eq(us, ok[i].us, "%s -> %lld", ok[i].s, (long long)us);
    }
    static const char *bad[] = {
        "", "1970-01-01", "1970-01-01T00:00:00", "1970-01-01 00:00:00Z", "1970-13-01T00:00:00Z",
        "1970-00-01T00:00:00Z", "1970-01-32T00:00:00Z", "1970-01-00T00:00:00Z", "1970-04-31T00:00:00Z",
        "2023-02-29T00:00:00Z", "1900-02-29T00:00:00Z", "2100-02-29T00:00:00Z", "1970-01-01T24:00:00Z",
        "1970-01-01T00:60:00Z", "1970-01-01T00:00:61Z", "1970-01-01T00:00:00.Z",
        "1970-01-01T00:00:00.1234567890Z", "1970-01-01T00:00:00+24:00", "1970-01-01T00:00:00+01:60",
        "1970-01-01T00:00:00+0100", "1970-01-01T00:00:00+01", "1970-01-01T00:00:00Zx",
        "1970-01-01T00:00:00ZZ", "70-01-01T00:00:00Z", "1970-1-01T00:00:00Z", "1970-01-01T0:00:00Z",
        "197a-01-01T00:00:00Z", "1970/01/01T00:00:00Z", "1970-01-01T00:00:00 Z",
        "+1970-01-01T00:00:00Z", "1970-01-01T00:00:00,5Z", "1970-01-01T00:00:00-00:0a",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t us = 42;
        cr_assert_eq(parse_c(bad[i], &us), -1, "accepted %s", bad[i]);
        cr_assert_eq(us, 42);
    }
    /* a view is bounded by len, not by a NUL */
    int64_t us;
    cr_assert_eq(rt_time_parse((rt_str){ "1970-01-01T00:00:00Zjunk", 20 }, &us), 0);
    cr_assert_eq(rt_time_parse(RT_STR_NULL, &us), -1);
}

/* Every day of 0001..9999 against a calendar walked one day at a time (the
 * formatter and the parser compute dates arithmetically; this walk only
 * counts), at midnight and one microsecond before the next midnight. */
Test(json, time_every_day)
{
    static const int dim[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    int64_t day = INT64_C(-62135596800) / 86400; /* 0001-01-01 */
    for (int y = 1; y <= 9999; y++) {
        bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        for (int m = 1; m <= 12; m++) {
            int days = dim[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= days; d++, day++) {
                char want[64], got[27];
                int64_t us = day * 86400 * 1000000, back = 0;
                snprintf(want, sizeof want, "%04d-%02d-%02dT00:00:00.000000Z", y, m, d);
                rt_time_format(us, got);
                if (memcmp(got, want, 27) != 0)
                    cr_assert_fail("day %lld: %.27s, want %s", (long long)day, got, want);
                if (rt_time_parse((rt_str){ want, 27 }, &back) != 0 || back != us)
                    cr_assert_fail("%s -> %lld, want %lld", want, (long long)back, (long long)us);
                snprintf(want, sizeof want, "%04d-%02d-%02dT23:59:59.999999Z", y, m, d);
                rt_time_format(us + INT64_C(86400) * 1000000 - 1, got);
                if (memcmp(got, want, 27) != 0)
                    cr_assert_fail("day %lld end: %.27s, want %s", (long long)day, got, want);
            }
        }
    }
    cr_assert_eq(day, INT64_C(253402300800) / 86400); /* the day after 9999-12-31 */
    /* year 0000 parses (RFC 3339 allows it) though the encoder clamps to 0001 */
    int64_t us;
    cr_assert_eq(parse_c("0000-03-01T00:00:00Z", &us), 0);
    cr_assert_eq(us, INT64_C(-62162035200) * 1000000);
    cr_assert_eq(parse_c("0000-02-29T00:00:00Z", &us), 0); /* 0 is a leap year */
    cr_assert_eq(us, INT64_C(-62162121600) * 1000000);
    cr_assert_eq(parse_c("0000-01-01T00:00:00Z", &us), 0);
    cr_assert_eq(us, INT64_C(-62167219200) * 1000000);
    /* fraction lengths 1..9 each floor to microseconds */
    cr_assert_eq(parse_c("1970-01-01T00:00:00.123456999Z", &us), 0);
    cr_assert_eq(us, 123456);
    cr_assert_eq(parse_c("1970-01-01T00:00:00.12345Z", &us), 0);
    cr_assert_eq(us, 123450);
    cr_assert_eq(parse_c("1969-12-31T23:59:59.9999999Z", &us), 0);
    cr_assert_eq(us, -1);
}

Test(json, time_round_trip)
{
    srand(99);
    const int64_t lo = INT64_C(-62135596800) * 1000000, hi = INT64_C(253402300799) * 1000000 + 999999;
    for (int iter = 0; iter < 200000; iter++) {
        uint64_t r = ((uint64_t)rand() << 31) ^ (uint64_t)rand();
        r = (r << 31) ^ (uint64_t)rand();
        int64_t us = lo + (int64_t)(r % (uint64_t)(hi - lo + 1));
        if (iter < 2000)
            us = (int64_t)(iter - 1000) * 86400 * 1000000 + iter; /* around the epoch */
        char out[27];
        rt_time_format(us, out);
        int64_t back = 0;
        if (rt_time_parse((rt_str){ out, 27 }, &back) != 0 || back != us)
            cr_assert_fail("%lld -> %.27s -> %lld", (long long)us, out, (long long)back);
    }
}

/* ================================================================ JSONTestSuite */

/* The shared test data sits beside the checkout; tests run from its root. */
static const char *suite_dir(void)
{
    const char *d = getenv("JSONTESTSUITE_DIR");
    return d && *d ? d : "../shared/testdata/JSONTestSuite/test_parsing";
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *b = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            char *nb = realloc(b, cap);
            if (!nb) {
                free(b);
                fclose(f);
                return NULL;
            }
            b = nb;
        }
        size_t k = fread(b + n, 1, cap - n, f);
        n += k;
        if (k == 0)
            break;
    }
    fclose(f);
    /* exact-length block so ASan sees any read past the end */
    char *exact = malloc(n ? n : 1);
    if (exact && n)
        memcpy(exact, b, n);
    free(b);
    *len = n;
    return exact;
}

Test(json, jsontestsuite_corpus)
{
    const char *dir = suite_dir();
    DIR *dd = opendir(dir);
    cr_assert_not_null(dd, "cannot open %s (set JSONTESTSUITE_DIR)", dir);
    unsigned ny = 0, nn = 0, ni = 0, failures = 0;
    struct dirent *e;
    while ((e = readdir(dd))) {
        const char *name = e->d_name;
        size_t nl = strlen(name);
        if (nl < 7 || name[1] != '_' || strcmp(name + nl - 5, ".json") != 0)
            continue;
        char kind = name[0];
        if (kind != 'y' && kind != 'n' && kind != 'i')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        size_t len;
        char *doc = read_file(path, &len);
        cr_assert_not_null(doc, "cannot read %s", path);

        size_t vpos = 0;
        const char *verr = NULL;
        int v = rt_json_validate(doc, len, RT_JSON_DEFAULT_DEPTH, &vpos, &verr);

        char *work = malloc(len ? len : 1);
        cr_assert_not_null(work);
        if (len)
            memcpy(work, doc, len);
        rt_json_dec d;
        rt_json_dec_init(&d, work, len, RT_JSON_DEFAULT_DEPTH);
        int w = rt_json_skip(&d);
        if (!w)
            w = rt_json_finish(&d);

        if (kind == 'y') {
            ny++;
            cr_expect_eq(v, 0, "%s: validate rejected a valid document (%s at %zu)", name, verr, vpos);
            cr_expect_eq(w, 0, "%s: decode rejected a valid document (%s at %zu)", name, d.err, d.err_pos);
            failures += v != 0 || w != 0;
        } else if (kind == 'n') {
            nn++;
            cr_expect_neq(v, 0, "%s: validate accepted an invalid document", name);
            cr_expect_neq(w, 0, "%s: decode accepted an invalid document", name);
            failures += v == 0 || w == 0;
        } else {
            ni++;
            /* either answer, but the two must agree */
            cr_expect_eq(v == 0, w == 0, "%s: validate %d vs decode %d", name, v, w);
        }
        free(work);
        free(doc);
    }
    closedir(dd);
    cr_assert_gt(ny + nn + ni, 0, "no test files in %s", dir);
    cr_assert_gt(ny, 0, "no y_ files in %s", dir);
    cr_assert_gt(nn, 0, "no n_ files in %s", dir);
    cr_log_info("JSONTestSuite: %u y, %u n, %u i files, %u failures", ny, nn, ni, failures);
}

/* ================================================================ guard page */

/* Each document is placed so its last byte is the last byte before a
 * PROT_NONE page: one byte of look-ahead too many and the test dies. */
static char *guard_region;
static long guard_pg;

static void guard_setup(void)
{
    guard_pg = sysconf(_SC_PAGESIZE);
    guard_region = mmap(NULL, 2 * (size_t)guard_pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(guard_region, MAP_FAILED);
    cr_assert_eq(mprotect(guard_region + guard_pg, (size_t)guard_pg, PROT_NONE), 0);
}

static void guard_teardown(void)
{
    munmap(guard_region, 2 * (size_t)guard_pg);
}

static char *at_edge(const char *doc, size_t n)
{
    char *p = guard_region + guard_pg - n;
    memcpy(p, doc, n);
    return p;
}

Test(json_guard, documents_at_page_end, .init = guard_setup, .fini = guard_teardown)
{
    static const struct {
        const char *doc;
        bool valid;
    } cases[] = {
        { "12", true }, { "-0.5e3", true }, { "0", true }, { "true", true }, { "false", true },
        { "null", true }, { "\"x\"", true }, { "\"\\u00e9\"", true }, { "{\"a\":1}", true },
        { "[1,2]", true }, { "\"aaaaaaaaaaaaaaaaaaaaaaa\"", true }, { "\"\xe2\x82\xac\"", true },
        { "[\"\\ud83d\\ude00\"]  ", true }, { "{}", true }, { "[]", true },
        { "{\"a\":\"x", false }, { "tru", false }, { "\"\\u12", false }, { "\"\\ud800", false },
        { "\"\\ud800\\u", false }, { "\"\\ud800\\udc0", false }, { "\"\\ud800\\", false },
        { "-", false }, { "1.", false }, { "1e", false }, { "1e+", false }, { "[1,", false },
        { "{\"a\"", false }, { "{\"a\":", false }, { "\"ab\\", false }, { "\"\xe2\x82", false },
        { "\"\xf0\x9f\x98", false }, { "\"\xc3", false }, { "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false },
        { "[", false }, { "{", false }, { "n", false }, { "fals", false }, { "[1", false },
        { "{\"a\":1", false }, { "\"", false }, { "\"\\", false }, { "{\"a\":1,", false },
        { "[1 ", false }, { "[\"a\\n", false }, { "-0", true }, { "01", false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].doc);
        const char *doc = cases[i].doc;
        int v = rt_json_validate(at_edge(doc, n), n, 0, NULL, NULL);
        rt_json_dec d;
        rt_json_dec_init(&d, at_edge(doc, n), n, 0);
        int w = rt_json_skip(&d);
        if (!w)
            w = rt_json_finish(&d);
        cr_assert_eq(v == 0, cases[i].valid, "validate %s", doc);
        cr_assert_eq(w == 0, cases[i].valid, "decode %s", doc);
    }
}

Test(json_guard, typed_calls_at_page_end, .init = guard_setup, .fini = guard_teardown)
{
    rt_json_dec d;
    int64_t i;
    double f;
    bool b;
    rt_str s, k;
#define AT(lit) rt_json_dec_init(&d, at_edge(lit, sizeof(lit) - 1), sizeof(lit) - 1, 0)
    AT("12");
    cr_assert_eq(rt_json_i64(&d, &i), 0);
    cr_assert_eq(i, 12);
    cr_assert_eq(rt_json_finish(&d), 0);
    AT("9223372036854775808");
    cr_assert_eq(rt_json_i64(&d, &i), RT_JSON_ERANGE);
    AT("-");
    cr_assert_eq(rt_json_i64(&d, &i), RT_JSON_ESYNTAX);
    AT("1.5");
    cr_assert_eq(rt_json_f64(&d, &f), 0);
    cr_assert_eq(f, 1.5);
    AT("1e");
    cr_assert_eq(rt_json_f64(&d, &f), RT_JSON_ESYNTAX);
    AT("true");
    cr_assert_eq(rt_json_bool(&d, &b), 0);
    AT("tru");
    cr_assert_eq(rt_json_bool(&d, &b), RT_JSON_ESYNTAX);
    AT("nul");
    cr_assert_eq(rt_json_null(&d), RT_JSON_ESYNTAX);
    AT("\"abcdefghijklmnopq\"");
    cr_assert_eq(rt_json_str(&d, &s), 0);
    AT("\"abcdefghijklmnopq");
    cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX);
    AT("\"\\u00");
    cr_assert_eq(rt_json_str(&d, &s), RT_JSON_ESYNTAX);
    AT("{\"a\"");
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), RT_JSON_ESYNTAX);
    AT("{\"a\":");
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), RT_JSON_ESYNTAX);
    AT("{\"a\":1,");
    cr_assert_eq(rt_json_obj_begin(&d), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), 1);
    cr_assert_eq(rt_json_i64(&d, &i), 0);
    cr_assert_eq(rt_json_obj_next(&d, &k), RT_JSON_ESYNTAX);
    AT("[1,");
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), 1);
    cr_assert_eq(rt_json_i64(&d, &i), 0);
    cr_assert_eq(rt_json_arr_next(&d), RT_JSON_ESYNTAX);
    AT("[");
    cr_assert_eq(rt_json_arr_begin(&d), 0);
    cr_assert_eq(rt_json_arr_next(&d), RT_JSON_ESYNTAX);
    AT(" ");
    cr_assert_eq(rt_json_peek(&d), RT_JSON_NONE);
    cr_assert_eq(rt_json_finish(&d), 0);
#undef AT
}
