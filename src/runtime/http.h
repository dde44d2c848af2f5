/*
 * http.h - the HTTP/1.1 server, requests and responses.
 *
 * Threads: `threads` independent event loops share one port through
 * SO_REUSEPORT; each owns its listening socket and the connections it
 * accepted (http.c; the wire format is parsed by h1.c). A request that
 * cannot block (opts.blocks says so) is handled entirely on the thread that
 * owns its connection, with that thread's response buffer and arena (no
 * locks). A request that may block (database) moves into a job with a
 * response buffer and arena of its own and runs either as a coroutine on its
 * loop (`coroutines`: it parks while it waits, co.h) or on a pool of
 * `workers` threads; either way its connection waits, reading nothing, and
 * the loop thread writes the answer when it is ready.
 *
 * Before the handler runs the runtime has: assigned the request id (a sane
 * X-Request-ID from the client, else a generated one), answered 413 for a
 * body past body_limit and 415 for a body that is not application/json, and
 * collected the whole body into one mutable buffer. After it returns, the
 * runtime adds Content-Type and X-Request-ID, queues the response, and writes
 * one access-log line.
 */
#ifndef RT_HTTP_H
#define RT_HTTP_H

#include "rt.h"

typedef struct rt__req_priv rt__req_priv;

/* The media type of a request body, from its Content-Type. The runtime
 * admits only the two it has parsers for (json.c, rt_form_parse) and
 * answers 415 to any other before reading the body; the generated router
 * answers 415 when the operation declares the other one. */
typedef enum rt_media {
    RT_MEDIA_NONE = 0, /* no body */
    RT_MEDIA_JSON,     /* application/json */
    RT_MEDIA_FORM,     /* application/x-www-form-urlencoded */
} rt_media;

typedef struct rt_req {
    rt_str method;       /* "GET", "POST", ... */
    rt_str path;         /* percent-decoded path, without the query string */
    char *body;          /* the whole body, mutable (decoders work in place); NULL when none */
    size_t body_len;
    rt_media media;      /* of the body; RT_MEDIA_NONE when body_len is 0 */
    rt_str request_id;   /* always set, at most 128 bytes of [A-Za-z0-9._:-] */
    rt_arena *arena;     /* owns what the request allocates; reset after the response */
    void *app;           /* rt_server_opts.app: the service's state (pools, cache) */
    rt_errs errs;        /* field errors collected by decoders/validators */
    const char *err_msg; /* message for the envelope, set by rt_req_fail */
    rt__req_priv *priv;  /* runtime-private */
} rt_req;

#define RT_RESP_MAX_HEADERS 8

typedef struct rt_resp {
    int status;               /* HTTP status, default 200 */
    rt_buf body;              /* per-thread, reset before each request */
    const char *content_type; /* NULL: "application/json" when the body is non-empty */
    unsigned nheaders;
    struct {
        const char *name;     /* static storage */
        rt_str value;         /* must outlive the handler call: static or req->arena */
    } headers[RT_RESP_MAX_HEADERS];
} rt_resp;

typedef void (*rt_handler_fn)(rt_req *req, rt_resp *resp);
/* Whether a request may block (wait for the database): such requests are
 * run on the worker pool while their connection is suspended, the others
 * inline on the event-loop thread. Called on the loop thread with the
 * request as the handler would see it; must not block itself. */
typedef bool (*rt_blocks_fn)(const rt_req *req);

/* Query parameter by exact name (first occurrence), percent-decoded.
 * present=false and an empty view when absent. */
rt_str rt_req_query(const rt_req *r, const char *name, bool *present);
/* Request header by case-insensitive name; ptr NULL when absent. */
rt_str rt_req_header(const rt_req *r, const char *name);

/* Record a failure message for the envelope and return st, so a handler can
 * `return rt_req_fail(req, RT_E_NOT_FOUND, "user not found");`.
 * msg: static storage or req->arena. */
rt_status rt_req_fail(rt_req *r, rt_status st, const char *msg);

/* Add a response header; false when the table is full. */
bool rt_resp_header(rt_resp *resp, const char *name, rt_str value);

/* Replace the response with the error envelope for st:
 * {"error":{"code":..,"message":..,"details":[{"field":..,"reason":..}...],"request_id":..}}
 * details are req->errs (always present, maybe empty). message: msg if not
 * NULL, else req->err_msg if set, else a generic text for st. */
void rt_resp_error(rt_req *req, rt_resp *resp, rt_status st, const char *msg);

/* ---------------------------------------------------------------- server */

typedef struct rt_server rt_server;

/* A connection's input buffer: the request head must fit (else 431), and
 * body bytes pass through the rest. Taken from the loop's pool only while
 * the connection has unread bytes, so idle connections cost no buffer. */
#define RT_CONN_MEMORY_DEFAULT 8192

typedef struct rt_server_opts {
    const char *bind_addr;   /* IPv4 or IPv6 literal, e.g. "127.0.0.1" */
    uint16_t port;           /* 0: the kernel picks (see rt_server_port) */
    unsigned threads;        /* event-loop threads, >= 1 */
    size_t body_limit;       /* bytes; larger bodies get 413 */
    unsigned conn_timeout_s; /* idle keep-alive / slow client timeout */
    size_t conn_memory;      /* bytes of a connection's input buffer: a request head
                                that does not fit gets 431; 0: RT_CONN_MEMORY_DEFAULT */
    unsigned max_conns;      /* concurrent connections, whole server */
    rt_handler_fn handler;
    void *app;
    unsigned workers;        /* handler threads for blocking requests; 0: all inline */
    rt_blocks_fn blocks;     /* NULL: with workers, every request goes to them */
    bool coroutines;         /* blocking requests run as coroutines on the loops
                                (co.h), not on workers; set workers to 0 */
} rt_server_opts;

/* Binds and starts the loops. NULL with a message in err on failure. */
rt_server *rt_server_start(const rt_server_opts *o, char *err, size_t errlen);
uint16_t rt_server_port(const rt_server *s);
/* Stop accepting, let in-flight requests finish for up to drain_ms, then close
 * every connection, join the threads and free the server. */
void rt_server_stop(rt_server *s, unsigned drain_ms);

#endif
