/*
 * http.c - the HTTP server: libmicrohttpd daemons driven by our own epoll
 * loops, request gating (413/415), request ids, the error envelope, and the
 * hand-off to the one handler the generated router provides.
 *
 * Threads. `threads` independent daemons listen on the same address with
 * SO_REUSEPORT, so the kernel spreads connections between them. Each daemon
 * uses MHD_USE_EPOLL without MHD's internal thread; our loop thread waits on
 * an outer epoll set holding MHD's epoll fd and an eventfd (wake-up), then
 * calls MHD_run(). MHD_run() never blocks, so the 128-events stall that
 * DESIGN.md records for the internal-thread mode cannot happen here. Every
 * MHD call for a daemon is made on its loop thread - except MHD_stop_daemon,
 * which rt_server_stop makes after joining that thread - because MHD's
 * external-polling mode is not thread-safe.
 *
 * One request, as MHD calls us (cls = the daemon's rt_loop):
 *  1. first access-handler call (headers parsed): count it in flight, decide
 *     whether it has a body, answer 413/415 at once if it must be refused
 *     (MHD then skips the body and closes), else set *req_cls and return
 *     MHD_YES *without* queueing: queueing in this first call makes MHD 0.9.75
 *     send `Connection: close` (DESIGN.md, "Keep-alive").
 *  2. body calls: pieces are appended to the request's buffer, or dropped
 *     once the body has grown past body_limit (answered 413 at the end).
 *  3. final call (*upload_data_size == 0): build rt_req, run the handler,
 *     queue the response, write the access line, reset the arena. The
 *     line's duration runs from step 1 to the queueing; for a request
 *     without body MHD makes calls 1 and 3 in the same pass, so there it is
 *     taken from call 3 and nothing needs storing.
 *  4. completed callback (always, also when the client vanished mid-body or
 *     at daemon shutdown): recycle the context, count the request done.
 *
 * Ownership:
 *  - *req_cls is one of two static sentinels (no body: nothing to allocate;
 *    already answered) or a req_ctx from the loop's free list. The loop owns
 *    every req_ctx; a request borrows one from step 1 to step 4. The free
 *    list is bounded and oversized body buffers are released on return, so
 *    steady-state requests make no allocation of ours (MHD still allocates
 *    its response object; see send_response) and idle memory stays bounded.
 *  - rt_req lives on the loop thread's stack for the final call only; its
 *    body points into the req_ctx buffer, its strings into MHD's connection
 *    memory, both valid until step 4.
 *  - rt_resp and rt_arena belong to the loop (one request at a time per
 *    thread, so no locks); the response bytes are copied into MHD before the
 *    arena is reset.
 */
#include "http.h"
#include "http_priv.h"

#include "co.h"
#include "json.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RID_MAX 128                  /* longest X-Request-ID we accept (http.h) */
#define LOOP_MAX_WAIT_MS 1000        /* upper bound on one epoll_wait */
#define ARENA_FIRST_CHUNK (64 * 1024)
#define CTX_FREE_MAX 256             /* recycled request contexts kept per loop */
#define CTX_KEEP_BODY (64 * 1024)    /* larger body buffers are freed on recycle */
#define DRAIN_POLL_NS (2 * 1000000L) /* rt_server_stop's polling interval */
#define JOB_ARENA_CHUNK (8 * 1024)   /* first arena chunk of a worker job */
#define JOB_FREE_MAX 128             /* recycled jobs kept per loop */
#define CO_STACK (256 * 1024)        /* per coroutine; untouched pages cost nothing */
#define CO_EXIT_MS 1000              /* a loop's wait for its coroutines when it ends */

enum { ST_RUN, ST_DRAIN, ST_STOP };

/* ---------------------------------------------------------------- types */

struct rt_loop;

/* A request handed to the worker pool: what the handler needs that would
 * otherwise live on the loop thread's stack or in its per-thread buffers.
 * Owned by its loop (allocated, recycled and freed there); a worker holds
 * it from the queue until it pushes it onto the loop's done list. */
typedef struct rt_job {
    struct rt_job *next;
    struct rt_job *co_prev, *co_next; /* the loop's jobs whose coroutine is parked */
    struct rt_loop *loop;
    rt_co *co;            /* coroutine mode: runs the handler; kept with the job */
    bool co_parked;       /* on the loop's co_live list */
    struct MHD_Connection *conn;
    rt_req req;
    rt_resp resp;
    rt_arena *arena;
    struct rt__req_priv {
        struct MHD_Connection *conn;
    } priv;
    int64_t t0_us;
    char rid[RID_MAX + 1];
} rt_job;

typedef struct req_ctx {
    struct req_ctx *next; /* free-list link */
    rt_job *job;          /* set while the request is with a worker or its answer waits */
    rt_buf body;          /* the body so far (+1 byte reserved for a NUL) */
    int64_t t0_us;        /* monotonic time of the first handler call */
    rt_media media;       /* of the body, checked at the first handler call */
    rt_status reject;     /* RT_OK, or the answer owed instead of the handler */
    bool answered;        /* response queued; anything MHD still delivers is dropped */
} req_ctx;

/* *req_cls values that need no allocation (their addresses are what count). */
static char sentinel_nobody;   /* no body expected: handle at the final call */
static char sentinel_answered; /* response queued already: swallow the rest */

typedef struct rt_loop {
    struct rt_server *srv;
    struct MHD_Daemon *d;
    pthread_t th;
    bool started; /* thread created (must be joined) */
    int epfd;
    int evfd;
    rt_resp resp;
    rt_arena *arena;
    req_ctx *free_ctx;
    unsigned nfree;
    uint64_t id_seed; /* request-id generator: seed from getrandom + counter */
    uint64_t id_ctr;
    _Atomic unsigned in_flight; /* first handler call .. completed callback */
    _Atomic bool quiesced;      /* listen socket closed (draining) */
    rt_job *free_jobs;          /* loop thread only */
    unsigned nfree_jobs;
    pthread_mutex_t done_mu;    /* guards done: workers push, the loop pops */
    rt_job *done;               /* answered jobs whose connection awaits resuming */
    rt_sched sched;             /* coroutines of this loop (loop thread only) */
    rt_watch w_mhd, w_wake;     /* MHD's epoll fd and the eventfd on epfd */
    rt_job *co_live;            /* jobs whose coroutine is parked */
    bool resumed;               /* a coroutine finished: MHD_run must not wait */
} rt_loop;

