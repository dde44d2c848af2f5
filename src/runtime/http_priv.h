/*
 * http_priv.h - what other runtime files may know of http.c's requests.
 * Not for generated or service code: they see rt_req through http.h only.
 */
#ifndef RT_HTTP_PRIV_H
#define RT_HTTP_PRIV_H

#include "http.h"

struct MHD_Connection;

/* The libmicrohttpd connection a request arrived on, for walking its
 * arguments, headers or cookies; NULL for a request built in-process
 * (tests give api_dispatch an rt_req with priv NULL). */
struct MHD_Connection *rt__req_conn(const rt_req *req);

#endif
