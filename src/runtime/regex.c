/*
 * regex.c - PCRE2 behind rt_regex: compile once on first use, match with a
 * per-call match block (small; PCRE2 sizes it from the pattern).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.h"
#include "log.h"

#include <pcre2.h>
#include <stdatomic.h>
#include <stdio.h>

static pcre2_code *compile(rt_regex *re, char *err, size_t errlen)
{
    pcre2_code *code = atomic_load_explicit(&re->code, memory_order_acquire);
    pcre2_code *expected = NULL;
    int ec;
    PCRE2_SIZE off;

    if (code != NULL)
        return code;
    code = pcre2_compile((PCRE2_SPTR)re->src, re->len,
                         PCRE2_UTF | PCRE2_NO_UTF_CHECK | PCRE2_ALT_BSUX | PCRE2_DOLLAR_ENDONLY,
                         &ec, &off, NULL);
    if (code == NULL) {
        if (err != NULL) {
            PCRE2_UCHAR msg[128];

            pcre2_get_error_message(ec, msg, sizeof msg);
            snprintf(err, errlen, "at offset %zu: %s", (size_t)off, (const char *)msg);
        }
        return NULL;
    }
    if (!atomic_compare_exchange_strong_explicit(&re->code, (void **)&expected, code,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        pcre2_code_free(code); /* another thread was first */
        return expected;
    }
    return code;
}

bool rt_regex_compile(rt_regex *re, char *err, size_t errlen)
{
    return compile(re, err, errlen) != NULL;
}

bool rt_regex_match(rt_regex *re, rt_str s)
{
    char err[160];
    pcre2_code *code = compile(re, err, sizeof err);
    pcre2_match_data *md;
    int rc;

    if (code == NULL) {
        if (atomic_exchange(&re->failed, 1) == 0)
            rt_logf(RT_LOG_ERROR, RT_STR_NULL, "pattern %.*s does not compile (%s)",
                    (int)re->len, re->src, err);
        return false;
    }
    md = pcre2_match_data_create_from_pattern(code, NULL);
    if (md == NULL)
        return false;
    /* UTF checked here: parameters need not be valid UTF-8 (an invalid
     * string simply does not match). */
    rc = pcre2_match(code, (PCRE2_SPTR)(s.ptr != NULL ? s.ptr : ""), s.len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_NOMEMORY ||
        rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT)
        rt_logf(RT_LOG_ERROR, RT_STR_NULL, "pattern %.*s: match failed (PCRE2 error %d)",
                (int)re->len, re->src, rc);
    return rc >= 0;
}