struct rt_server {
    rt_server_opts o;
    uint16_t port;
    unsigned n;
    _Atomic int state;
    rt_loop *loops;
    /* the worker pool: one FIFO of jobs for all loops */
    pthread_t *workers;
    unsigned nworkers; /* threads started (to join) */
    pthread_mutex_t q_mu;
    pthread_cond_t q_cv;
    rt_job *q_head, *q_tail;
    bool q_stop; /* under q_mu: answer what is queued with 503 and exit */
};

/* ---------------------------------------------------------------- small helpers */

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* A request's start time for its access-log line; without the access log
 * (LOG_LEVEL above info) nobody reads it, so the clock is not read. */
static int64_t access_clock(void)
{
    return rt_log_enabled(RT_LOG_INFO) ? mono_us() : 0;
}

__attribute__((format(printf, 3, 4)))
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || !errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static bool rid_char_ok(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == ':' || ch == '-';
}

/* splitmix64's output function: a bijection on 64 bits, so distinct counter
 * values give distinct ids within a loop; the random seed keeps loops and
 * processes apart. No syscall per request. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* The request id into out (NUL-terminated, MHD needs C strings): the
 * client's X-Request-ID when it is 1..RID_MAX bytes of [A-Za-z0-9._:-],
 * else a fresh 16-hex-digit id. A hostile id is never echoed or logged. */
static rt_str request_id(rt_loop *l, struct MHD_Connection *c, char out[RID_MAX + 1])
{
    const char *v = NULL;
    size_t n = 0;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "X-Request-ID", 12, &v, &n) == MHD_YES &&
        v && n >= 1 && n <= RID_MAX) {
        size_t i = 0;
        while (i < n && rid_char_ok((unsigned char)v[i]))
            i++;
        if (i == n) {
            memcpy(out, v, n);
            out[n] = '\0';
            return (rt_str){ out, n };
        }
    }
    static const char hex[] = "0123456789abcdef";
    uint64_t x = mix64(l->id_seed + ++l->id_ctr * 0x9e3779b97f4a7c15ULL);
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[x & 15];
        x >>= 4;
    }
    out[16] = '\0';
    return (rt_str){ out, 16 };
}

/* "application/json", any case, optionally followed by parameters. */
/* Compares a Content-Type's media type (case-insensitive, parameters and
 * surrounding blanks ignored) with mt, which is lower case. */
