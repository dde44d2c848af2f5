/*
 * http.c - the HTTP/1.1 server: our own connections on our own epoll loops,
 * request gating (413/415), request ids, the error envelope, and the
 * hand-off to the one handler the generated router provides. The request
 * head and chunked bodies are parsed by h1.c.
 *
 * Threads. `threads` independent loops listen on the same address with
 * SO_REUSEPORT, so the kernel spreads connections between them. A loop owns
 * its listening socket and every connection it accepted; nothing of a
 * connection is touched by another thread (workers only run handlers).
 *
 * One connection (conn), as its loop sees it:
 *  - C_HEAD: bytes arrive into `in`, a buffer of conn_memory bytes taken from
 *    the loop's pool while the connection has unconsumed bytes and returned
 *    when it has none, so an idle keep-alive connection holds about 200
 *    bytes and the buffers in use stay few and warm in the cache. The head
 *    is parsed once its final empty line is in (`scan` remembers how far the
 *    search went: a slow client costs O(n), not O(n^2)); a head that does
 *    not fit the buffer gets 431.
 *  - C_BODY: Content-Length or chunked body bytes are appended to the
 *    request's body buffer (req_ctx.body); the head stays at the start of
 *    `in`, the body streams through the rest.
 *  - C_BUSY: the handler runs as a parked coroutine or on a worker; the
 *    connection reads nothing until the answer is written.
 *  - C_LINGER: a request was refused without reading its body (413, 415,
 *    400): after the answer the write side is shut and what the client still
 *    sends is read and dropped, for a bounded time and number of bytes, so
 *    the close does not turn into a reset that could destroy the answer.
 *  A response is written with one sendmsg (head + body); what the socket did
 *  not take goes to `out` and is flushed on EPOLLOUT, and no further
 *  pipelined request starts before it has gone. Sockets are registered once,
 *  edge-triggered, for in and out.
 *
 * Ownership:
 *  - The loop owns its conns, the `in` buffer pool, the req_ctx free list
 *    and the job free list. A conn that closes is unlinked at once and freed
 *    at the end of the loop turn (a later event of the same epoll batch may
 *    still name it).
 *  - A request borrows a req_ctx (parsed head, decoded query arguments, body)
 *    from its head to the end of its response. rt_req's strings point into
 *    the conn's `in` buffer (NUL-terminated in place) and into the req_ctx;
 *    both stay put until then.
 *  - rt_resp and rt_arena of inline requests belong to the loop; deferred
 *    requests (jobs) have their own. Response bytes are sent straight from
 *    them, or copied into `out`, before they are reset.
 */
#include "http.h"
#include "http_priv.h"

#include "co.h"
#include "h1.h"
#include "json.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
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
#include <sys/uio.h>
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
#define BUF_FREE_MAX 64              /* `in` buffers kept per loop */
#define CONN_FREE_MAX 256            /* recycled conns kept per loop */
#define ACCEPT_BATCH 64              /* accepts per listen event (level-triggered) */
#define QUERY_MAX 64                 /* query arguments per request; more: 400 */
#define LINGER_MS 2000               /* how long a refused body is read and dropped */
#define LINGER_BYTES (1024 * 1024)   /* ... and how much of it */
#define OUT_KEEP (64 * 1024)         /* larger `out` buffers are freed once flushed */

enum { ST_RUN, ST_DRAIN, ST_STOP };
enum { C_HEAD, C_BODY, C_BUSY, C_LINGER };

/* ---------------------------------------------------------------- types */

struct rt_loop;
struct conn;

/* A request handed to the worker pool or run as a coroutine: what the
 * handler needs that would otherwise live on the loop thread's stack or in
 * its per-thread buffers. Owned by its loop (allocated, recycled and freed
 * there); a worker holds it from the queue until it pushes it onto the
 * loop's done list. */
typedef struct rt_job {
    struct rt_job *next;
    struct rt_job *co_prev, *co_next; /* the loop's jobs whose coroutine is parked */
    struct rt_loop *loop;
    rt_co *co;            /* coroutine mode: runs the handler; kept with the job */
    bool co_parked;       /* on the loop's co_live list */
    struct conn *conn;
    rt_req req;
    rt_resp resp;
    rt_arena *arena;
    struct rt__req_priv {
        struct req_ctx *x;
    } priv;
    int64_t t0_us;
    char rid[RID_MAX + 1];
} rt_job;

typedef struct qarg {
    rt_str key, value;
    bool has_value;
} qarg;

typedef struct req_ctx {
    struct req_ctx *next; /* free-list link */
    rt_job *job;          /* set while the request is deferred */
    rt_buf body;          /* the body so far (+1 byte reserved for a NUL) */
    int64_t t0_us;        /* monotonic time the head was complete (access log) */
    rt_media media;       /* of the body, checked with the head */
    rt_status reject;     /* RT_OK, or the answer owed instead of the handler */
    const char *reject_msg;
    rt_str method, path;  /* NUL-terminated, in the conn's `in` buffer */
    h1_head head;
    unsigned nargs;
    qarg args[QUERY_MAX];
} req_ctx;

typedef struct conn {
    rt_watch w; /* fd and our callback on the loop's epoll set */
    struct rt_loop *l;
    struct conn *prev, *next; /* l's idle list, least recently active first */
    struct conn *dead_next;   /* l's list of closed conns to free */
    int64_t deadline_ms;      /* loop clock: close when reached (idle list only) */
    char *in;                 /* NULL while nothing is buffered */
    size_t in_len, scan;
    size_t req_end;           /* C_BODY: end of what belongs to this request */
    char *out;
    size_t out_len, out_off, out_cap;
    req_ctx *x;               /* the request from its head to its answer */
    uint64_t body_left;       /* C_BODY, Content-Length framing */
    h1_chunked ch;
    size_t lingered;
    uint8_t state;
    bool chunked;             /* C_BODY framing */
    bool keep;                /* keep-alive after this response */
    bool http10;
    bool head_only;           /* HEAD: no body bytes */
    bool in_idle;             /* linked on the idle list */
    bool dead;
    bool counted;             /* in l->in_flight */
} conn;

