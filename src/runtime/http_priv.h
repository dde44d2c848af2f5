/*
 * http_priv.h - what other runtime files may know of http.c's requests.
 * Not for generated or service code: they see rt_req through http.h only.
 */
#ifndef RT_HTTP_PRIV_H
#define RT_HTTP_PRIV_H

#include "http.h"

/* One query argument, percent-decoded ('+' as space); has_value is false
 * for a bare name ("?flag"), whose value is then "". Return false to stop. */
typedef bool (*rt__arg_fn)(void *cls, rt_str key, rt_str value, bool has_value);

/* Walks the request's query arguments in order; false when fn stopped it.
 * A request built in-process (tests give api_dispatch an rt_req with priv
 * NULL) has none. */
bool rt__req_args(const rt_req *req, rt__arg_fn fn, void *cls);

#endif