static bool media_is(const char *v, size_t n, const char *mt)
{
    const size_t mlen = strlen(mt);
    while (n > 0 && (*v == ' ' || *v == '\t')) {
        v++;
        n--;
    }
    if (n < mlen)
        return false;
    for (size_t i = 0; i < mlen; i++) {
        char ch = v[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        if (ch != mt[i])
            return false;
    }
    size_t i = mlen;
    while (i < n && (v[i] == ' ' || v[i] == '\t'))
        i++;
    return i == n || v[i] == ';';
}

static rt_media media_of(const char *v, size_t n)
{
    if (media_is(v, n, "application/json"))
        return RT_MEDIA_JSON;
    if (media_is(v, n, "application/x-www-form-urlencoded"))
        return RT_MEDIA_FORM;
    return RT_MEDIA_NONE;
}

/*
 * Percent-decoding for the path and query arguments (MHD_OPTION_UNESCAPE_
 * CALLBACK). Same as MHD's default except that "%00" stays as it is: MHD
 * hands us the path as a C string, so a decoded NUL would silently cut
 * "/users/1%00/x" down to "/users/1" and route it. Left encoded it simply
 * matches no route. Malformed escapes are kept literally.
 */
static int hexval(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *w = s;
    for (const char *r = s; *r;) {
        if (r[0] == '%' && r[1] && r[2]) {
            int hi = hexval(r[1]), lo = hexval(r[2]);
            if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
                *w++ = (char)(hi * 16 + lo);
                r += 3;
                continue;
            }
        }
        *w++ = *r++;
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    va_list cp;
    va_copy(cp, ap);
    int n = vsnprintf(msg, sizeof msg, fmt, cp);
    va_end(cp);
    size_t len = n < 0 ? 0 : ((size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == '\r'))
        len--;
    rt_logf(RT_LOG_WARN, RT_STR_NULL, "libmicrohttpd: %.*s", (int)len, msg);
}

/* ---------------------------------------------------------------- request contexts */

static req_ctx *ctx_get(rt_loop *l)
{
    req_ctx *x = l->free_ctx;
    if (x) {
        l->free_ctx = x->next;
        l->nfree--;
    } else {
        x = malloc(sizeof *x);
        if (!x)
            return NULL;
        rt_buf_init(&x->body);
    }
    x->next = NULL;
    x->job = NULL;
    rt_buf_reset(&x->body);
    x->reject = RT_OK;
    x->answered = false;
    return x;
}

static void ctx_put(rt_loop *l, req_ctx *x)
{
    if (l->nfree >= CTX_FREE_MAX) {
        rt_buf_free(&x->body);
        free(x);
        return;
    }
    if (x->body.cap > CTX_KEEP_BODY) {
        rt_buf_free(&x->body);
        rt_buf_init(&x->body);
    }
    x->next = l->free_ctx;
    l->free_ctx = x;
    l->nfree++;
}

/* ---------------------------------------------------------------- responses */

static const char *generic_message(rt_status st)
{
    switch (st) {
    case RT_E_BAD_REQUEST: return "bad request";
    case RT_E_VALIDATION: return "request validation failed";
    case RT_E_UNAUTHORIZED: return "unauthorized";
    case RT_E_NOT_FOUND: return "not found";
    case RT_E_METHOD_NOT_ALLOWED: return "method not allowed";
    case RT_E_CONFLICT: return "conflict";
    case RT_E_PAYLOAD_TOO_LARGE: return "request body too large";
    case RT_E_UNSUPPORTED_MEDIA_TYPE:
        return "request body must be application/json or application/x-www-form-urlencoded";
    case RT_E_RATE_LIMITED: return "too many requests";
    case RT_E_UNAVAILABLE: return "service unavailable";
    case RT_E_TIMEOUT: return "timeout";
    default: return "internal error";
    }
}

static void resp_reset(rt_resp *resp)
{
    resp->status = 200;
    rt_buf_reset(&resp->body);
    resp->content_type = NULL;
    resp->nheaders = 0;
}

/* Last resort when even the envelope could not be built (out of memory). */
static const char oom_body[] =
    "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"internal error\",\"details\":[],"
    "\"request_id\":\"\"}}";

/* A header value for MHD: NUL-terminated copy in the arena, or NULL when it
 * would let a value end the header early (CR, LF, NUL) or memory ran out. */
static const char *header_value(rt_arena *a, rt_str v)
{
    for (size_t i = 0; i < v.len; i++)
        if (v.ptr[i] == '\r' || v.ptr[i] == '\n' || v.ptr[i] == '\0')
            return NULL;
    return rt_arena_strdup(a, v.ptr ? v.ptr : "", v.len).ptr;
}

/*
 * Turn the loop's rt_resp into an MHD response and queue it. The bytes are
 * copied (MHD_RESPMEM_MUST_COPY) because rt_resp's buffer is reused by the
 * next request on this thread before MHD has finished sending. Future work:
 * a zero-copy path (per-connection buffers handed over with a free callback,
 * or cached representations as persistent responses).
 */
static enum MHD_Result send_response(rt_loop *l, struct MHD_Connection *c, const rt_req *req,
                                     rt_resp *resp, rt_arena *arena, size_t *sent)
{
    int status = resp->status;
    size_t blen = resp->body.len;
    const char *bytes = resp->body.data;
    /* 204 and 304 carry no body (RFC 9110). */
    if (status == 204 || status == 304)
        blen = 0;
    struct MHD_Response *mr;
    if (resp->body.oom) {
        status = 500;
        resp->nheaders = 0;
        resp->content_type = NULL;
        mr = MHD_create_response_from_buffer(sizeof oom_body - 1, (void *)oom_body,
                                             MHD_RESPMEM_PERSISTENT);
        blen = sizeof oom_body - 1;
    } else if (blen == 0) {
        mr = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    } else {
        mr = MHD_create_response_from_buffer(blen, (void *)bytes, MHD_RESPMEM_MUST_COPY);
    }
    if (!mr)
        return MHD_NO; /* out of memory: closing the connection is all we can do */
    const char *ct = resp->content_type;
    if (!ct && blen > 0)
        ct = "application/json";
    if (ct)
        (void)MHD_add_response_header(mr, "Content-Type", ct);
    /* request_id is always a NUL-terminated buffer of request_id() */
    (void)MHD_add_response_header(mr, "X-Request-ID", req->request_id.ptr);
    unsigned nh = resp->nheaders < RT_RESP_MAX_HEADERS ? resp->nheaders : RT_RESP_MAX_HEADERS;
    for (unsigned i = 0; i < nh; i++) {
        const char *name = resp->headers[i].name;
        const char *val = name ? header_value(arena, resp->headers[i].value) : NULL;
        if (!val || MHD_add_response_header(mr, name, val) != MHD_YES)
            rt_logf(RT_LOG_WARN, req->request_id, "response header %s dropped",
                    name ? name : "(null)");
    }
    /* While draining, tell keep-alive clients to go elsewhere. */
    if (atomic_load_explicit(&l->srv->state, memory_order_relaxed) != ST_RUN)
        (void)MHD_add_response_header(mr, "Connection", "close");
    enum MHD_Result r = MHD_queue_response(c, (unsigned)status, mr);
    MHD_destroy_response(mr);
    resp->status = status;
    *sent = blen;
    return r;
}

static void wake(struct rt_loop *l);

/* ---------------------------------------------------------------- worker jobs */

static rt_job *job_get(rt_loop *l)
{
    rt_job *j = l->free_jobs;
    if (j) {
        l->free_jobs = j->next;
        l->nfree_jobs--;
    } else {
        j = calloc(1, sizeof *j);
        if (!j)
            return NULL;
        j->arena = rt_arena_new(JOB_ARENA_CHUNK);
        if (!j->arena) {
            free(j);
            return NULL;
        }
        rt_buf_init(&j->resp.body);
        j->loop = l;
    }
    j->next = NULL;
    resp_reset(&j->resp);
    return j;
}

static void job_free(rt_job *j)
{
    rt_co_free(j->co);
    rt_arena_free(j->arena);
    rt_buf_free(&j->resp.body);
    free(j);
}

static void job_put(rt_loop *l, rt_job *j)
{
    rt_arena_reset(j->arena);
    /* A coroutine still parked (only when a loop ended past its wait) has
     * its stack freed with the job; it never runs again. */
    bool parked = j->co_parked;
    if (parked || l->nfree_jobs >= JOB_FREE_MAX || j->resp.body.cap > CTX_KEEP_BODY) {
        job_free(j);
        return;
    }
    j->next = l->free_jobs;
    l->free_jobs = j;
    l->nfree_jobs++;
}

/* ---------------------------------------------------------------- answering */

/* The handler (or the owed rejection) into resp, with the runtime's checks
 * on what it produced. Runs on a loop or a worker thread. */
static void run_handler(rt_server *s, rt_req *req, rt_resp *resp, rt_status reject)
{
    if (reject != RT_OK)
        rt_resp_error(req, resp, reject, NULL);
    else
        s->o.handler(req, resp);
    if (resp->status < 200 || resp->status > 599) { /* MHD refuses 1xx here */
        rt_logf(RT_LOG_ERROR, req->request_id, "handler set invalid status %d", resp->status);
        resp->nheaders = 0;
        rt_resp_error(req, resp, RT_E_INTERNAL, NULL);
    } else if (resp->body.oom) {
        rt_logf(RT_LOG_ERROR, req->request_id, "out of memory encoding the response");
        resp->nheaders = 0;
        rt_resp_error(req, resp, RT_E_INTERNAL, NULL);
    }
}

/* Queue resp on c and write the access line. */
static enum MHD_Result answer(rt_loop *l, struct MHD_Connection *c, const rt_req *req,
                              rt_resp *resp, rt_arena *arena, int64_t t0)
{
    size_t sent = 0;
    enum MHD_Result r = send_response(l, c, req, resp, arena, &sent);
    if (r != MHD_YES)
        rt_logf(RT_LOG_WARN, req->request_id, "could not queue the response; closing");
    if (req->method.len == 4 && memcmp(req->method.ptr, "HEAD", 4) == 0)
        sent = 0; /* MHD sends the headers only */
    rt_log_access(req->request_id, req->method, req->path, resp->status, access_clock() - t0, sent);
    return r;
}

/* ---------------------------------------------------------------- coroutine jobs */

static void co_link(rt_loop *l, rt_job *j)
{
    j->co_prev = NULL;
    j->co_next = l->co_live;
    if (l->co_live)
        l->co_live->co_prev = j;
    l->co_live = j;
    j->co_parked = true;
}

static void co_unlink(rt_loop *l, rt_job *j)
{
    if (!j->co_parked)
        return;
    if (j->co_prev)
        j->co_prev->co_next = j->co_next;
    else
        l->co_live = j->co_next;
    if (j->co_next)
        j->co_next->co_prev = j->co_prev;
    j->co_prev = j->co_next = NULL;
    j->co_parked = false;
}

static void job_co_main(void *arg)
{
    rt_job *j = arg;
    run_handler(j->loop->srv, &j->req, &j->resp, RT_OK);
}

/* A coroutine that had parked has returned (on the loop thread): resume its
 * connection; MHD then calls the access handler, which answers (finish_job). */
static void job_co_done(rt_co *co, void *arg)
{
    (void)co;
    rt_job *j = arg;
    co_unlink(j->loop, j);
    j->loop->resumed = true;
    MHD_resume_connection(j->conn);
}

/*
 * Hand the request to the worker pool: it moves into a job (own arena and
 * response buffer), the connection is suspended, and the loop goes on with
 * other connections. The answer is queued by finish_job() when the loop has
 * resumed the connection. False when there is no memory for it (the caller
 * then runs the handler inline).
 *
 * In coroutine mode the job's handler starts at once as a coroutine on this
 * loop. If it returns without waiting, *now is set and the caller answers
 * right away; if it parks (a database query in flight), the connection is
 * suspended until job_co_done.
 */
static bool defer(rt_loop *l, struct MHD_Connection *c, const rt_req *req, req_ctx **xp,
                  int64_t t0, bool *now)
{
    rt_server *s = l->srv;
    req_ctx *x = *xp;
    if (!x && !(x = ctx_get(l)))
        return false;
    rt_job *j = job_get(l);
    if (!j) {
        if (!*xp)
            ctx_put(l, x);
        return false;
    }
    *xp = x;
    j->conn = c;
    j->t0_us = t0;
    j->req = *req;
    memcpy(j->rid, req->request_id.ptr, req->request_id.len + 1);
    j->req.request_id.ptr = j->rid;
    j->req.arena = j->arena;
    j->priv.conn = c;
    j->req.priv = &j->priv;
    x->job = j;
    x->answered = true;
    if (s->o.coroutines) {
        if (!j->co && !(j->co = rt_co_new(CO_STACK))) {
            x->job = NULL;
            x->answered = false;
            job_put(l, j);
            return false;
        }
        if (rt_co_start(j->co, job_co_main, j, job_co_done)) {
            *now = true; /* it never waited: the caller answers at once */
            return true;
        }
        co_link(l, j);
        MHD_suspend_connection(c);
        return true;
    }
    MHD_suspend_connection(c);
    pthread_mutex_lock(&s->q_mu);
    if (s->q_tail)
        s->q_tail->next = j;
    else
        s->q_head = j;
    s->q_tail = j;
    pthread_cond_signal(&s->q_cv);
    pthread_mutex_unlock(&s->q_mu);
    return true;
}

/* The access handler's call after the loop resumed a deferred request. */
static enum MHD_Result finish_job(rt_loop *l, struct MHD_Connection *c, req_ctx *x)
{
    rt_job *j = x->job;
    x->job = NULL;
    enum MHD_Result r = answer(l, c, &j->req, &j->resp, j->arena, j->t0_us);
    job_put(l, j);
    return r;
}

/*
 * Runs the handler (or the owed rejection) and answers, or defers the
 * request to the worker pool when it may block. x is the request's context
 * (NULL for a request without body; defer() may create one, which is why
 * req_cls is passed). This is the only place that starts a handler.
 */
static enum MHD_Result respond(rt_loop *l, struct MHD_Connection *c, const char *url,
                               const char *method, req_ctx *x, rt_status reject, int64_t t0,
                               void **req_cls)
{
    rt_server *s = l->srv;
    struct rt__req_priv priv = { c };
    char rid[RID_MAX + 1];
    rt_req req;
    req.method = (rt_str){ method, strlen(method) };
    req.path = (rt_str){ url, strlen(url) };
    req.body = NULL;
    req.body_len = 0;
    req.media = RT_MEDIA_NONE;
    if (x && x->body.len > 0 && !x->body.oom) {
        x->body.data[x->body.len] = '\0'; /* room reserved in absorb(); handy for tools */
        req.body = x->body.data;
        req.body_len = x->body.len;
        req.media = x->media;
    }
    req.request_id = request_id(l, c, rid);
    req.arena = l->arena;
    req.app = s->o.app;
    rt_errs_init(&req.errs);
    req.err_msg = NULL;
    req.priv = &priv;

    if (reject == RT_OK && (s->nworkers > 0 || s->o.coroutines) &&
        (!s->o.blocks || s->o.blocks(&req))) {
        req_ctx *dx = x;
        bool now = false;
        if (defer(l, c, &req, &dx, t0, &now)) {
            *req_cls = dx;
            return now ? finish_job(l, c, dx) : MHD_YES;
        }
    }
    rt_resp *resp = &l->resp;
    resp_reset(resp);
    run_handler(s, &req, resp, reject);
    enum MHD_Result r = answer(l, c, &req, resp, l->arena, t0);
    rt_arena_reset(l->arena);
    return r;
}

/* A worker: takes jobs in order, runs their handler, hands them back to
 * their loop. After q_stop (the server is being freed past its drain
 * deadline) what is still queued is answered 503 without running. */
static void *worker_main(void *arg)
{
    rt_server *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->q_mu);
        while (!s->q_head && !s->q_stop)
            pthread_cond_wait(&s->q_cv, &s->q_mu);
        rt_job *j = s->q_head;
        bool stop = s->q_stop;
        if (j) {
            s->q_head = j->next;
            if (!s->q_head)
                s->q_tail = NULL;
        }
        pthread_mutex_unlock(&s->q_mu);
        if (!j)
            break; /* stopping and nothing left */
        j->next = NULL;
        run_handler(s, &j->req, &j->resp, stop ? RT_E_UNAVAILABLE : RT_OK);
        rt_log_flush();
        rt_loop *l = j->loop;
        pthread_mutex_lock(&l->done_mu);
        /* Only the push onto an empty list wakes the loop: resume_done takes
         * the whole list, so a non-empty one has a wake-up pending. */
        bool first = l->done == NULL;
        j->next = l->done;
        l->done = j;
        pthread_mutex_unlock(&l->done_mu);
        if (first)
            wake(l);
    }
    rt_log_flush();
    return NULL;
}