typedef struct rt_loop {
    struct rt_server *srv;
    pthread_t th;
    bool started; /* thread created (must be joined) */
    int epfd;
    int evfd;
    int lfd;      /* listening socket; -1 once closed */
    rt_resp resp;
    rt_arena *arena;
    rt_buf head;  /* response heads are formatted here */
    req_ctx *free_ctx;
    unsigned nfree;
    char *free_bufs; /* `in` buffers, linked through their first bytes */
    unsigned nfree_bufs;
    conn *free_conns;
    unsigned nfree_conns;
    conn *idle_head, *idle_tail;
    conn *dead;
    unsigned nconns, max_conns;
    size_t in_cap;
    int64_t now_ms;   /* loop clock, read once per turn */
    time_t date_sec;  /* second of `date` */
    char date[40];    /* "Date: ..., dd Mon yyyy hh:mm:ss GMT\r\n" */
    size_t date_len;
    uint64_t id_seed; /* request-id generator: seed from getrandom + counter */
    uint64_t id_ctr;
    _Atomic unsigned in_flight; /* head complete .. answer written or connection gone */
    _Atomic bool quiesced;      /* listen socket closed (draining) */
    rt_job *free_jobs;          /* loop thread only */
    unsigned nfree_jobs;
    pthread_mutex_t done_mu;    /* guards done: workers push, the loop pops */
    rt_job *done;               /* answered jobs whose connection awaits the answer */
    rt_job *co_done;            /* coroutine jobs that finished this turn */
    rt_sched sched;             /* coroutines of this loop (loop thread only) */
    rt_watch w_listen, w_wake;
    rt_job *co_live;            /* jobs whose coroutine is parked */
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

/* The request id into out (NUL-terminated): the client's X-Request-ID when
 * it is 1..RID_MAX bytes of [A-Za-z0-9._:-], else a fresh 16-hex-digit id.
 * A hostile id is never echoed or logged. x is NULL for a request whose
 * head could not be parsed. */
static rt_str request_id(rt_loop *l, const req_ctx *x, char out[RID_MAX + 1])
{
    const h1_header *h = x ? h1_find(&x->head, "X-Request-ID", 12) : NULL;
    if (h && h->value_len >= 1 && h->value_len <= RID_MAX) {
        size_t i = 0;
        while (i < h->value_len && rid_char_ok((unsigned char)h->value[i]))
            i++;
        if (i == h->value_len) {
            memcpy(out, h->value, i);
            out[i] = '\0';
            return (rt_str){ out, i };
        }
    }
    static const char hex[] = "0123456789abcdef";
    uint64_t v = mix64(l->id_seed + ++l->id_ctr * 0x9e3779b97f4a7c15ULL);
    for (int i = 15; i >= 0; i--) {
        out[i] = hex[v & 15];
        v >>= 4;
    }
    out[16] = '\0';
    return (rt_str){ out, 16 };
}

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

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

/* Whether the comma-separated list v (a Connection field) holds token tok
 * (lower case), in any case. */
static bool list_has(const char *v, size_t n, const char *tok)
{
    const size_t tl = strlen(tok);
    size_t i = 0;
    while (i < n) {
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        size_t e = j;
        while (e > i && (v[e - 1] == ' ' || v[e - 1] == '\t'))
            e--;
        if (e - i == tl) {
            size_t k = 0;
            while (k < tl && lower(v[i + k]) == tok[k])
                k++;
            if (k == tl)
                return true;
        }
        i = j;
    }
    return false;
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
    x->media = RT_MEDIA_NONE;
    x->reject = RT_OK;
    x->reject_msg = NULL;
    x->nargs = 0;
    x->head.nheaders = 0;
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

static const char *reason_phrase(int st)
{
    switch (st) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "Unknown";
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

/* The cached Date field, formatted again when the second changes. */
static void date_update(rt_loop *l)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME_COARSE, &ts);
    if (ts.tv_sec == l->date_sec && l->date_len)
        return;
    l->date_sec = ts.tv_sec;
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    l->date_len = strftime(l->date, sizeof l->date, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
}

static bool token_ok(const char *s)
{
    if (!s || !*s)
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              strchr("!#$%&'*+-.^_`|~", ch)))
            return false;
    }
    return true;
}

static bool value_ok(rt_str v)
{
    for (size_t i = 0; i < v.len; i++)
        if (v.ptr[i] == '\r' || v.ptr[i] == '\n' || v.ptr[i] == '\0')
            return false;
    return true;
}

static void put_uint(rt_buf *b, uint64_t v)
{
    char tmp[24];
    int i = (int)sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    rt_buf_put(b, tmp + i, sizeof tmp - (size_t)i);
}

/* ---------------------------------------------------------------- connections */

static char *buf_get(rt_loop *l)
{
    char *b = l->free_bufs;
    if (b) {
        memcpy(&l->free_bufs, b, sizeof(char *));
        l->nfree_bufs--;
        return b;
    }
    return malloc(l->in_cap);
}

static void buf_put(rt_loop *l, char *b)
{
    if (l->nfree_bufs >= BUF_FREE_MAX) {
        free(b);
        return;
    }
    memcpy(b, &l->free_bufs, sizeof(char *));
    l->free_bufs = b;
    l->nfree_bufs++;
}

/* The idle list: every open conn that is not busy, least recently active
 * first, so expiring is a look at its head. */
static void idle_unlink(rt_loop *l, conn *c)
{
    if (!c->in_idle)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->idle_head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->idle_tail = c->prev;
    c->prev = c->next = NULL;
    c->in_idle = false;
}

static void idle_touch(rt_loop *l, conn *c, unsigned timeout_ms)
{
    idle_unlink(l, c);
    c->deadline_ms = l->now_ms + timeout_ms;
    c->prev = l->idle_tail;
    c->next = NULL;
    if (l->idle_tail)
        l->idle_tail->next = c;
    else
        l->idle_head = c;
    l->idle_tail = c;
    c->in_idle = true;
}

static unsigned idle_ms(const rt_loop *l)
{
    unsigned s = l->srv->o.conn_timeout_s;
    return s ? s * 1000u : 24u * 3600u * 1000u;
}

static void job_put(rt_loop *l, rt_job *j);

static void request_done(rt_loop *l, conn *c)
{
    if (c->x) {
        if (c->x->job) {
            job_put(l, c->x->job);
            c->x->job = NULL;
        }
        ctx_put(l, c->x);
        c->x = NULL;
    }
    if (c->counted) {
        c->counted = false;
        atomic_fetch_sub_explicit(&l->in_flight, 1, memory_order_release);
    }
}

/* Closes now; the memory goes at the end of the turn. Never for a conn whose
 * request is with a worker or a parked coroutine (C_BUSY). */
