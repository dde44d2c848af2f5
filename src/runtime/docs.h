/*
 * docs.h - a small static site served from bytes embedded in the binary:
 * the interactive API documentation (Swagger UI) under /docs.
 *
 * The runtime knows nothing of Swagger UI or of the spec: a site is a table
 * of files that the build produces (scripts/embed-docs.py writes it from the
 * pinned npm package swagger-ui-dist plus the project's own index page), and
 * this module answers requests for it:
 *
 *   <mount>          301 to the relative "<last segment>/", so the index is
 *                    always loaded from a URL ending in '/' and its relative
 *                    links work behind a reverse proxy that adds a prefix
 *   <mount>/         the index file (name ""), Cache-Control: no-cache
 *   <mount>/<name>   that file; Cache-Control: immutable for a year when the
 *                    query's v= equals the file's version (the index links
 *                    every asset that way), no-cache otherwise
 *   anything else under <mount>/   404 in the error envelope
 *
 * Every answer is GET or HEAD only (405 with Allow otherwise), carries a
 * strong ETag and honours If-None-Match (304), sends
 * X-Content-Type-Options: nosniff, and serves a file's gzip variant when
 * the client accepts gzip (Vary: Accept-Encoding).
 *
 * Ownership: the site and its files are static storage of the caller
 * (normally the build's embedded table); nothing here allocates except a few
 * bytes of the request arena.
 */
#ifndef RT_DOCS_H
#define RT_DOCS_H

#include "http.h"

typedef struct rt_docs_file {
    const char *name;         /* path below the mount, no leading '/'; "" is the index */
    const char *content_type; /* full header value, e.g. "text/css; charset=utf-8" */
    const unsigned char *data;
    size_t len;
    const unsigned char *gz;  /* gzip variant of data, NULL when none */
    size_t gz_len;
    const char *version;      /* content hash: the v= of versioned links, ETag material */
    const char *etag;         /* quoted strong ETag of data */
    const char *gz_etag;      /* quoted strong ETag of gz (NULL when gz is NULL) */
} rt_docs_file;

typedef struct rt_docs_site {
    const char *mount; /* "/docs": starts with '/', does not end with '/' */
    const rt_docs_file *files;
    size_t nfiles;
} rt_docs_site;

/* When req->path is the mount or below it, fill resp (the file, a redirect,
 * 304, 404 or 405) and return true; otherwise touch nothing and return
 * false, so the caller dispatches the request elsewhere. */
bool rt_docs_serve(const rt_docs_site *site, rt_req *req, rt_resp *resp);

/* The file a request path below the mount names (exact match), or NULL. */
const rt_docs_file *rt_docs_find(const rt_docs_site *site, rt_str name);

/* Whether an Accept-Encoding value admits gzip (a "gzip", "x-gzip" or "*"
 * entry whose q is not 0, and no "gzip;q=0"). */
bool rt_docs_accepts_gzip(rt_str accept_encoding);

/* Whether an If-None-Match value matches etag ("*", or a list holding it;
 * weak comparison, as RFC 9110 prescribes for If-None-Match). */
bool rt_docs_etag_match(rt_str if_none_match, const char *etag);

#endif