/* Loop thread (or the freeing thread once the loop is gone): resume the
 * connections whose job has an answer; MHD then calls the access handler
 * again, which queues it (finish_job). */
static void resume_done(rt_loop *l)
{
    pthread_mutex_lock(&l->done_mu);
    rt_job *j = l->done;
    l->done = NULL;
    pthread_mutex_unlock(&l->done_mu);
    while (j) {
        rt_job *next = j->next;
        j->next = NULL;
        MHD_resume_connection(j->conn);
        j = next;
    }
}

/* ---------------------------------------------------------------- access handler */

static uint64_t parse_content_length(const char *v, size_t n)
{
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return UINT64_MAX; /* MHD rejects these first; be safe anyway */
        if (x > (UINT64_MAX - 9) / 10)
            return UINT64_MAX;
        x = x * 10 + (uint64_t)(v[i] - '0');
    }
    return x;
}

static enum MHD_Result first_call(rt_loop *l, struct MHD_Connection *c, const char *url,
                                  const char *method, void **req_cls)
{
    int64_t t0 = access_clock();
    atomic_fetch_add_explicit(&l->in_flight, 1, memory_order_relaxed);
    /* From here on *req_cls is never NULL, which is how on_completed knows
     * this request was counted. */
    *req_cls = &sentinel_answered;

    const char *v = NULL;
    size_t n = 0;
    bool chunked = MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "Transfer-Encoding", 17,
                                                 &v, &n) == MHD_YES;
    uint64_t clen = 0;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "Content-Length", 14, &v, &n) ==
            MHD_YES && v)
        clen = parse_content_length(v, n);
    if (!chunked && clen == 0) {
        *req_cls = &sentinel_nobody;
        return MHD_YES;
    }
    /* Refusals are queued now, before any body byte is read: MHD then
     * skips the body and closes the connection, which is what we want for
     * a body we will not read. */
    size_t limit = l->srv->o.body_limit;
    if (!chunked && clen > limit)
        return respond(l, c, url, method, NULL, RT_E_PAYLOAD_TOO_LARGE, t0, req_cls);
    v = NULL;
    n = 0;
    rt_media media = RT_MEDIA_NONE;
    if (MHD_lookup_connection_value_n(c, MHD_HEADER_KIND, "Content-Type", 12, &v, &n) == MHD_YES &&
        v)
        media = media_of(v, n);
    if (media == RT_MEDIA_NONE)
        return respond(l, c, url, method, NULL, RT_E_UNSUPPORTED_MEDIA_TYPE, t0, req_cls);
    req_ctx *x = ctx_get(l);
    if (!x)
        return respond(l, c, url, method, NULL, RT_E_INTERNAL, t0, req_cls);
    x->t0_us = t0;
    x->media = media;
    *req_cls = x;
    return MHD_YES;
}