static void conn_close(rt_loop *l, conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    request_done(l, c);
    idle_unlink(l, c);
    if (c->w.fd >= 0)
        close(c->w.fd); /* also leaves the epoll set */
    c->w.fd = -1;
    if (c->in)
        buf_put(l, c->in);
    c->in = NULL;
    free(c->out);
    c->out = NULL;
    l->nconns--;
    c->dead_next = l->dead;
    l->dead = c;
}

static void free_dead(rt_loop *l)
{
    while (l->dead) {
        conn *c = l->dead;
        l->dead = c->dead_next;
        if (l->nfree_conns < CONN_FREE_MAX) {
            c->dead_next = l->free_conns;
            l->free_conns = c;
            l->nfree_conns++;
        } else {
            free(c);
        }
    }
}

/* Keeps what sendmsg did not take of iov[0..n) (skip bytes already sent). */
static bool out_keep(conn *c, const struct iovec *iov, int n, size_t skip)
{
    size_t need = 0;
    for (int i = 0; i < n; i++)
        need += iov[i].iov_len;
    need -= skip;
    size_t have = c->out_len - c->out_off;
    if (c->out_off > 0 && have > 0)
        memmove(c->out, c->out + c->out_off, have);
    c->out_len = have;
    c->out_off = 0;
    if (have + need > c->out_cap) {
        size_t cap = c->out_cap ? c->out_cap : 4096;
        while (cap < have + need)
            cap *= 2;
        char *p = realloc(c->out, cap);
        if (!p)
            return false;
        c->out = p;
        c->out_cap = cap;
    }
    for (int i = 0; i < n; i++) {
        size_t len = iov[i].iov_len;
        const char *p = iov[i].iov_base;
        if (skip >= len) {
            skip -= len;
            continue;
        }
        memcpy(c->out + c->out_len, p + skip, len - skip);
        c->out_len += len - skip;
        skip = 0;
    }
    return true;
}

/* Writes iov[0..n) or keeps the rest for EPOLLOUT. False when the
 * connection is broken (the caller closes it). */
static bool conn_send(conn *c, const struct iovec *iov, int n)
{
    if (c->out_len > c->out_off) /* earlier bytes wait: keep the order */
        return out_keep(c, iov, n, 0);
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += iov[i].iov_len;
    if (total == 0)
        return true;
    struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)n };
    ssize_t r;
    do
        r = sendmsg(c->w.fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return false;
        r = 0;
    }
    if ((size_t)r == total)
        return true;
    return out_keep(c, iov, n, (size_t)r);
}

/* Sends what `out` holds. False when broken; true when all went or the
 * socket is full (then EPOLLOUT brings us back). */
static bool conn_flush(conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t r = send(c->w.fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN || errno == EWOULDBLOCK;
        }
        c->out_off += (size_t)r;
    }
    c->out_off = c->out_len = 0;
    if (c->out_cap > OUT_KEEP) {
        free(c->out);
        c->out = NULL;
        c->out_cap = 0;
    }
    return true;
}

static bool out_pending(const conn *c)
{
    return c->out_len > c->out_off;
}

/*
 * Formats the head of resp and sends head and body. The body goes straight
 * from resp's buffer (copied into `out` only if the socket does not take it
 * all). *sent: body bytes, for the access log. False when the connection is
 * broken.
 */
static bool write_response(rt_loop *l, conn *c, const rt_req *req, rt_resp *resp, size_t *sent)
{
    int status = resp->status;
    size_t blen = resp->body.len;
    const char *bytes = resp->body.data;
    if (resp->body.oom) {
        status = 500;
        resp->nheaders = 0;
        resp->content_type = NULL;
        bytes = oom_body;
        blen = sizeof oom_body - 1;
    }
    /* 204 and 304 carry no body and no Content-Length (RFC 9110). */
    bool no_body = status == 204 || status == 304;
    if (no_body)
        blen = 0;
    rt_buf *h = &l->head;
    rt_buf_reset(h);
    rt_buf_puts(h, "HTTP/1.1 ");
    put_uint(h, (uint64_t)status);
    rt_buf_putc(h, ' ');
    rt_buf_puts(h, reason_phrase(status));
    rt_buf_puts(h, "\r\n");
    rt_buf_put(h, l->date, l->date_len);
    const char *ct = resp->content_type;
    if (!ct && blen > 0)
        ct = "application/json";
    if (ct && value_ok((rt_str){ ct, strlen(ct) })) {
        rt_buf_puts(h, "Content-Type: ");
        rt_buf_puts(h, ct);
        rt_buf_puts(h, "\r\n");
    }
    rt_buf_puts(h, "X-Request-ID: ");
    rt_buf_put(h, req->request_id.ptr, req->request_id.len);
    rt_buf_puts(h, "\r\n");
    unsigned nh = resp->nheaders < RT_RESP_MAX_HEADERS ? resp->nheaders : RT_RESP_MAX_HEADERS;
    for (unsigned i = 0; i < nh; i++) {
        const char *name = resp->headers[i].name;
        rt_str v = resp->headers[i].value;
        if (!token_ok(name) || !value_ok(v)) {
            rt_logf(RT_LOG_WARN, req->request_id, "response header %s dropped",
                    name ? name : "(null)");
            continue;
        }
        rt_buf_puts(h, name);
        rt_buf_puts(h, ": ");
        rt_buf_put(h, v.ptr, v.len);
        rt_buf_puts(h, "\r\n");
    }
    if (!no_body) {
        rt_buf_puts(h, "Content-Length: ");
        put_uint(h, blen);
        rt_buf_puts(h, "\r\n");
    }
    /* While draining, tell keep-alive clients to go elsewhere. */
    if (atomic_load_explicit(&l->srv->state, memory_order_relaxed) != ST_RUN)
        c->keep = false;
    if (!c->keep)
        rt_buf_puts(h, "Connection: close\r\n");
    else if (c->http10)
        rt_buf_puts(h, "Connection: keep-alive\r\n");
    rt_buf_puts(h, "\r\n");
    resp->status = status;
    if (h->oom)
        return false;
    struct iovec iov[2] = { { h->data, h->len }, { (void *)bytes, blen } };
    int n = 2;
    if (c->head_only || blen == 0) {
        n = 1;
        blen = 0;
    }
    *sent = blen;
    return conn_send(c, iov, n);
}

static void conn_after_answer(rt_loop *l, conn *c);

/* Sends resp for the conn's request, writes the access line, and moves the
 * conn on (next request, flush, linger or close). */
