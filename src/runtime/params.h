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

#endif