/* Appends one piece of body, or drops it once the request is doomed: past
 * the limit we stop buffering but keep reading, so the client still gets its
 * 413 at the end instead of a reset. */
static void absorb(rt_loop *l, req_ctx *x, const char *data, size_t n)
{
    if (x->reject != RT_OK)
        return;
    size_t limit = l->srv->o.body_limit;
    if (n > limit - x->body.len) {
        x->reject = RT_E_PAYLOAD_TOO_LARGE;
        return;
    }
    if (!rt_buf_reserve(&x->body, n + 1)) { /* +1: the NUL respond() adds */
        x->reject = RT_E_INTERNAL;
        return;
    }
    rt_buf_put(&x->body, data, n);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version,
                                 const char *upload_data, size_t *upload_data_size,
                                 void **req_cls)
{
    rt_loop *l = cls;
    (void)version;
    void *p = *req_cls;
    if (p == NULL)
        return first_call(l, c, url, method, req_cls);
    if (p == &sentinel_answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (p == &sentinel_nobody) {
        if (*upload_data_size != 0) { /* not announced; not wanted */
            *upload_data_size = 0;
            return MHD_YES;
        }
        *req_cls = &sentinel_answered;
        return respond(l, c, url, method, NULL, RT_OK, access_clock(), req_cls);
    }
    req_ctx *x = p;
    if (x->job) { /* resumed: the worker has answered */
        *upload_data_size = 0;
        return finish_job(l, c, x);
    }
    if (x->answered) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        absorb(l, x, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    /* x stays in *req_cls: on_completed recycles it after the response is
     * sent (the handler's body views point into it until then) */
    x->answered = true;
    return respond(l, c, url, method, x, x->reject, x->t0_us, req_cls);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    rt_loop *l = cls;
    (void)c;
    (void)toe;
    void *p = *req_cls;
    if (p == NULL)
        return; /* the handler never saw this request */
    if (p != &sentinel_nobody && p != &sentinel_answered) {
        req_ctx *x = p;
        if (x->job) { /* resumed, but the client was gone before the answer went out */
            job_put(l, x->job);
            x->job = NULL;
        }
        ctx_put(l, x);
    }
    *req_cls = NULL;
    atomic_fetch_sub_explicit(&l->in_flight, 1, memory_order_release);
}

/* ---------------------------------------------------------------- request API */

rt_str rt_req_header(const rt_req *r, const char *name)
{
    const char *v = NULL;
    size_t n = 0;
    if (r && r->priv && name &&
        MHD_lookup_connection_value_n(r->priv->conn, MHD_HEADER_KIND, name, strlen(name), &v,
                                      &n) == MHD_YES &&
        v)
        return (rt_str){ v, n };
    return RT_STR_NULL;
}

typedef struct query_find {
    const char *name;
    size_t name_len;
    rt_str value;
    bool found;
} query_find;

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    query_find *q = cls;
    (void)kind;
    if (key_size != q->name_len || memcmp(key, q->name, key_size) != 0)
        return MHD_YES;
    q->found = true;
    q->value = value ? (rt_str){ value, value_size } : (rt_str){ "", 0 };
    return MHD_NO; /* first occurrence wins */
}

/* MHD's own lookup compares keys case-insensitively for every kind; query
 * names are case-sensitive, so walk the arguments instead. */
rt_str rt_req_query(const rt_req *r, const char *name, bool *present)
{
    query_find q = { name, name ? strlen(name) : 0, { "", 0 }, false };
    if (r && r->priv && name)
        (void)MHD_get_connection_values_n(r->priv->conn, MHD_GET_ARGUMENT_KIND, query_iter, &q);
    if (present)
        *present = q.found;
    return q.value;
}

struct MHD_Connection *rt__req_conn(const rt_req *req)
{
    return req && req->priv ? req->priv->conn : NULL;
}

rt_status rt_req_fail(rt_req *r, rt_status st, const char *msg)
{
    if (r)
        r->err_msg = msg;
    return st;
}

bool rt_resp_header(rt_resp *resp, const char *name, rt_str value)
{
    if (resp->nheaders >= RT_RESP_MAX_HEADERS)
        return false;
    resp->headers[resp->nheaders].name = name;
    resp->headers[resp->nheaders].value = value;
    resp->nheaders++;
    return true;
}

/*
 * The envelope. Headers already added stay (so Allow may be added before or
 * after). For 500 the message is always the generic one: whatever the caller
 * passed is an internal cause, which goes to the log, never to the client.
 */
void rt_resp_error(rt_req *req, rt_resp *resp, rt_status st, const char *msg)
{
    if ((int)st <= (int)RT_OK || st >= RT_STATUS_COUNT)
        st = RT_E_INTERNAL;
    const char *m = msg ? msg : req->err_msg;
    if (st == RT_E_INTERNAL) {
        if (m)
            rt_logf(RT_LOG_ERROR, req->request_id, "internal error: %s", m);
        m = NULL;
    }
    if (!m)
        m = generic_message(st);

    rt_buf *b = &resp->body;
    rt_buf_reset(b);
    resp->status = rt_status_http(st);
    resp->content_type = NULL;
    const char *code = rt_status_name(st);
    rt_buf_puts(b, "{\"error\":{\"code\":");
    rt_json_put_str(b, code, strlen(code));
    rt_buf_puts(b, ",\"message\":");
    rt_json_put_str(b, m, strlen(m));
    rt_buf_puts(b, ",\"details\":[");
    unsigned n = req->errs.n < RT_ERRS_MAX ? req->errs.n : RT_ERRS_MAX;
    for (unsigned i = 0; i < n; i++) {
        const rt_field_err *e = &req->errs.e[i];
        const char *reason = e->reason ? e->reason : "";
        if (i)
            rt_buf_putc(b, ',');
        rt_buf_puts(b, "{\"field\":");
        rt_json_put_str(b, e->field, strnlen(e->field, RT_FIELD_MAX));
        rt_buf_puts(b, ",\"reason\":");
        rt_json_put_str(b, reason, strlen(reason));
        rt_buf_putc(b, '}');
    }
    if (req->errs.dropped > 0) {
        char more[64];
        int k = snprintf(more, sizeof more, "%u more errors not shown", req->errs.dropped);
        if (n)
            rt_buf_putc(b, ',');
        rt_buf_puts(b, "{\"field\":\"\",\"reason\":");
        rt_json_put_str(b, more, k > 0 ? (size_t)k : 0);
        rt_buf_putc(b, '}');
    }
    rt_buf_puts(b, "],\"request_id\":");
    rt_json_put_str(b, req->request_id.ptr ? req->request_id.ptr : "", req->request_id.len);
    rt_buf_puts(b, "}}");
}

/* ---------------------------------------------------------------- event loop */

static void wake(struct rt_loop *l)
{
    uint64_t one = 1;
    if (l->evfd >= 0)
        (void)!write(l->evfd, &one, sizeof one);
}

/* The loop of one daemon. MHD_get_timeout() is 0 while MHD still has ready
 * connections of its own (edge-triggered events it has not finished), so
 * nothing is left waiting for the next event; the cap keeps the loop
 * noticing state changes even if a wake-up were lost. */
static void on_wake(void *ctx, uint32_t events)
{
    rt_loop *l = ctx;
    (void)events;
    uint64_t v;
    (void)!read(l->evfd, &v, sizeof v);
}

static void on_mhd(void *ctx, uint32_t events)
{
    (void)ctx;
    (void)events; /* MHD_run, once per turn, serves it */
}

static void *loop_main(void *arg)
{
    rt_loop *l = arg;
    rt_server *s = l->srv;
    struct epoll_event ev[16];
    rt_sched_init(&l->sched, l->epfd);
    for (;;) {
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == ST_STOP)
            break;
        if (st == ST_DRAIN && !atomic_load_explicit(&l->quiesced, memory_order_relaxed)) {
            /* External polling: MHD gives the listen socket back to us;
             * closing it makes new connections to this daemon refused. */
            MHD_socket fd = MHD_quiesce_daemon(l->d);
            if (fd != MHD_INVALID_SOCKET)
                close(fd);
            atomic_store_explicit(&l->quiesced, true, memory_order_release);
        }
        /* Coroutines made ready run now, and the hooks flush what the
         * last MHD_run's handlers queued (database queries). */
        int timeout = rt_sched_turn(&l->sched, LOOP_MAX_WAIT_MS);
        MHD_UNSIGNED_LONG_LONG mt;
        if (l->resumed)
            timeout = 0;
        else if (MHD_get_timeout(l->d, &mt) == MHD_YES && mt < (MHD_UNSIGNED_LONG_LONG)timeout)
            timeout = (int)mt;
        int n = epoll_wait(l->epfd, ev, 16, timeout);
        if (n < 0 && errno != EINTR) {
            rt_logf(RT_LOG_ERROR, RT_STR_NULL, "epoll_wait: %s", strerror(errno));
            struct timespec pause = { 0, 10 * 1000000L }; /* never spin hot */
            nanosleep(&pause, NULL);
        }
        for (int i = 0; i < n; i++)
            rt_sched_dispatch(&l->sched, ev[i].data.ptr, ev[i].events);
        /* what those events completed answers in this MHD_run */
        (void)rt_sched_turn(&l->sched, 0);
        l->resumed = false;
        resume_done(l);
        MHD_run(l->d);
        rt_log_flush();
    }
    /* Parked coroutines are failed by their owners' exit hooks (database:
     * unavailable) and run to their end; MHD refuses to stop with suspended
     * connections, so any left parked have theirs resumed unanswered. */
    rt_sched_unwatch(&l->sched, &l->w_mhd); /* nobody runs MHD now: do not spin on it */
    unsigned left = rt_sched_exit(&l->sched, CO_EXIT_MS);
    if (left)
        rt_logf(RT_LOG_WARN, RT_STR_NULL, "%u requests still waiting when the loop ended", left);
    for (rt_job *j = l->co_live; j; j = j->co_next)
        MHD_resume_connection(j->conn);
    rt_log_flush();
    return NULL;
}