static void answer(rt_loop *l, conn *c, const rt_req *req, rt_resp *resp, int64_t t0)
{
    size_t sent = 0;
    bool ok = write_response(l, c, req, resp, &sent);
    rt_log_access(req->request_id, req->method, req->path, resp->status, access_clock() - t0, sent);
    if (!ok) {
        conn_close(l, c);
        return;
    }
    conn_after_answer(l, c);
}

/*
 * An answer for a request the runtime refuses before any handler could see
 * it (malformed head 400, head too large 431, unsupported version 505, body
 * framing errors): the error envelope, then the connection is closed after
 * a linger, since what follows on it cannot be trusted to be a request.
 */
static void refuse(rt_loop *l, conn *c, rt_status st, int http_status, const char *msg)
{
    char rid[RID_MAX + 1];
    rt_req req;
    memset(&req, 0, sizeof req);
    req.method = c->x ? c->x->method : (rt_str){ "", 0 };
    req.path = c->x ? c->x->path : (rt_str){ "", 0 };
    req.request_id = request_id(l, c->x, rid);
    req.arena = l->arena;
    rt_errs_init(&req.errs);
    rt_resp *resp = &l->resp;
    resp_reset(resp);
    rt_resp_error(&req, resp, st, msg);
    if (http_status)
        resp->status = http_status;
    c->keep = false;
    c->state = C_LINGER;
    answer(l, c, &req, resp, access_clock());
    rt_arena_reset(l->arena);
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
static void run_handler(rt_server *s, rt_req *req, rt_resp *resp, rt_status reject,
                        const char *reject_msg)
{
    if (reject != RT_OK)
        rt_resp_error(req, resp, reject, reject_msg);
    else
        s->o.handler(req, resp);
    if (resp->status < 200 || resp->status > 599) { /* 1xx is the runtime's business */
        rt_logf(RT_LOG_ERROR, req->request_id, "handler set invalid status %d", resp->status);
        resp->nheaders = 0;
        rt_resp_error(req, resp, RT_E_INTERNAL, NULL);
    } else if (resp->body.oom) {
        rt_logf(RT_LOG_ERROR, req->request_id, "out of memory encoding the response");
        resp->nheaders = 0;
        rt_resp_error(req, resp, RT_E_INTERNAL, NULL);
    }
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
    run_handler(j->loop->srv, &j->req, &j->resp, RT_OK, NULL);
}

/* A coroutine that had parked has returned (inside the scheduler's turn):
 * its answer is written after the turn (answer_done). */
static void job_co_done(rt_co *co, void *arg)
{
    (void)co;
    rt_job *j = arg;
    rt_loop *l = j->loop;
    co_unlink(l, j);
    j->next = l->co_done;
    l->co_done = j;
}

/*
 * Hand the request to the worker pool, or start it as a coroutine: it moves
 * into a job (own arena and response buffer), the connection is C_BUSY, and
 * the loop goes on with other connections. False when there is no memory
 * for it (the caller then runs the handler inline). *now: the coroutine
 * returned without waiting, answer at once.
 */
static bool defer(rt_loop *l, conn *c, const rt_req *req, int64_t t0, bool *now)
{
    rt_server *s = l->srv;
    req_ctx *x = c->x;
    rt_job *j = job_get(l);
    if (!j)
        return false;
    j->conn = c;
    j->t0_us = t0;
    j->req = *req;
    memcpy(j->rid, req->request_id.ptr, req->request_id.len + 1);
    j->req.request_id.ptr = j->rid;
    j->req.arena = j->arena;
    j->priv.x = x;
    j->req.priv = &j->priv;
    x->job = j;
    if (s->o.coroutines) {
        if (!j->co && !(j->co = rt_co_new(CO_STACK))) {
            x->job = NULL;
            job_put(l, j);
            return false;
        }
        if (rt_co_start(j->co, job_co_main, j, job_co_done)) {
            *now = true;
            return true;
        }
        co_link(l, j);
    } else {
        pthread_mutex_lock(&s->q_mu);
        if (s->q_tail)
            s->q_tail->next = j;
        else
            s->q_head = j;
        s->q_tail = j;
        pthread_cond_signal(&s->q_cv);
        pthread_mutex_unlock(&s->q_mu);
    }
    c->state = C_BUSY;
    idle_unlink(l, c);
    return true;
}

static void conn_read(rt_loop *l, conn *c);

/* A deferred request's answer is ready (loop thread): send it and go on
 * with the connection. */
static void finish_job(rt_loop *l, rt_job *j)
{
    conn *c = j->conn;
    c->state = C_HEAD; /* conn_after_answer decides what comes next */
    answer(l, c, &j->req, &j->resp, j->t0_us);
    if (!c->dead)
        conn_read(l, c);
}

/*
 * Runs the handler (or the owed rejection) and answers, or defers the
 * request when it may block. This is the only place that starts a handler.
 */
static void respond(rt_loop *l, conn *c, rt_status reject, const char *reject_msg)
{
    rt_server *s = l->srv;
    req_ctx *x = c->x;
    struct rt__req_priv priv = { x };
    char rid[RID_MAX + 1];
    rt_req req;
    req.method = x->method;
    req.path = x->path;
    req.body = NULL;
    req.body_len = 0;
    req.media = RT_MEDIA_NONE;
    if (x->body.len > 0 && !x->body.oom) {
        x->body.data[x->body.len] = '\0'; /* room reserved in absorb(); handy for tools */
        req.body = x->body.data;
        req.body_len = x->body.len;
        req.media = x->media;
    }
    req.request_id = request_id(l, x, rid);
    req.arena = l->arena;
    req.app = s->o.app;
    rt_errs_init(&req.errs);
    req.err_msg = NULL;
    req.priv = &priv;

    if (reject == RT_OK && (s->nworkers > 0 || s->o.coroutines) &&
        (!s->o.blocks || s->o.blocks(&req))) {
        bool now = false;
        if (defer(l, c, &req, x->t0_us, &now)) {
            if (now) {
                rt_job *j = x->job;
                answer(l, c, &j->req, &j->resp, j->t0_us);
            }
            return;
        }
    }
    rt_resp *resp = &l->resp;
    resp_reset(resp);
    run_handler(s, &req, resp, reject, reject_msg);
    answer(l, c, &req, resp, x->t0_us);
    rt_arena_reset(l->arena);
}

/* ---------------------------------------------------------------- requests */

static void start_linger(rt_loop *l, conn *c)
{
    (void)shutdown(c->w.fd, SHUT_WR);
    c->state = C_LINGER;
    c->lingered = 0;
    if (c->in)
        buf_put(l, c->in);
    c->in = NULL;
    c->in_len = c->scan = 0;
    idle_touch(l, c, LINGER_MS);
}

/* After an answer has been handed to the socket: the request is over; the
 * connection lingers, closes, or goes on with its next request. */
static void conn_after_answer(rt_loop *l, conn *c)
{
    size_t end = c->x ? c->x->head.head_len : 0;
    request_done(l, c);
    idle_touch(l, c, idle_ms(l)); /* an unsent answer is held to the idle timeout too */
    if (c->state == C_LINGER) {
        if (!out_pending(c))
            start_linger(l, c);
        return;
    }
    if (!c->keep) {
        if (!out_pending(c))
            conn_close(l, c);
        return;
    }
    if (end > c->in_len)
        end = c->in_len;
    if (c->in && c->in_len > end)
        memmove(c->in, c->in + end, c->in_len - end);
    c->in_len -= end;
    c->scan = 0;
    c->state = C_HEAD;
    idle_touch(l, c, idle_ms(l));
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

typedef struct absorb_cls {
    rt_loop *l;
    req_ctx *x;
} absorb_cls;

static void absorb_piece(void *cls, const char *p, size_t k)
{
    absorb_cls *a = cls;
    absorb(a->l, a->x, p, k);
}

/* Whether the head's final empty line has arrived; remembers how far it
 * looked so every byte is examined once. */
static bool head_complete(conn *c)
{
    size_t i = c->scan;
    while (i < c->in_len) {
        const char *nl = memchr(c->in + i, '\n', c->in_len - i);
        if (!nl)
            break;
        i = (size_t)(nl - c->in);
        if ((i >= 1 && c->in[i - 1] == '\n') ||
            (i >= 2 && c->in[i - 1] == '\r' && c->in[i - 2] == '\n')) {
            c->scan = i + 1;
            return true;
        }
        i++;
    }
    c->scan = c->in_len;
    return false;
}

static bool ieq(const char *a, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lit[i])
            return false;
    return true;
}

/* Splits the query string q[0..n) into decoded, NUL-terminated arguments
 * (in place). False when there are more than QUERY_MAX. */
static bool parse_query(req_ctx *x, char *q, size_t n)
{
    size_t i = 0;
    while (i <= n) {
        size_t j = i;
        while (j < n && q[j] != '&')
            j++;
        if (j > i) {
            if (x->nargs == QUERY_MAX)
                return false;
            char *k = q + i;
            char *eq = memchr(k, '=', j - i);
            qarg *a = &x->args[x->nargs++];
            if (eq) {
                size_t kl = h1_unescape(k, (size_t)(eq - k), true);
                k[kl] = '\0';
                char *v = eq + 1;
                size_t vl = h1_unescape(v, (size_t)(q + j - v), true);
                v[vl] = '\0';
                a->key = (rt_str){ k, kl };
                a->value = (rt_str){ v, vl };
                a->has_value = true;
            } else {
                size_t kl = h1_unescape(k, j - i, true);
                k[kl] = '\0';
                a->key = (rt_str){ k, kl };
                a->value = (rt_str){ "", 0 };
                a->has_value = false;
            }
        }
        if (j < n)
            q[j] = '\0';
        i = j + 1;
    }
    return true;
}

enum { BEGIN_WAIT, BEGIN_NOBODY, BEGIN_BODY, BEGIN_DONE };

/* A complete head is in `in`: parse it, check the framing, and decide how
 * the request goes on. */
static int begin_request(rt_loop *l, conn *c)
{
    c->head_only = false; /* a refusal of this head must not inherit the last request's */
    req_ctx *x = ctx_get(l);
    if (!x) {
        conn_close(l, c);
        return BEGIN_DONE;
    }
    h1_result pr = h1_parse_head(c->in, c->in_len, &x->head);
    if (pr != H1_OK) {
        ctx_put(l, x);
        if (pr == H1_INCOMPLETE)
            return BEGIN_WAIT;
        if (pr == H1_TOO_MANY_HEADERS)
            refuse(l, c, RT_E_BAD_REQUEST, 431, "too many header fields");
        else if (pr == H1_VERSION)
            refuse(l, c, RT_E_BAD_REQUEST, 505, "HTTP version not supported");
        else
            refuse(l, c, RT_E_BAD_REQUEST, 0, "malformed request");
        return BEGIN_DONE;
    }
    c->x = x;
    c->counted = true;
    atomic_fetch_add_explicit(&l->in_flight, 1, memory_order_relaxed);
    x->t0_us = access_clock();
    h1_head *h = &x->head;

    /* C strings in place: every field ends where a separator or line end
     * was, which the parse no longer needs. */
    char *m = (char *)h->method;
    m[h->method_len] = '\0';
    x->method = (rt_str){ m, h->method_len };
    char *t = (char *)h->target;
    size_t tl = h->target_len;
    t[tl] = '\0';
    bool target_ok = t[0] == '/' || (tl == 1 && t[0] == '*');
    char *q = memchr(t, '?', tl);
    size_t pl = q ? (size_t)(q - t) : tl;
    t[pl] = '\0';
    pl = h1_unescape(t, pl, false);
    t[pl] = '\0';
    x->path = (rt_str){ t, pl };
    for (unsigned i = 0; i < h->nheaders; i++) {
        h1_header *f = &h->headers[i];
        ((char *)f->name)[f->name_len] = '\0';
        if (f->value_len == 0)
            f->value = "";
        else
            ((char *)f->value)[f->value_len] = '\0';
    }
    c->http10 = h->minor == 0;
    const h1_header *ch = h1_find(h, "Connection", 10);
    if (c->http10)
        c->keep = ch && list_has(ch->value, ch->value_len, "keep-alive");
    else
        c->keep = !(ch && list_has(ch->value, ch->value_len, "close"));
    c->head_only = x->method.len == 4 && memcmp(m, "HEAD", 4) == 0;

    if (!target_ok) {
        refuse(l, c, RT_E_BAD_REQUEST, 0, "the request target must be a path");
        return BEGIN_DONE;
    }
    if (q && !parse_query(x, q + 1, (size_t)(t + tl - (q + 1)))) {
        refuse(l, c, RT_E_BAD_REQUEST, 0, "too many query parameters");
        return BEGIN_DONE;
    }
    unsigned nhost = 0, nte = 0, ncl = 0;
    uint64_t clen = 0;
    bool cl_bad = false;
    const h1_header *te = NULL;
    for (unsigned i = 0; i < h->nheaders; i++) {
        const h1_header *f = &h->headers[i];
        if (ieq(f->name, f->name_len, "host")) {
            nhost++;
        } else if (ieq(f->name, f->name_len, "transfer-encoding")) {
            nte++;
            te = f;
        } else if (ieq(f->name, f->name_len, "content-length")) {
            uint64_t v = 0;
            if (ncl || !h1_content_length(f->value, f->value_len, &v))
                cl_bad = true; /* one field, digits only: no list to disagree on */
            clen = v;
            ncl++;
        }
    }
    if ((!c->http10 && nhost == 0) || nhost > 1) {
        refuse(l, c, RT_E_BAD_REQUEST, 0, "exactly one Host header field is required");
        return BEGIN_DONE;
    }
    if (nte) {
        if (ncl || nte > 1 || c->http10 || !ieq(te->value, te->value_len, "chunked")) {
            refuse(l, c, RT_E_BAD_REQUEST, 0,
                   "Transfer-Encoding must be chunked, once, without Content-Length");
            return BEGIN_DONE;
        }
        c->chunked = true;
    } else if (cl_bad) {
        refuse(l, c, RT_E_BAD_REQUEST, 0, "Content-Length must be one field of digits");
        return BEGIN_DONE;
    } else {
        c->chunked = false;
        if (clen == 0)
            return BEGIN_NOBODY;
    }
    /* Refusals are answered before any body byte is read; the body is then
     * read and dropped (linger) while the connection closes. */
    if (!c->chunked && clen > l->srv->o.body_limit) {
        c->keep = false;
        c->state = C_LINGER;
        respond(l, c, RT_E_PAYLOAD_TOO_LARGE, NULL);
        return BEGIN_DONE;
    }
    const h1_header *ct = h1_find(h, "Content-Type", 12);
    x->media = ct ? media_of(ct->value, ct->value_len) : RT_MEDIA_NONE;
    if (x->media == RT_MEDIA_NONE) {
        c->keep = false;
        c->state = C_LINGER;
        respond(l, c, RT_E_UNSUPPORTED_MEDIA_TYPE, NULL);
        return BEGIN_DONE;
    }
    if (h->head_len >= l->in_cap) { /* no room left for the body to pass */
        refuse(l, c, RT_E_BAD_REQUEST, 431, "request head too large");
        return BEGIN_DONE;
    }
    const h1_header *ex = h1_find(h, "Expect", 6);
    if (ex && !c->http10 && ieq(ex->value, ex->value_len, "100-continue")) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        struct iovec iov = { (void *)cont, sizeof cont - 1 };
        if (!conn_send(c, &iov, 1)) {
            conn_close(l, c);
            return BEGIN_DONE;
        }
    }
    if (c->chunked)
        h1_chunked_init(&c->ch);
    else
        c->body_left = clen;
    c->state = C_BODY;
    return BEGIN_BODY;
}

