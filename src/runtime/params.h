/*
 * params.h - what generated parameter parsers need beyond rt_req_query and
 * rt_req_header: every occurrence of a query parameter (form style,
 * explode=true: ?id=1&id=2), a cookie by name, and splitting a
 * comma-separated value (explode=false, simple style).
 */
#ifndef RT_PARAMS_H
#define RT_PARAMS_H

#include "http.h"

/* The values of every occurrence of query parameter name, in request order,
 * as an array in req->arena (*out, *n). 0 ok (n may be 0), -1 out of memory. */
int rt_req_query_all(rt_req *req, const char *name, rt_str **out, size_t *n);
/* A cookie by exact name from the Cookie header(s) (RFC 6265: "a=1; b=2");
 * present=false and an empty view when absent. Values are not decoded. */
rt_str rt_req_cookie(const rt_req *req, const char *name, bool *present);
/* s split at commas into an array in the arena: 0 ok, -1 out of memory. An
 * empty s gives no element. */
int rt_split_commas(rt_arena *a, rt_str s, rt_str **out, size_t *n);
/* The same at another separator (' ' for spaceDelimited, '|' for pipeDelimited). */
int rt_split_char(rt_arena *a, rt_str s, char sep, rt_str **out, size_t *n);

/* A matrix-style exploded array after its leading ';': "id=3;id=4" ->
 * ["3", "4"] (in the arena). 0 ok, -1 out of memory, -2 a piece that is not
 * name=... */
int rt_split_matrix(rt_arena *a, rt_str s, const char *name, rt_str **out, size_t *n);

/* One name=value pair of a form body or of an object parameter. */
typedef struct rt_pair {
    rt_str key;
    rt_str value;
} rt_pair;

/* An application/x-www-form-urlencoded body, split at '&' and '=' and
 * percent-decoded in place ('+' is a space). 0 ok, -1 out of memory, -2 a
 * bad %-escape, -3 a key or value that is not UTF-8. The pairs live in the
 * arena, their text in body. */
int rt_form_parse(char *body, size_t len, rt_arena *a, rt_pair **out, size_t *n);
/* Every query parameter as pairs, in request order (in the arena). */
int rt_req_query_pairs(rt_req *req, rt_pair **out, size_t *n);
/* The pairs name[key]=value of a deepObject parameter among all the
 * query's pairs, keys without the brackets (in the arena): 0 or -1. */
int rt_pairs_deep(rt_arena *a, const rt_pair *all, size_t n, const char *name, rt_pair **out,
                  size_t *nout);
/* An object parameter written as a list: explode=false "k,v,k,v", explode=
 * true "k=v,k=v". 0 ok, -1 out of memory, -2 malformed. */
int rt_pairs_from_list(rt_arena *a, rt_str s, bool explode, rt_pair **out, size_t *n);

#endif