/* ---------------------------------------------------------------- start / stop */

typedef struct bind_addr {
    struct sockaddr_storage ss;
    socklen_t len;
    bool v6;
} bind_addr;

static bool parse_addr(const char *s, uint16_t port, bind_addr *out)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *a4 = (struct sockaddr_in *)&out->ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&out->ss;
    if (inet_pton(AF_INET, s, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(port);
        out->len = sizeof *a4;
        return true;
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET6, s, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(port);
        out->len = sizeof *a6;
        out->v6 = true;
        return true;
    }
    return false;
}

static void set_port(bind_addr *a, uint16_t port)
{
    if (a->v6)
        ((struct sockaddr_in6 *)&a->ss)->sin6_port = htons(port);
    else
        ((struct sockaddr_in *)&a->ss)->sin_port = htons(port);
}

/* SO_REUSEPORT would let us silently share a port with another running
 * server of the same user (each getting a share of the traffic). A plain
 * bind fails while anyone listens there, so try one first. */
static int probe_port_free(const bind_addr *a)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return errno;
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    int rc = bind(fd, (const struct sockaddr *)&a->ss, a->len) == 0 ? 0 : errno;
    close(fd);
    return rc;
}

static struct MHD_Daemon *start_daemon(rt_server *s, rt_loop *l, bind_addr *a)
{
    unsigned per = s->o.max_conns / s->n;
    if (per < 1)
        per = 1;
    unsigned flags = MHD_USE_EPOLL | MHD_USE_TURBO | MHD_USE_ERROR_LOG;
    if (s->o.workers > 0 || s->o.coroutines)
        flags |= MHD_ALLOW_SUSPEND_RESUME;
    if (a->v6)
        flags |= MHD_USE_IPv6;
    return MHD_start_daemon(
        flags, 0, NULL, NULL, on_access, l,
        /* first, so MHD logs nothing on its own while parsing the rest */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, l,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a->ss,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)1,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned int)(per > 1024 ? per : 1024),
        MHD_OPTION_CONNECTION_LIMIT, (unsigned int)per,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->o.conn_timeout_s,
        /* MHD zeroes a connection's whole memory pool between keep-alive
         * requests: at the default 32 KiB that memset was 9 % of the
         * server's CPU on cached GETs, and 512 connections held 16 MiB. */
        MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        s->o.conn_memory ? s->o.conn_memory : (size_t)RT_CONN_MEMORY_DEFAULT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, l,
        MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL,
        MHD_OPTION_END);
}