/* Moves body bytes out of `in` into the request's body. True when the body
 * is complete; false when more must arrive (or the request was refused). */
static bool body_step(rt_loop *l, conn *c)
{
    req_ctx *x = c->x;
    size_t at = x->head.head_len;
    size_t avail = c->in_len - at;
    size_t used;
    bool done;
    if (!c->chunked) {
        used = avail < c->body_left ? avail : (size_t)c->body_left;
        absorb(l, x, c->in + at, used);
        c->body_left -= used;
        done = c->body_left == 0;
    } else {
        if (avail == 0)
            return false;
        absorb_cls a = { l, x };
        h1_result r = h1_chunked_feed(&c->ch, c->in + at, avail, &used, absorb_piece, &a);
        if (r == H1_BAD) {
            refuse(l, c, RT_E_BAD_REQUEST, 0, "malformed chunked body");
            return false;
        }
        done = r == H1_OK;
    }
    if (used) {
        memmove(c->in + at, c->in + at + used, avail - used);
        c->in_len -= used;
    }
    return done;
}

/* Handles what `in` holds: heads, bodies, requests - as many as are
 * complete, one at a time (a pipelined request starts once the answer
 * before it has gone out). */
static void conn_process(rt_loop *l, conn *c)
{
    while (!c->dead && (c->state == C_HEAD || c->state == C_BODY) && !out_pending(c)) {
        if (c->state == C_HEAD) {
            if (c->in_len == 0) {
                if (c->in)
                    buf_put(l, c->in);
                c->in = NULL;
                c->scan = 0;
                return;
            }
            int b = head_complete(c) ? begin_request(l, c) : BEGIN_WAIT;
            if (b == BEGIN_WAIT) {
                if (c->in_len >= l->in_cap)
                    refuse(l, c, RT_E_BAD_REQUEST, 431, "request head too large");
                return;
            }
            if (b == BEGIN_DONE)
                continue;
            if (b == BEGIN_NOBODY) {
                respond(l, c, RT_OK, NULL);
                continue;
            }
        }
        if (!body_step(l, c))
            return;
        respond(l, c, c->x->reject, NULL);
    }
}

