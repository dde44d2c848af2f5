/*
 * regex.h - JSON Schema `pattern` checks with PCRE2 (libpcre2-8).
 *
 * A pattern is an ECMA-262 regular expression matched anywhere in the
 * string (unanchored, as JSON Schema says). Generated code keeps one static
 * rt_regex per pattern; the first match compiles it (once, whatever the
 * number of threads: the loser of a race frees its copy) and the code is
 * shared by every thread from then on. Compiled code is never freed.
 *
 * Options: UTF (input is valid UTF-8, the JSON decoder checked it),
 * ALT_BSUX (\uXXXX, \xXX as in ECMAScript), DOLLAR_ENDONLY ($ is the end,
 * not "before a final newline"), no UCP (\d \w \s are ASCII, as in
 * ECMAScript without the u flag's Unicode sets).
 */
#ifndef RT_REGEX_H
#define RT_REGEX_H

#include "rt.h"

typedef struct rt_regex {
    const char *src; /* the pattern's bytes */
    size_t len;
    void *_Atomic code; /* pcre2_code_8 *, compiled on first use */
    int _Atomic failed; /* the pattern does not compile (logged once) */
} rt_regex;

#define RT_REGEX_INIT(lit) { (lit), sizeof(lit) - 1, NULL, 0 }

/* s matches somewhere. A pattern that does not compile, or a match that
 * fails for lack of memory or by hitting PCRE2's match limit, counts as no
 * match (the value is refused, never let through unchecked); the cause is
 * logged. */
bool rt_regex_match(rt_regex *re, rt_str s);
/* Compile now; false with a message in err when the pattern is invalid. */
bool rt_regex_compile(rt_regex *re, char *err, size_t errlen);

#endif