static bool loop_init(rt_loop *l, rt_server *s)
{
    l->srv = s;
    pthread_mutex_init(&l->done_mu, NULL);
    rt_buf_init(&l->resp.body);
    resp_reset(&l->resp);
    l->arena = rt_arena_new(ARENA_FIRST_CHUNK);
    if (!l->arena)
        return false;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)mono_us() ^ ((uint64_t)(uintptr_t)l << 16) ^ (uint64_t)getpid();
    l->id_seed = seed;
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->evfd < 0)
        return false;
    l->w_wake = (rt_watch){ .fn = on_wake, .ctx = l, .fd = l->evfd, .events = EPOLLIN };
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->w_wake };
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) == 0;
}

static bool loop_attach(rt_loop *l)
{
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_EPOLL_FD);
    if (!di)
        return false;
    l->w_mhd = (rt_watch){ .fn = on_mhd, .ctx = l, .fd = di->epoll_fd, .events = EPOLLIN };
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->w_mhd };
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, di->epoll_fd, &ev) == 0;
}

/* Joins the threads, stops the daemons (MHD calls on_completed for
 * requests still open, which returns their contexts), frees the rest. */
static void server_free(rt_server *s)
{
    /* Workers first: they finish the handler they run, answer what is
     * still queued with 503, and push everything to the done lists. */
    pthread_mutex_lock(&s->q_mu);
    s->q_stop = true;
    pthread_cond_broadcast(&s->q_cv);
    pthread_mutex_unlock(&s->q_mu);
    for (unsigned i = 0; i < s->nworkers; i++)
        pthread_join(s->workers[i], NULL);
    atomic_store_explicit(&s->state, ST_STOP, memory_order_release);
    for (unsigned i = 0; i < s->n; i++)
        wake(&s->loops[i]);
    for (unsigned i = 0; i < s->n; i++)
        if (s->loops[i].started)
            pthread_join(s->loops[i].th, NULL);
    for (unsigned i = 0; i < s->n; i++) {
        rt_loop *l = &s->loops[i];
        /* MHD refuses to stop with suspended connections: resume them
         * (their answers are not sent; MHD closes them and recycles). */
        resume_done(l);
        if (l->d)
            MHD_stop_daemon(l->d);
        while (l->free_jobs) {
            rt_job *j = l->free_jobs;
            l->free_jobs = j->next;
            job_free(j);
        }
        pthread_mutex_destroy(&l->done_mu);
        while (l->free_ctx) {
            req_ctx *x = l->free_ctx;
            l->free_ctx = x->next;
            rt_buf_free(&x->body);
            free(x);
        }
        if (l->arena)
            rt_arena_free(l->arena);
        rt_buf_free(&l->resp.body);
        if (l->epfd >= 0)
            close(l->epfd);
        if (l->evfd >= 0)
            close(l->evfd);
    }
    free(s->loops);
    free(s->workers);
    pthread_mutex_destroy(&s->q_mu);
    pthread_cond_destroy(&s->q_cv);
    free(s);
    /* no rt_log_flush() here: it would turn the caller into a batching
     * thread (log.c); the loops flushed their own lines on the way out */
}