/* Lingering: read and drop until the client closes, LINGER_BYTES have
 * come, or the deadline passes (expire). */
static void linger_read(rt_loop *l, conn *c)
{
    char sink[4096];
    for (;;) {
        ssize_t r = recv(c->w.fd, sink, sizeof sink, MSG_DONTWAIT);
        if (r > 0) {
            c->lingered += (size_t)r;
            if (c->lingered > LINGER_BYTES) {
                conn_close(l, c);
                return;
            }
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        conn_close(l, c); /* end of stream or error */
        return;
    }
}

/* Reads what the socket has and handles it, until the socket is empty or
 * the connection must wait (busy handler, unsent answer). */
static void conn_read(rt_loop *l, conn *c)
{
    bool drained = false; /* a short read emptied the socket: edge-triggered, done */
    for (;;) {
        conn_process(l, c);
        if (c->dead)
            return;
        if (c->state == C_LINGER) {
            if (!out_pending(c))
                linger_read(l, c);
            return;
        }
        if (c->state == C_BUSY || out_pending(c) || drained)
            return;
        if (!c->in) {
            if (!(c->in = buf_get(l))) {
                conn_close(l, c);
                return;
            }
            c->in_len = c->scan = 0;
        }
        size_t room = l->in_cap - c->in_len;
        if (room == 0) /* conn_process answered 431 for a full head */
            return;
        ssize_t r = recv(c->w.fd, c->in + c->in_len, room, MSG_DONTWAIT);
        if (r > 0) {
            /* A head gets CONN_TIMEOUT_S from its first byte (or from the
             * answer before it), however slowly it trickles in; a body's
             * deadline moves with every read. */
            if (c->state != C_HEAD || c->in_len == 0)
                idle_touch(l, c, idle_ms(l));
            c->in_len += (size_t)r;
            drained = (size_t)r < room;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->in_len == 0) {
                buf_put(l, c->in);
                c->in = NULL;
            }
            return;
        }
        /* end of stream (or error): a request cut short has nobody to answer */
        conn_close(l, c);
        return;
    }
}

