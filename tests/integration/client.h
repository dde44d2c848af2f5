/*
 * client.h - a small blocking HTTP client for the integration tests, over
 * libcurl (a real, independent HTTP implementation), plus a JSON-pointer
 * lookup built on the runtime's decoder.
 */
#ifndef TEST_CLIENT_H
#define TEST_CLIENT_H

#include "rt.h"

#include <stddef.h>

typedef struct http_resp {
    long status;
    char *body;     /* NUL-terminated */
    size_t len;
    char *headers;  /* raw header block, NUL-terminated */
    size_t hlen;
} http_resp;

/* Base URL from $API_URL (e.g. http://127.0.0.1:18080). */
const char *api_url(void);

/* method + path (appended to api_url()); body may be NULL. extra: up to 4
 * "Name: value" header lines, NULL-terminated list or NULL. 0 on success
 * (any HTTP status), -1 when the transfer failed. */
int http_do(const char *method, const char *path, const char *content_type,
            const char *body, size_t len, const char *const *extra, http_resp *out);
int http_get(const char *path, http_resp *out);
int http_json(const char *method, const char *path, const char *json, http_resp *out);
void http_resp_free(http_resp *r);

/* Value of a response header (case-insensitive name) copied into buf;
 * NULL when absent. */
const char *http_header(const http_resp *r, const char *name, char *buf, size_t n);

/* The JSON value at pointer (e.g. "/error/code", "/items/0/id") in doc.
 * Strings are returned unquoted and unescaped; other values as their text.
 * Copied into buf; NULL when the pointer does not resolve or doc is invalid. */
const char *json_at(const char *doc, size_t len, const char *pointer, char *buf, size_t n);

/* A string unique to this process and call, letters and digits only. */
const char *unique_name(const char *prefix, char *buf, size_t n);

#endif