/* Loop threads take no asynchronous signals: those belong to main
 * (SIGTERM/SIGINT handling), and SIGPIPE is avoided by MHD itself. */
static bool start_threads(rt_server *s)
{
    sigset_t block, old;
    sigemptyset(&block);
    int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD, SIGALRM };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&block, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    bool ok = true;
    for (unsigned i = 0; i < s->n && ok; i++) {
        ok = pthread_create(&s->loops[i].th, NULL, loop_main, &s->loops[i]) == 0;
        s->loops[i].started = ok;
    }
    for (unsigned i = 0; i < s->o.workers && ok; i++) {
        ok = pthread_create(&s->workers[i], NULL, worker_main, s) == 0;
        if (ok)
            s->nworkers++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return ok;
}

rt_server *rt_server_start(const rt_server_opts *o, char *err, size_t errlen)
{
    if (!o || !o->handler || !o->bind_addr) {
        set_err(err, errlen, "missing handler or bind_addr");
        return NULL;
    }
    bind_addr a;
    if (!parse_addr(o->bind_addr, o->port, &a)) {
        set_err(err, errlen, "bind address '%s' is not an IPv4/IPv6 literal", o->bind_addr);
        return NULL;
    }
    if (o->port != 0) {
        int e = probe_port_free(&a);
        if (e != 0) {
            set_err(err, errlen, "cannot bind %s port %u: %s", o->bind_addr, (unsigned)o->port,
                    strerror(e));
            return NULL;
        }
    }
    rt_server *s = calloc(1, sizeof *s);
    unsigned n = o->threads ? o->threads : 1;
    if (!s || !(s->loops = calloc(n, sizeof *s->loops)) ||
        !(s->workers = calloc(o->workers ? o->workers : 1, sizeof *s->workers))) {
        if (s)
            free(s->loops);
        free(s);
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&s->q_mu, NULL);
    pthread_cond_init(&s->q_cv, NULL);
    s->o = *o;
    s->n = n;
    atomic_init(&s->state, ST_RUN);
    for (unsigned i = 0; i < n; i++) /* so server_free can tell what exists */
        s->loops[i].epfd = s->loops[i].evfd = -1;
    for (unsigned i = 0; i < n; i++) {
        if (!loop_init(&s->loops[i], s)) {
            set_err(err, errlen, "event loop setup failed (memory or fds)");
            goto fail;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        rt_loop *l = &s->loops[i];
        l->d = start_daemon(s, l, &a);
        if (!l->d) {
            set_err(err, errlen, "cannot listen on %s port %u (see log)", o->bind_addr,
                    (unsigned)(i ? s->port : o->port));
            goto fail;
        }
        if (i == 0) {
            /* Port 0: the others must join the port the kernel gave the first. */
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT);
            s->port = di ? di->port : o->port;
            if (s->port == 0) {
                set_err(err, errlen, "cannot read back the bound port");
                goto fail;
            }
            set_port(&a, s->port);
        }
        if (!loop_attach(l)) {
            set_err(err, errlen, "cannot watch the daemon's epoll fd");
            goto fail;
        }
    }
    if (!start_threads(s)) {
        set_err(err, errlen, "cannot create event-loop threads");
        goto fail;
    }
    return s;
fail:
    server_free(s);
    return NULL;
}

uint16_t rt_server_port(const rt_server *s)
{
    return s ? s->port : 0;
}

static bool drained(rt_server *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        rt_loop *l = &s->loops[i];
        if (!atomic_load_explicit(&l->quiesced, memory_order_acquire) ||
            atomic_load_explicit(&l->in_flight, memory_order_acquire) != 0)
            return false;
    }
    return true;
}

/*
 * Draining: each loop quiesces its daemon (on its own thread) and closes the
 * listen socket; requests in flight run to completion, their responses say
 * `Connection: close`. We stop as soon as every loop has quiesced and no
 * request is in flight - idle keep-alive connections do not hold the drain,
 * they are closed by MHD_stop_daemon - or when drain_ms has passed. A
 * handler is never interrupted: past the deadline the join still waits for
 * handler calls already running. A request whose headers had not fully
 * arrived when its daemon quiesced was not in flight yet; it is dropped.
 */
void rt_server_stop(rt_server *s, unsigned drain_ms)
{
    if (!s)
        return;
    atomic_store_explicit(&s->state, ST_DRAIN, memory_order_release);
    for (unsigned i = 0; i < s->n; i++)
        wake(&s->loops[i]);
    int64_t deadline = mono_us() + (int64_t)drain_ms * 1000;
    while (!drained(s) && mono_us() < deadline) {
        struct timespec pause = { 0, DRAIN_POLL_NS };
        nanosleep(&pause, NULL);
    }
    server_free(s);
}