static void on_conn(void *ctx, uint32_t events)
{
    conn *c = ctx;
    rt_loop *l = c->l;
    if (c->dead || c->state == C_BUSY)
        return; /* the answer's writer reads on afterwards */
    bool flushed = false;
    if (out_pending(c)) {
        if (!conn_flush(c)) {
            conn_close(l, c);
            return;
        }
        if (out_pending(c))
            return;
        idle_touch(l, c, c->state == C_LINGER ? LINGER_MS : idle_ms(l));
        if (c->state == C_LINGER) {
            start_linger(l, c);
        } else if (!c->keep && !c->x) {
            conn_close(l, c);
            return;
        }
        flushed = true; /* what waited behind the answer may go on now */
    }
    if (flushed || events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
        conn_read(l, c);
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
        run_handler(s, &j->req, &j->resp, stop ? RT_E_UNAVAILABLE : RT_OK, NULL);
        rt_log_flush();
        rt_loop *l = j->loop;
        pthread_mutex_lock(&l->done_mu);
        /* Only the push onto an empty list wakes the loop: take_done takes
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

/* The answered jobs of workers and coroutines, oldest first. */
static rt_job *take_done(rt_loop *l)
{
    pthread_mutex_lock(&l->done_mu);
    rt_job *j = l->done;
    l->done = NULL;
    pthread_mutex_unlock(&l->done_mu);
    rt_job *c = l->co_done;
    l->co_done = NULL;
    rt_job *all = NULL; /* both lists are newest first: reverse into one */
    for (rt_job *lists[2] = { j, c }, **p = lists; p < lists + 2; p++) {
        while (*p) {
            rt_job *next = (*p)->next;
            (*p)->next = all;
            all = *p;
            *p = next;
        }
    }
    return all;
}

static void answer_done(rt_loop *l)
{
    rt_job *j = take_done(l);
    while (j) {
        rt_job *next = j->next;
        j->next = NULL;
        finish_job(l, j);
        j = next;
    }
}

/* ---------------------------------------------------------------- accepting */

static void on_listen(void *ctx, uint32_t events)
{
    rt_loop *l = ctx;
    (void)events;
    for (int i = 0; i < ACCEPT_BATCH && l->lfd >= 0; i++) {
        int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                rt_logf(RT_LOG_WARN, RT_STR_NULL, "accept: %s", strerror(errno));
            return;
        }
        if (l->nconns >= l->max_conns) {
            close(fd); /* over the limit: refused by closing at once */
            continue;
        }
        conn *c = l->free_conns;
        if (c) {
            l->free_conns = c->dead_next;
            l->nfree_conns--;
        } else if (!(c = malloc(sizeof *c))) {
            close(fd);
            continue;
        }
        memset(c, 0, sizeof *c);
        c->l = l;
        c->state = C_HEAD;
        c->w = (rt_watch){ .fn = on_conn, .ctx = c, .fd = fd,
                           .events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET };
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = { .events = c->w.events, .data.ptr = &c->w };
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            c->dead_next = l->free_conns;
            l->free_conns = c;
            l->nfree_conns++;
            continue;
        }
        l->nconns++;
        idle_touch(l, c, idle_ms(l));
    }
}

/* Closes the connections whose deadline has passed (idle, slow, lingering). */
static void expire(rt_loop *l)
{
    while (l->idle_head && l->idle_head->deadline_ms <= l->now_ms)
        conn_close(l, l->idle_head);
}

static void close_listener(rt_loop *l)
{
    if (l->lfd < 0)
        return;
    rt_sched_unwatch(&l->sched, &l->w_listen);
    close(l->lfd);
    l->lfd = -1;
}

/* ---------------------------------------------------------------- event loop */

static void wake(struct rt_loop *l)
{
    uint64_t one = 1;
    if (l->evfd >= 0)
        (void)!write(l->evfd, &one, sizeof one);
}

static void on_wake(void *ctx, uint32_t events)
{
    rt_loop *l = ctx;
    (void)events;
    uint64_t v;
    (void)!read(l->evfd, &v, sizeof v);
}

/* Every connection of the loop, closed at its end; requests still with a
 * worker cannot be here (the workers were joined first). */
static void close_all(rt_loop *l)
{
    /* busy conns are on no list: find them through their jobs */
    for (rt_job *j = l->co_live, *next; j; j = next) {
        next = j->co_next; /* closing frees a parked job */
        if (j->conn && !j->conn->dead)
            conn_close(l, j->conn);
    }
    for (rt_job *j = take_done(l); j;) {
        rt_job *next = j->next;
        j->next = NULL;
        if (!j->conn->dead)
            conn_close(l, j->conn);
        j = next;
    }
    while (l->idle_head)
        conn_close(l, l->idle_head);
    free_dead(l);
}

static void *loop_main(void *arg)
{
    rt_loop *l = arg;
    rt_server *s = l->srv;
    struct epoll_event ev[64];
    rt_sched_init(&l->sched, l->epfd);
    if (l->lfd >= 0 && !rt_sched_watch(&l->sched, &l->w_listen, l->lfd, EPOLLIN))
        rt_logf(RT_LOG_ERROR, RT_STR_NULL, "cannot watch the listening socket: %s",
                strerror(errno));
    for (;;) {
        int st = atomic_load_explicit(&s->state, memory_order_acquire);
        if (st == ST_STOP)
            break;
        if (st == ST_DRAIN && !atomic_load_explicit(&l->quiesced, memory_order_relaxed)) {
            close_listener(l); /* new connections to this loop are refused */
            atomic_store_explicit(&l->quiesced, true, memory_order_release);
        }
        /* Coroutines made ready run now, and the hooks flush what the
         * handlers queued (database queries). */
        int timeout = rt_sched_turn(&l->sched, LOOP_MAX_WAIT_MS);
        if (l->co_done || l->dead)
            timeout = 0;
        int n = epoll_wait(l->epfd, ev, (int)(sizeof ev / sizeof ev[0]), timeout);
        if (n < 0 && errno != EINTR) {
            rt_logf(RT_LOG_ERROR, RT_STR_NULL, "epoll_wait: %s", strerror(errno));
            struct timespec pause = { 0, 10 * 1000000L }; /* never spin hot */
            nanosleep(&pause, NULL);
        }
        l->now_ms = mono_us() / 1000;
        date_update(l);
        for (int i = 0; i < n; i++)
            rt_sched_dispatch(&l->sched, ev[i].data.ptr, ev[i].events);
        /* what those events completed answers now */
        (void)rt_sched_turn(&l->sched, 0);
        answer_done(l);
        expire(l);
        free_dead(l);
        rt_log_flush();
    }
    /* Parked coroutines are failed by their owners' exit hooks (database:
     * unavailable) and run to their end; their answers are not sent. */
    unsigned left = rt_sched_exit(&l->sched, CO_EXIT_MS);
    if (left)
        rt_logf(RT_LOG_WARN, RT_STR_NULL, "%u requests still waiting when the loop ended", left);
    close_listener(l);
    close_all(l);
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

/* A listening socket of one loop; -1 with errno on failure. */
static int listen_on(const bind_addr *a, unsigned backlog)
{
    int fd = socket(a->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
        (a->v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0) ||
        bind(fd, (const struct sockaddr *)&a->ss, a->len) != 0 ||
        listen(fd, (int)backlog) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static bool loop_init(rt_loop *l, rt_server *s)
{
    l->srv = s;
    pthread_mutex_init(&l->done_mu, NULL);
    rt_buf_init(&l->resp.body);
    rt_buf_init(&l->head);
    resp_reset(&l->resp);
    l->in_cap = s->o.conn_memory ? s->o.conn_memory : (size_t)RT_CONN_MEMORY_DEFAULT;
    l->max_conns = s->o.max_conns / s->n;
    if (l->max_conns < 1)
        l->max_conns = 1;
    l->arena = rt_arena_new(ARENA_FIRST_CHUNK);
    if (!l->arena)
        return false;
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (uint64_t)mono_us() ^ ((uint64_t)(uintptr_t)l << 16) ^ (uint64_t)getpid();
    l->id_seed = seed;
    l->now_ms = mono_us() / 1000;
    date_update(l);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->epfd < 0 || l->evfd < 0)
        return false;
    l->w_listen = (rt_watch){ .fn = on_listen, .ctx = l, .fd = -1, .events = 0 };
    l->w_wake = (rt_watch){ .fn = on_wake, .ctx = l, .fd = l->evfd, .events = EPOLLIN };
    struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &l->w_wake };
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->evfd, &ev) == 0;
}

/* Joins the threads (each closes its connections on the way out), frees
 * the rest. */
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
        if (l->lfd >= 0) /* a loop that never ran */
            close(l->lfd);
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
        while (l->free_bufs) {
            char *b = l->free_bufs;
            memcpy(&l->free_bufs, b, sizeof(char *));
            free(b);
        }
        while (l->free_conns) {
            conn *c = l->free_conns;
            l->free_conns = c->dead_next;
            free(c);
        }
        if (l->arena)
            rt_arena_free(l->arena);
        rt_buf_free(&l->resp.body);
        rt_buf_free(&l->head);
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
 * (SIGTERM/SIGINT handling); SIGPIPE cannot come (MSG_NOSIGNAL). */
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
        s->loops[i].epfd = s->loops[i].evfd = s->loops[i].lfd = -1;
    for (unsigned i = 0; i < n; i++) {
        if (!loop_init(&s->loops[i], s)) {
            set_err(err, errlen, "event loop setup failed (memory or fds)");
            goto fail;
        }
    }
    for (unsigned i = 0; i < n; i++) {
        rt_loop *l = &s->loops[i];
        unsigned backlog = l->max_conns > 1024 ? l->max_conns : 1024;
        l->lfd = listen_on(&a, backlog);
        if (l->lfd < 0) {
            set_err(err, errlen, "cannot listen on %s port %u: %s", o->bind_addr,
                    (unsigned)(i ? s->port : o->port), strerror(errno));
            goto fail;
        }
        if (i == 0) {
            /* Port 0: the others must join the port the kernel gave the first. */
            struct sockaddr_storage ss;
            socklen_t sl = sizeof ss;
            if (getsockname(l->lfd, (struct sockaddr *)&ss, &sl) != 0) {
                set_err(err, errlen, "cannot read back the bound port");
                goto fail;
            }
            s->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                     : ((struct sockaddr_in *)&ss)->sin_port);
            set_port(&a, s->port);
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
 * Draining: each loop closes its listening socket (on its own thread), so
 * new connections are refused; requests in flight run to completion, their
 * responses say `Connection: close`. We stop as soon as every loop has
 * quiesced and no request is in flight - idle keep-alive connections do not
 * hold the drain, they are closed when the loops end - or when drain_ms has
 * passed. A handler is never interrupted: past the deadline the join still
 * waits for handler calls already running. A request whose head had not
 * fully arrived was not in flight yet; it is dropped.
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

/* ---------------------------------------------------------------- request API */

rt_str rt_req_header(const rt_req *r, const char *name)
{
    if (!r || !r->priv || !r->priv->x || !name)
        return RT_STR_NULL;
    const h1_header *h = h1_find(&r->priv->x->head, name, strlen(name));
    return h ? (rt_str){ h->value, h->value_len } : RT_STR_NULL;
}

/* Query names are case-sensitive; the first occurrence wins. */
rt_str rt_req_query(const rt_req *r, const char *name, bool *present)
{
    rt_str v = { "", 0 };
    bool found = false;
    if (r && r->priv && r->priv->x && name) {
        size_t n = strlen(name);
        const req_ctx *x = r->priv->x;
        for (unsigned i = 0; i < x->nargs; i++) {
            if (x->args[i].key.len == n && memcmp(x->args[i].key.ptr, name, n) == 0) {
                v = x->args[i].value;
                found = true;
                break;
            }
        }
    }
    if (present)
        *present = found;
    return v;
}

bool rt__req_args(const rt_req *req, rt__arg_fn fn, void *cls)
{
    if (!req || !req->priv || !req->priv->x)
        return true;
    const req_ctx *x = req->priv->x;
    for (unsigned i = 0; i < x->nargs; i++)
        if (!fn(cls, x->args[i].key, x->args[i].value, x->args[i].has_value))
            return false;
    return true;
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
