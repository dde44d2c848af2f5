/*
 * http_test.c - the HTTP server (src/runtime/http.c) and the logger
 * (src/runtime/log.c), end to end over loopback sockets.
 *
 * Each test starts an rt_server on 127.0.0.1 port 0 inside the test process
 * with test_handler below and talks to it with a tiny raw-socket HTTP/1.1
 * client (so the bytes on the wire - Connection headers, bodies of 204s,
 * pipelining - are what is checked, not what a client library makes of
 * them). Every wait is bounded by a deadline; nothing here can hang.
 * Logs go to a memfd, so tests can read back what the server wrote.
 */
#include "co.h"
#include "http.h"
#include "json.h"
#include "log.h"

#include <criterion/criterion.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BODY_LIMIT 4096
#define IO_TIMEOUT_MS 5000

/* ---------------------------------------------------------------- time */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---------------------------------------------------------------- test handler */

static atomic_int slow_entered;

static void put_json_str(rt_buf *b, rt_str s)
{
    rt_json_put_str(b, s.ptr ? s.ptr : "", s.len);
}

static void test_handler(rt_req *req, rt_resp *resp)
{
    rt_str p = req->path;
    if (rt_str_eq_cstr(p, "/hello")) {
        rt_buf_puts(&resp->body, "{\"hello\":\"world\"}");
        rt_resp_header(resp, "X-Test", RT_STR("yes"));
    } else if (rt_str_eq_cstr(p, "/echo")) {
        /* raw echo of the body, so tests can compare bytes */
        if (req->body)
            rt_buf_put(&resp->body, req->body, req->body_len);
        char n[32];
        int k = snprintf(n, sizeof n, "%zu", req->body_len);
        rt_str v = rt_arena_strdup(req->arena, n, (size_t)k);
        rt_resp_header(resp, "X-Body-Len", v);
        rt_resp_header(resp, "X-Media", req->media == RT_MEDIA_JSON   ? RT_STR("json")
                                        : req->media == RT_MEDIA_FORM ? RT_STR("form")
                                                                      : RT_STR("none"));
    } else if (rt_str_eq_cstr(p, "/query")) {
        bool has_name, has_flag, has_missing, has_upper;
        rt_str name = rt_req_query(req, "name", &has_name);
        rt_str flag = rt_req_query(req, "flag", &has_flag);
        rt_str upper = rt_req_query(req, "NAME", &has_upper);
        (void)rt_req_query(req, "missing", &has_missing);
        rt_str foo = rt_req_header(req, "x-foo");
        rt_str none = rt_req_header(req, "X-Absent");
        rt_buf *b = &resp->body;
        rt_buf_puts(b, "{\"name\":");
        put_json_str(b, name);
        rt_buf_puts(b, has_name ? ",\"has_name\":1" : ",\"has_name\":0");
        rt_buf_puts(b, ",\"upper\":");
        put_json_str(b, upper);
        rt_buf_puts(b, has_upper ? ",\"has_upper\":1" : ",\"has_upper\":0");
        rt_buf_puts(b, has_flag && flag.len == 0 ? ",\"flag\":1" : ",\"flag\":0");
        rt_buf_puts(b, has_missing ? ",\"missing\":1" : ",\"missing\":0");
        rt_buf_puts(b, ",\"foo\":");
        put_json_str(b, foo);
        rt_buf_puts(b, none.ptr ? ",\"none\":1}" : ",\"none\":0}");
    } else if (p.len >= 6 && memcmp(p.ptr, "/path/", 6) == 0) {
        put_json_str(&resp->body, p);
    } else if (rt_str_eq_cstr(p, "/nocontent")) {
        resp->status = 204;
        rt_buf_puts(&resp->body, "must not be sent");
    } else if (rt_str_eq_cstr(p, "/notfound")) {
        rt_errs_add(&req->errs, "/email", "must be an \"email\"");
        rt_resp_error(req, resp, RT_E_NOT_FOUND, "user not found");
    } else if (rt_str_eq_cstr(p, "/validation")) {
        for (int i = 0; i < RT_ERRS_MAX + 4; i++)
            rt_errs_add_param(&req->errs, "query.", "x", "bad");
        rt_resp_error(req, resp, rt_req_fail(req, RT_E_VALIDATION, "invalid query"), NULL);
    } else if (rt_str_eq_cstr(p, "/internal")) {
        rt_resp_error(req, resp, rt_req_fail(req, RT_E_INTERNAL, "db password is hunter2"), NULL);
    } else if (rt_str_eq_cstr(p, "/generic")) {
        rt_resp_error(req, resp, RT_E_CONFLICT, NULL);
    } else if (rt_str_eq_cstr(p, "/slow")) {
        atomic_store(&slow_entered, 1);
        rt_co_sleep_ms(300); /* a coroutine parks; a worker thread sleeps */
        rt_buf_puts(&resp->body, "{\"slow\":true}");
    } else if (rt_str_eq_cstr(p, "/big")) {
        /* 16 MiB, more than the socket buffers hold (tcp_wmem's maximum is
         * 4 MiB on Debian): the rest waits for EPOLLOUT */
        resp->content_type = "text/plain";
        for (int i = 0; i < 16 * 1024; i++) {
            char line[1024];
            memset(line, 'a' + i % 26, sizeof line);
            rt_buf_put(&resp->body, line, sizeof line);
        }
    } else if (rt_str_eq_cstr(p, "/rid")) {
        resp->content_type = "text/plain";
        rt_buf_put_str(&resp->body, req->request_id);
    } else {
        rt_resp_error(req, resp, RT_E_NOT_FOUND, NULL);
    }
}

/* ---------------------------------------------------------------- server fixture */

static int log_fd = -1;

/* Worker pool settings for start_server (0: every handler inline, as before). */
static unsigned g_workers;
static rt_blocks_fn g_blocks;
static bool g_coroutines;
static size_t g_conn_memory; /* 0: the runtime's default */
static unsigned g_conn_timeout_s; /* 0: 30 s */

static rt_server *start_server(unsigned threads)
{
    log_fd = memfd_create("http_test_log", 0);
    cr_assert(log_fd >= 0);
    rt_log_init(RT_LOG_INFO, log_fd);
    rt_server_opts o = {
        .bind_addr = "127.0.0.1",
        .port = 0,
        .threads = threads,
        .body_limit = BODY_LIMIT,
        .conn_timeout_s = g_conn_timeout_s ? g_conn_timeout_s : 30,
        .max_conns = 4096,
        .handler = test_handler,
        .app = NULL,
        .workers = g_workers,
        .blocks = g_blocks,
        .coroutines = g_coroutines,
        .conn_memory = g_conn_memory,
    };
    char err[256] = "";
    rt_server *s = rt_server_start(&o, err, sizeof err);
    cr_assert(s != NULL, "rt_server_start: %s", err);
    cr_assert(rt_server_port(s) != 0);
    return s;
}

/* Everything written to the log so far (caller frees). */
static char *read_log(size_t *len)
{
    off_t end = lseek(log_fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)end + 1);
    cr_assert(buf);
    ssize_t n = pread(log_fd, buf, (size_t)end, 0);
    cr_assert(n == end);
    *len = (size_t)n;
    return buf;
}

/* ---------------------------------------------------------------- raw HTTP client */

typedef struct client {
    int fd;
    char buf[1 << 16]; /* bytes read but not yet consumed */
    size_t len;
} client;

typedef struct response {
    int status;
    char head[8192]; /* status line + headers, NUL-terminated */
    char body[1 << 16];
    size_t body_len;
} response;

static int tcp_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static client *client_open(uint16_t port)
{
    client *c = calloc(1, sizeof *c);
    cr_assert(c);
    c->fd = tcp_connect(port);
    cr_assert(c->fd >= 0, "connect: %s", strerror(errno));
    return c;
}

static void client_close(client *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c);
}

static void send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        cr_assert(w > 0 || errno == EINTR, "send: %s", strerror(errno));
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        }
    }
}

static void send_str(client *c, const char *s)
{
    send_all(c->fd, s, strlen(s));
}

/* Reads more bytes; 0 on EOF, -1 on timeout/error, else bytes read. */
static ssize_t fill(client *c, int64_t deadline)
{
    if (c->len == sizeof c->buf)
        return -1;
    for (;;) {
        int64_t left = deadline - now_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = { .fd = c->fd, .events = POLLIN };
        int r = poll(&p, 1, (int)left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return errno == ECONNRESET ? 0 : -1;
        c->len += (size_t)n;
        return n;
    }
}

/* The value of header `name` in r->head (case-insensitive), NULL if absent.
 * *vlen gets its length. */
static const char *header(const response *r, const char *name, size_t *vlen)
{
    size_t nl = strlen(name);
    const char *line = strstr(r->head, "\r\n");
    while (line && line[2] != '\0') {
        line += 2;
        const char *eol = strstr(line, "\r\n");
        if (!eol)
            eol = line + strlen(line);
        if ((size_t)(eol - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            if (vlen)
                *vlen = (size_t)(eol - v);
            return v;
        }
        line = eol;
    }
    return NULL;
}

static bool header_is(const response *r, const char *name, const char *want)
{
    size_t n;
    const char *v = header(r, name, &n);
    return v && n == strlen(want) && memcmp(v, want, n) == 0;
}

/* Reads one response (Content-Length framed, or none for 204/304).
 * false on timeout, EOF or garbage. Leftover bytes stay for the next. */
static bool read_response(client *c, response *r, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    memset(r, 0, offsetof(response, body));
    r->body_len = 0;
    char *end;
    for (;;) {
        end = c->len ? memmem(c->buf, c->len, "\r\n\r\n", 4) : NULL;
        if (end)
            break;
        if (fill(c, deadline) <= 0)
            return false;
    }
    size_t hlen = (size_t)(end - c->buf) + 2; /* keep the last header's CRLF */
    if (hlen >= sizeof r->head)
        return false;
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = '\0';
    if (sscanf(r->head, "HTTP/1.%*d %d", &r->status) != 1)
        return false;
    size_t clen = 0;
    size_t vl;
    const char *cl = header(r, "Content-Length", &vl);
    if (cl)
        clen = strtoul(cl, NULL, 10);
    else if (r->status != 204 && r->status != 304)
        return false; /* our server always frames with Content-Length */
    size_t need = hlen + 2 + clen;
    if (clen > sizeof r->body)
        return false;
    while (c->len < need)
        if (fill(c, deadline) <= 0)
            return false;
    memcpy(r->body, c->buf + hlen + 2, clen);
    r->body_len = clen;
    r->body[clen < sizeof r->body ? clen : sizeof r->body - 1] = '\0';
    memmove(c->buf, c->buf + need, c->len - need);
    c->len -= need;
    return true;
}

/* The answer to a HEAD: its head only (no body follows, whatever
 * Content-Length says); the bytes after it stay for the next response. */
static void read_head_only(client *c, response *r)
{
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    char *end;
    while (!(c->len && (end = memmem(c->buf, c->len, "\r\n\r\n", 4))))
        cr_assert(fill(c, deadline) > 0, "no response to HEAD");
    size_t hlen = (size_t)(end - c->buf) + 2;
    cr_assert(hlen < sizeof r->head);
    memcpy(r->head, c->buf, hlen);
    r->head[hlen] = '\0';
    cr_assert(sscanf(r->head, "HTTP/1.%*d %d", &r->status) == 1, "%s", r->head);
    r->body_len = 0;
    memmove(c->buf, c->buf + hlen + 2, c->len - hlen - 2);
    c->len -= hlen + 2;
}

/* True when the server closed the connection (EOF) within timeout_ms. */
static bool closed_by_server(client *c, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;
    for (;;) {
        ssize_t n = fill(c, deadline);
        if (n == 0)
            return true;
        if (n < 0)
            return false;
    }
}

static bool body_is(const response *r, const char *want)
{
    return r->body_len == strlen(want) && memcmp(r->body, want, r->body_len) == 0;
}

/* One request on a fresh connection. */
static void roundtrip(uint16_t port, const char *req, response *r)
{
    client *c = client_open(port);
    send_str(c, req);
    cr_assert(read_response(c, r, IO_TIMEOUT_MS), "no response to: %s", req);
    client_close(c);
}

static bool is_hex16(const char *v, size_t n)
{
    if (n != 16)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f')))
            return false;
    return true;
}

static response R; /* big; one per test process is enough */

/* ---------------------------------------------------------------- basics */

Test(http, ok_with_body_and_headers, .timeout = 30)
{
    rt_server *s = start_server(1);
    roundtrip(rt_server_port(s),
              "GET /hello HTTP/1.1\r\nHost: x\r\nX-Request-ID: req-1.a_b:C\r\n\r\n", &R);
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "{\"hello\":\"world\"}"), "body: %s", R.body);
    cr_expect(header_is(&R, "Content-Type", "application/json"), "%s", R.head);
    cr_expect(header_is(&R, "X-Request-ID", "req-1.a_b:C"), "%s", R.head);
    cr_expect(header_is(&R, "X-Test", "yes"), "%s", R.head);
    cr_expect(header_is(&R, "Content-Length", "17"), "%s", R.head);
    cr_expect_null(header(&R, "Connection", NULL), "%s", R.head);
    rt_server_stop(s, 1000);

    /* one access line for it, valid JSON with the echoed id */
    size_t len;
    char *log = read_log(&len);
    char *line = strstr(log, "\"msg\":\"access\"");
    cr_assert(line, "log: %s", log);
    while (line > log && line[-1] != '\n')
        line--;
    char *eol = strchr(line, '\n');
    cr_assert(eol);
    cr_expect_eq(rt_json_validate(line, (size_t)(eol - line), 8, NULL, NULL), 0, "%.*s",
                 (int)(eol - line), line);
    cr_expect(strstr(line, "\"request_id\":\"req-1.a_b:C\",\"method\":\"GET\",\"path\":\"/hello\","
                           "\"status\":200,\"duration_us\":"),
              "%s", line);
    cr_expect(strstr(line, ",\"bytes\":17}"), "%s", line);
    free(log);
}

Test(http, request_id_generated_and_hostile_replaced, .timeout = 30)
{
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    char prev[32] = "";
    static const char *const bad[] = {
        "", /* no header at all */
        "X-Request-ID: a\"b\r\n",
        "X-Request-ID: a b\r\n",
        "X-Request-ID: <script>\r\n",
        "X-Request-ID: \xc3\xa9t\xc3\xa9\r\n",
        NULL, /* 129 chars, filled in below */
    };
    char longid[256];
    memset(longid, 'a', sizeof longid);
    memcpy(longid, "X-Request-ID: ", 14);
    memcpy(longid + 14 + 129, "\r\n", 3);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char req[512];
        snprintf(req, sizeof req, "GET /rid HTTP/1.1\r\nHost: x\r\n%s\r\n", bad[i] ? bad[i] : longid);
        roundtrip(port, req, &R);
        cr_expect_eq(R.status, 200);
        size_t n;
        const char *v = header(&R, "X-Request-ID", &n);
        cr_assert(v, "%s", R.head);
        cr_expect(is_hex16(v, n), "case %zu: id %.*s", i, (int)n, v);
        cr_expect(R.body_len == 16 && memcmp(R.body, v, 16) == 0, "handler saw %s", R.body);
        cr_expect(strncmp(prev, v, 16) != 0, "ids repeat");
        memcpy(prev, v, 16);
    }
    /* exactly 128 sane bytes are kept */
    char req[512];
    char id[129];
    memset(id, 'Z', 128);
    id[128] = '\0';
    snprintf(req, sizeof req, "GET /rid HTTP/1.1\r\nHost: x\r\nX-Request-ID: %s\r\n\r\n", id);
    roundtrip(port, req, &R);
    cr_expect(header_is(&R, "X-Request-ID", id));
    cr_expect(body_is(&R, id));
    rt_server_stop(s, 1000);

    /* nothing hostile reached the log either */
    size_t len;
    char *log = read_log(&len);
    cr_expect_null(strstr(log, "script"), "%s", log);
    free(log);
}

Test(http, keep_alive_many_requests_one_connection, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    for (int i = 0; i < 200; i++) {
        send_str(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        cr_assert(read_response(c, &R, IO_TIMEOUT_MS), "request %d", i);
        cr_assert_eq(R.status, 200);
        cr_assert_null(header(&R, "Connection", NULL), "request %d: %s", i, R.head);
    }
    /* a POST with a body keeps the connection too */
    for (int i = 0; i < 20; i++) {
        send_str(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 7\r\n\r\n{\"a\":1}");
        cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
        cr_assert_eq(R.status, 200);
        cr_assert(body_is(&R, "{\"a\":1}"));
        cr_assert_null(header(&R, "Connection", NULL), "%s", R.head);
    }
    client_close(c);
    rt_server_stop(s, 1000);
}

Test(http, pipelined_requests, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    send_str(c, "GET /path/one HTTP/1.1\r\nHost: x\r\n\r\n"
                "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: 2\r\n\r\n[]"
                "GET /path/three HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(body_is(&R, "\"/path/one\""), "%s", R.body);
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(body_is(&R, "[]"), "%s", R.body);
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(body_is(&R, "\"/path/three\""), "%s", R.body);
    client_close(c);
    rt_server_stop(s, 1000);
}

Test(http, no_content_has_no_body, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    send_str(c, "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 204);
    cr_expect_null(header(&R, "Content-Type", NULL), "%s", R.head);
    /* no stray bytes: the next response parses cleanly right after */
    send_str(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "{\"hello\":\"world\"}"));
    client_close(c);
    rt_server_stop(s, 1000);
}

/* The Date header of r as seconds since the epoch: exactly one Date line,
 * in RFC 9110's IMF-fixdate form ("Sun, 06 Nov 1994 08:49:37 GMT");
 * -1 when absent, repeated or malformed. */
static time_t date_of(const response *r)
{
    const char *first = strstr(r->head, "\r\nDate: ");
    if (!first || strstr(first + 2, "\r\nDate: "))
        return -1;
    size_t n;
    const char *v = header(r, "Date", &n);
    if (!v || n != 29 || memcmp(v + 25, " GMT", 4) != 0)
        return -1;
    char text[30];
    memcpy(text, v, 29);
    text[29] = '\0';
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end != '\0')
        return -1;
    /* strptime accepts "1" for "%d"; the fixed form has two digits */
    if (text[3] != ',' || text[4] != ' ' || text[7] != ' ' || text[11] != ' ' || text[16] != ' ')
        return -1;
    return timegm(&tm);
}

Test(http, date_header_on_every_response, .timeout = 30)
{
    rt_server *s = start_server(2);
    client *c = client_open(rt_server_port(s));
    static const char *const reqs[] = {
        "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",     /* 200 with a body */
        "GET /notfound HTTP/1.1\r\nHost: x\r\n\r\n",  /* the error envelope */
        "GET /nocontent HTTP/1.1\r\nHost: x\r\n\r\n", /* 204, no body */
        "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n",
    };
    time_t first = 0;
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        time_t before = time(NULL);
        send_str(c, reqs[i]);
        if (strncmp(reqs[i], "HEAD", 4) == 0) {
            read_head_only(c, &R);
        } else {
            cr_assert(read_response(c, &R, IO_TIMEOUT_MS), "request %zu", i);
        }
        time_t after = time(NULL);
        time_t d = date_of(&R);
        cr_expect(d != -1, "request %zu: no single well-formed Date: %s", i, R.head);
        cr_expect(d >= before && d <= after, "request %zu: Date %lld outside [%lld, %lld]: %s", i,
                  (long long)d, (long long)before, (long long)after, R.head);
        if (i == 0)
            first = d;
    }
    /* it follows the clock: a request more than a second later has a later Date */
    sleep_ms(1100);
    send_str(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    time_t later = date_of(&R);
    cr_expect(later >= first + 1, "Date did not advance: %lld then %lld", (long long)first,
              (long long)later);
    client_close(c);
    rt_server_stop(s, 1000);
}

/* ---------------------------------------------------------------- bodies */

Test(http, too_large_by_content_length, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    /* Only the headers: the answer must not wait for the body. */
    send_str(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "X-Request-ID: big1\r\nContent-Length: 4097\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 413);
    cr_expect(body_is(&R, "{\"error\":{\"code\":\"PAYLOAD_TOO_LARGE\",\"message\":\"request body "
                          "too large\",\"details\":[],\"request_id\":\"big1\"}}"),
              "%s", R.body);
    client_close(c);
    /* exactly the limit is fine */
    char req[BODY_LIMIT + 512];
    int k = snprintf(req, sizeof req, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: "
                                      "application/json\r\nContent-Length: %d\r\n\r\n",
                     BODY_LIMIT);
    memset(req + k, ' ', BODY_LIMIT);
    req[k + BODY_LIMIT - 1] = '1';
    req[k + BODY_LIMIT] = '\0';
    roundtrip(rt_server_port(s), req, &R);
    cr_expect_eq(R.status, 200);
    cr_expect_eq(R.body_len, (size_t)BODY_LIMIT);
    rt_server_stop(s, 1000);
}

static void send_chunked(client *c, size_t total, size_t piece)
{
    send_str(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n\r\n");
    char chunk[2048];
    cr_assert(piece + 16 < sizeof chunk);
    for (size_t sent = 0; sent < total;) {
        size_t n = total - sent < piece ? total - sent : piece;
        int h = snprintf(chunk, sizeof chunk, "%zx\r\n", n);
        memset(chunk + h, '7', n);
        memcpy(chunk + h + n, "\r\n", 2);
        send_all(c->fd, chunk, (size_t)h + n + 2);
        sent += n;
    }
    send_str(c, "0\r\n\r\n");
}

Test(http, chunked_body, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    send_chunked(c, 3000, 1000);
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 200);
    cr_expect_eq(R.body_len, 3000);
    cr_expect(header_is(&R, "X-Body-Len", "3000"), "%s", R.head);

    /* past the limit: 413 at the end of the upload */
    send_chunked(c, 3 * BODY_LIMIT, 1000);
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 413);
    cr_expect(strstr(R.body, "\"code\":\"PAYLOAD_TOO_LARGE\""), "%s", R.body);
    client_close(c);
    rt_server_stop(s, 1000);
}

Test(http, media_type, .timeout = 30)
{
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    roundtrip(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                    "X-Request-ID: mt\r\nContent-Length: 2\r\n\r\nhi", &R);
    cr_expect_eq(R.status, 415);
    cr_expect(body_is(&R, "{\"error\":{\"code\":\"UNSUPPORTED_MEDIA_TYPE\",\"message\":\"request "
                          "body must be application/json or application/x-www-form-urlencoded\","
                          "\"details\":[],\"request_id\":\"mt\"}}"),
              "%s", R.body);
    /* no Content-Type at all */
    roundtrip(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", &R);
    cr_expect_eq(R.status, 415);
    /* look-alikes */
    roundtrip(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/jsonx\r\n"
                    "Content-Length: 2\r\n\r\n{}", &R);
    cr_expect_eq(R.status, 415);
    /* case and parameters are fine */
    roundtrip(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: Application/JSON; "
                    "charset=utf-8\r\nContent-Length: 2\r\n\r\n{}", &R);
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "{}"));
    cr_expect(header_is(&R, "X-Media", "json"), "%s", R.head);
    /* a form body is admitted too: the router decides whether the
     * operation takes one */
    roundtrip(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-"
                    "urlencoded\r\nContent-Length: 3\r\n\r\na=1", &R);
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "a=1"));
    cr_expect(header_is(&R, "X-Media", "form"), "%s", R.head);
    /* no body, no media type needed */
    roundtrip(port, "DELETE /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                    "Content-Length: 0\r\n\r\n", &R);
    cr_expect_eq(R.status, 200);
    cr_expect(header_is(&R, "X-Body-Len", "0"), "%s", R.head);
    rt_server_stop(s, 1000);
}

Test(http, client_disconnects_mid_body, .timeout = 30)
{
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    for (int i = 0; i < 20; i++) {
        client *c = client_open(port);
        send_str(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    "Content-Length: 1000\r\n\r\n[1,2,3,");
        if (i % 2) { /* sometimes after the server has seen part of it */
            sleep_ms(5);
        }
        client_close(c);
        c = client_open(port);
        send_chunked(c, 0, 1); /* header only, then vanish */
        client_close(c);
    }
    roundtrip(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    cr_expect_eq(R.status, 200);
    rt_server_stop(s, 1000);
}

/* ---------------------------------------------------------------- request API */

Test(http, query_and_headers, .timeout = 30)
{
    rt_server *s = start_server(1);
    roundtrip(rt_server_port(s),
              "GET /query?name=J%C3%B6rg+X&NAME=other&flag HTTP/1.1\r\nHost: x\r\n"
              "X-FOO: bar baz\r\n\r\n", &R);
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "{\"name\":\"J\xc3\xb6rg X\",\"has_name\":1,\"upper\":\"other\","
                          "\"has_upper\":1,\"flag\":1,\"missing\":0,\"foo\":\"bar baz\","
                          "\"none\":0}"),
              "%s", R.body);
    roundtrip(rt_server_port(s), "GET /query?NAME=only-upper HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    cr_expect(strstr(R.body, "\"name\":\"\",\"has_name\":0,\"upper\":\"only-upper\""), "%s",
              R.body);
    rt_server_stop(s, 1000);
}

/* A request head with one header of n bytes; the status it gets. */
static int head_of(uint16_t port, size_t n)
{
    static char req[32768];
    int k = snprintf(req, sizeof req, "GET /query HTTP/1.1\r\nHost: x\r\nX-Foo: ");
    cr_assert(n + (size_t)k + 8 < sizeof req);
    memset(req + k, 'a', n);
    memcpy(req + k + n, "\r\n\r\n", 5);
    roundtrip(port, req, &R);
    return R.status;
}

/* The connection memory bounds the request head: about 7 KiB of headers by
 * default (431 in the envelope beyond), more when configured. */
Test(http, request_head_limit_follows_conn_memory, .timeout = 30)
{
    rt_server *s = start_server(1);
    cr_expect_eq(head_of(rt_server_port(s), 6000), 200);
    cr_expect(strstr(R.body, "\"foo\":\"aaaa"), "the header reached the handler");
    cr_expect_eq(head_of(rt_server_port(s), 12000), 431);
    rt_server_stop(s, 1000);

    g_conn_memory = 16384;
    s = start_server(1);
    cr_expect_eq(head_of(rt_server_port(s), 12000), 200);
    cr_expect_eq(head_of(rt_server_port(s), 20000), 431);
    rt_server_stop(s, 1000);
    g_conn_memory = 0;
}

Test(http, path_is_percent_decoded, .timeout = 30)
{
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    roundtrip(port, "GET /path/a%20b%2Fc%7e?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "\"/path/a b/c~\""), "%s", R.body);
    /* %00 would cut the C string the handler gets; it stays encoded */
    roundtrip(port, "GET /path/x%00y HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    cr_expect(body_is(&R, "\"/path/x%00y\""), "%s", R.body);
    /* malformed escapes stay as they are */
    roundtrip(port, "GET /path/%zz%4 HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    cr_expect(body_is(&R, "\"/path/%zz%4\""), "%s", R.body);
    /* a hostile path cannot break the access log */
    roundtrip(port, "GET /path/%22%0A%7B%5C%ff HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    cr_expect_eq(R.status, 200);
    rt_server_stop(s, 1000);
    size_t len;
    char *log = read_log(&len);
    int lines = 0;
    for (char *p = log; *p;) {
        char *eol = strchr(p, '\n');
        cr_assert(eol, "unterminated log line");
        cr_expect_eq(rt_json_validate(p, (size_t)(eol - p), 8, NULL, NULL), 0, "%.*s",
                     (int)(eol - p), p);
        lines++;
        p = eol + 1;
    }
    cr_expect_eq(lines, 4, "%s", log);
    cr_expect(strstr(log, "\"path\":\"/path/\\\"\\n{\\\\\\ufffd\""), "%s", log);
    free(log);
}

/* ---------------------------------------------------------------- protocol */

/* What the runtime refuses before any handler runs comes in the envelope
 * too, and the connection is closed after it: what follows a malformed
 * request cannot be trusted to be the next request. */
Test(http, protocol_errors_get_the_envelope_and_a_close, .timeout = 60)
{
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    static char many[8000];
    char *w = many + sprintf(many, "GET /hello HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 64; i++)
        w += sprintf(w, "X-H%d: v\r\n", i);
    strcpy(w, "\r\n");
    const struct {
        const char *req;
        int status;
    } cases[] = {
        { "GARBAGE\r\n\r\n", 400 },
        { "GET /hello HTTP/1.1\r\n\r\n", 400 },                        /* no Host */
        { "GET /hello HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400 },  /* two */
        { "GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", 505 },
        { "GET /hello HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", 400 },
        { "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n folded\r\n\r\n", 400 },
        { "GET /hello HTTP/1.1\r\nHost: x\r\nX-A: a\001b\r\n\r\n", 400 },
        { "GET http://x/hello HTTP/1.1\r\nHost: x\r\n\r\n", 400 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}", 400 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: 2\r\nContent-Length: 2\r\n\r\n{}", 400 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Content-Length: +2\r\n\r\n{}", 400 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: gzip, chunked\r\n\r\n", 400 },
        { "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
          "Transfer-Encoding: chunked\r\n\r\nzz\r\n", 400 },
        { many, 431 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        client *c = client_open(port);
        send_str(c, cases[i].req);
        cr_assert(read_response(c, &R, IO_TIMEOUT_MS), "no answer to case %zu", i);
        cr_expect_eq(R.status, cases[i].status, "case %zu: %s", i, R.head);
        cr_expect(header_is(&R, "Content-Type", "application/json"), "case %zu: %s", i, R.head);
        cr_expect(strstr(R.body, "{\"error\":{\"code\":\"BAD_REQUEST\"") == R.body, "case %zu: %s",
                  i, R.body);
        cr_expect(header_is(&R, "Connection", "close"), "case %zu: %s", i, R.head);
        cr_expect(closed_by_server(c, IO_TIMEOUT_MS), "case %zu: still open", i);
        client_close(c);
    }
    /* a refusal after a HEAD on the same connection still has its body */
    client *c = client_open(port);
    send_str(c, "HEAD /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    read_head_only(c, &R);
    send_str(c, "GARBAGE\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 400);
    cr_expect(strstr(R.body, "\"code\":\"BAD_REQUEST\""), "%s", R.body);
    client_close(c);
    roundtrip(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    cr_expect_eq(R.status, 200, "the server still serves");
    rt_server_stop(s, 1000);
}

Test(http, expect_100_continue, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    send_str(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Expect: 100-continue\r\nContent-Length: 7\r\n\r\n");
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    int64_t deadline = now_ms() + IO_TIMEOUT_MS;
    while (c->len < sizeof cont - 1)
        cr_assert(fill(c, deadline) > 0, "no 100 Continue before the body");
    cr_assert(memcmp(c->buf, cont, sizeof cont - 1) == 0, "%.*s", (int)c->len, c->buf);
    memmove(c->buf, c->buf + sizeof cont - 1, c->len - (sizeof cont - 1));
    c->len -= sizeof cont - 1;
    send_str(c, "{\"a\":1}");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "{\"a\":1}"), "%s", R.body);
    /* a refusal comes instead of the 100: the body is never asked for */
    send_str(c, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
                "Expect: 100-continue\r\nContent-Length: 7\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 415);
    client_close(c);
    rt_server_stop(s, 1000);
}

Test(http, http10_closes_unless_asked_to_keep_alive, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    send_str(c, "GET /hello HTTP/1.0\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 200);
    cr_expect(header_is(&R, "Connection", "close"), "%s", R.head);
    cr_expect(closed_by_server(c, IO_TIMEOUT_MS));
    client_close(c);
    c = client_open(rt_server_port(s));
    for (int i = 0; i < 3; i++) {
        send_str(c, "GET /hello HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n");
        cr_assert(read_response(c, &R, IO_TIMEOUT_MS), "request %d", i);
        cr_expect_eq(R.status, 200);
        cr_expect(header_is(&R, "Connection", "keep-alive"), "%s", R.head);
    }
    /* HTTP/1.1 asking to close */
    send_str(c, "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(header_is(&R, "Connection", "close"), "%s", R.head);
    cr_expect(closed_by_server(c, IO_TIMEOUT_MS));
    client_close(c);
    rt_server_stop(s, 1000);
}

/* A request that trickles in a byte at a time is still one request. */
Test(http, request_one_byte_at_a_time, .timeout = 30)
{
    rt_server *s = start_server(1);
    client *c = client_open(rt_server_port(s));
    const char *req = "POST /echo?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      "Transfer-Encoding: chunked\r\n\r\n3\r\n{\"a\r\n4\r\n\":2}\r\n0\r\n\r\n"
                      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    for (const char *p = req; *p; p++) {
        send_all(c->fd, p, 1);
        if ((p - req) % 16 == 0)
            sleep_ms(1); /* let some bytes arrive alone */
    }
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 200);
    cr_expect(body_is(&R, "{\"a\":2}"), "%s", R.body);
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(body_is(&R, "{\"hello\":\"world\"}"), "%s", R.body);
    client_close(c);
    rt_server_stop(s, 1000);
}

/* A response larger than the socket takes is finished on EPOLLOUT while
 * the loop serves others; the bytes arrive whole and in order. */
Test(http, large_response_to_a_slow_reader, .timeout = 60)
{
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    client *c = client_open(port);
    send_str(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    sleep_ms(200);
    roundtrip(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &R); /* not blocked */
    cr_expect_eq(R.status, 200);
    /* the head, then 16 MiB read slowly at first */
    int64_t deadline = now_ms() + 30000;
    char *end = NULL;
    while (!(end = memmem(c->buf, c->len, "\r\n\r\n", 4)))
        cr_assert(fill(c, deadline) > 0);
    size_t hl = (size_t)(end - c->buf) + 4;
    cr_assert(memmem(c->buf, hl, "Content-Length: 16777216\r\n", 26), "%.*s", (int)hl, c->buf);
    size_t got = 0, at = hl;
    bool order = true;
    int reads = 0;
    for (;;) {
        for (; at < c->len && got < 16777216; at++, got++)
            order &= c->buf[at] == (char)('a' + (got / 1024) % 26);
        if (got == 16777216)
            break;
        memmove(c->buf, c->buf + at, c->len - at);
        c->len -= at;
        at = 0;
        if (++reads < 50)
            sleep_ms(2);
        cr_assert(fill(c, deadline) > 0, "stalled at %zu bytes", got);
    }
    cr_expect(order, "the body's bytes came out of order");
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS), "the pipelined request after it");
    cr_expect(body_is(&R, "{\"hello\":\"world\"}"), "%s", R.body);
    client_close(c);
    rt_server_stop(s, 1000);
}

Test(http, idle_and_slow_connections_time_out, .timeout = 30)
{
    g_conn_timeout_s = 1;
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    client *idle = client_open(port);
    client *slow = client_open(port);
    client *used = client_open(port);
    send_str(slow, "GET /hello HTTP/1.1\r\nHo");
    send_str(used, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(used, &R, IO_TIMEOUT_MS));
    int64_t t0 = now_ms();
    /* a head that keeps trickling in still has to be complete in time */
    client *trickle = client_open(port);
    send_str(trickle, "GET /hello HTTP/1.1\r\n");
    bool cut = false;
    for (int i = 0; i < 20 && !cut; i++) {
        sleep_ms(200);
        cut = send(trickle->fd, "X-A: b\r\n", 8, MSG_NOSIGNAL) < 0;
    }
    cr_expect(cut || closed_by_server(trickle, 100), "a trickling head kept for 4 s");
    client_close(trickle);
    cr_expect(closed_by_server(idle, 4000), "idle connection kept");
    cr_expect(closed_by_server(slow, 4000), "half-sent head kept");
    cr_expect(closed_by_server(used, 4000), "idle keep-alive connection kept");
    cr_expect(now_ms() - t0 >= 500, "closed too early");
    client_close(idle);
    client_close(slow);
    client_close(used);
    rt_server_stop(s, 1000);
    g_conn_timeout_s = 0;
}

/* ---------------------------------------------------------------- error envelope */

Test(http, error_envelope, .timeout = 30)
{
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    roundtrip(port, "GET /notfound HTTP/1.1\r\nHost: x\r\nX-Request-ID: abc-123\r\n\r\n", &R);
    cr_expect_eq(R.status, 404);
    cr_expect(header_is(&R, "Content-Type", "application/json"));
    cr_expect(body_is(&R, "{\"error\":{\"code\":\"NOT_FOUND\",\"message\":\"user not found\","
                          "\"details\":[{\"field\":\"/email\",\"reason\":\"must be an "
                          "\\\"email\\\"\"}],\"request_id\":\"abc-123\"}}"),
              "%s", R.body);
    cr_expect_eq(rt_json_validate(R.body, R.body_len, 8, NULL, NULL), 0);

    /* err_msg via rt_req_fail; more errors than fit: one summary detail */
    roundtrip(port, "GET /validation HTTP/1.1\r\nHost: x\r\nX-Request-ID: v\r\n\r\n", &R);
    cr_expect_eq(R.status, 400);
    cr_expect_eq(rt_json_validate(R.body, R.body_len, 8, NULL, NULL), 0);
    cr_expect(strncmp(R.body, "{\"error\":{\"code\":\"VALIDATION_ERROR\",\"message\":\"invalid "
                              "query\",\"details\":[{\"field\":\"query.x\",\"reason\":\"bad\"},",
                      80) == 0,
              "%s", R.body);
    cr_expect(strstr(R.body, "{\"field\":\"query.x\",\"reason\":\"bad\"},{\"field\":\"\","
                             "\"reason\":\"4 more errors not shown\"}],\"request_id\":\"v\"}}"),
              "%s", R.body);

    /* internal causes never reach the client, but do reach the log */
    roundtrip(port, "GET /internal HTTP/1.1\r\nHost: x\r\nX-Request-ID: i\r\n\r\n", &R);
    cr_expect_eq(R.status, 500);
    cr_expect(body_is(&R, "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"internal error\","
                          "\"details\":[],\"request_id\":\"i\"}}"),
              "%s", R.body);

    /* generic message for a status */
    roundtrip(port, "GET /generic HTTP/1.1\r\nHost: x\r\nX-Request-ID: g\r\n\r\n", &R);
    cr_expect_eq(R.status, 409);
    cr_expect(body_is(&R, "{\"error\":{\"code\":\"CONFLICT\",\"message\":\"conflict\","
                          "\"details\":[],\"request_id\":\"g\"}}"),
              "%s", R.body);
    rt_server_stop(s, 1000);

    size_t len;
    char *log = read_log(&len);
    cr_expect(strstr(log, "\"level\":\"error\",\"request_id\":\"i\",\"msg\":\"internal error: "
                          "db password is hunter2\""),
              "%s", log);
    free(log);
}

/* ---------------------------------------------------------------- load */

static void raise_nofile(void)
{
    struct rlimit rl;
    cr_assert(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    if (rl.rlim_cur < 4096 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max < 4096 ? rl.rlim_max : 4096;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    cr_assert(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    cr_assert(rl.rlim_cur >= 1200, "need >= 1200 fds, have %lu", (unsigned long)rl.rlim_cur);
}

#define LOAD_CONNS 512

typedef struct lconn {
    int fd;
    char buf[512];
    size_t len;
    bool done;
} lconn;

/* Every connection sends one request at once; all must be answered before
 * the deadline. A response here is small: headers + 17 bytes. */
static int load_round(lconn *cs, int n, int64_t deadline, int *failed)
{
    static const char req[] = "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < n; i++) {
        cs[i].len = 0;
        cs[i].done = false;
        send_all(cs[i].fd, req, sizeof req - 1);
    }
    int done = 0;
    *failed = 0;
    struct pollfd *pf = calloc((size_t)n, sizeof *pf);
    int *idx = calloc((size_t)n, sizeof *idx);
    cr_assert(pf && idx);
    while (done + *failed < n && now_ms() < deadline) {
        int k = 0;
        for (int i = 0; i < n; i++) {
            if (cs[i].done)
                continue;
            pf[k] = (struct pollfd){ .fd = cs[i].fd, .events = POLLIN };
            idx[k++] = i;
        }
        int r = poll(pf, (nfds_t)k, 100);
        if (r <= 0)
            continue;
        for (int j = 0; j < k; j++) {
            if (!(pf[j].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            lconn *c = &cs[idx[j]];
            /* no per-connection cr_assert: criterion reports every
             * assertion to its runner, which would distort the timing */
            ssize_t got = recv(c->fd, c->buf + c->len, sizeof c->buf - 1 - c->len, 0);
            if (got <= 0) {
                c->done = true; /* closed or failed: counted as unanswered */
                (*failed)++;
                continue;
            }
            c->len += (size_t)got;
            c->buf[c->len] = '\0';
            char *e = strstr(c->buf, "\r\n\r\n");
            if (e && c->len >= (size_t)(e + 4 - c->buf) + 17) {
                c->done = true;
                if (strncmp(c->buf, "HTTP/1.1 200 ", 13) == 0 &&
                    !strcasestr(c->buf, "Connection: close"))
                    done++;
                else
                    (*failed)++;
            }
        }
    }
    free(pf);
    free(idx);
    return done;
}

static void load_test(unsigned threads)
{
    raise_nofile();
    rt_server *s = start_server(threads);
    uint16_t port = rt_server_port(s);
    lconn *cs = calloc(LOAD_CONNS, sizeof *cs);
    cr_assert(cs);
    for (int i = 0; i < LOAD_CONNS; i++) {
        cs[i].fd = tcp_connect(port);
        cr_assert(cs[i].fd >= 0, "connect %d: %s", i, strerror(errno));
    }
    int failed;
    int64_t t0 = now_ms();
    int done = load_round(cs, LOAD_CONNS, t0 + 10000, &failed);
    cr_assert_eq(done, LOAD_CONNS, "round 1: %d of %d answered 200 keep-alive in 10 s, %d failed",
                 done, LOAD_CONNS, failed);
    int64_t t1 = now_ms();
    done = load_round(cs, LOAD_CONNS, t1 + 10000, &failed);
    cr_assert_eq(done, LOAD_CONNS, "round 2: %d of %d answered 200 keep-alive in 10 s, %d failed",
                 done, LOAD_CONNS, failed);
    cr_log_info("threads=%u: %d conns, round 1 %lld ms, round 2 %lld ms", threads, LOAD_CONNS,
                (long long)(t1 - t0), (long long)(now_ms() - t1));
    for (int i = 0; i < LOAD_CONNS; i++)
        close(cs[i].fd);
    free(cs);
    rt_server_stop(s, 2000);
}

Test(load, concurrent_keepalive_512_one_thread, .timeout = 60)
{
    load_test(1);
}

Test(load, concurrent_keepalive_512_two_threads, .timeout = 60)
{
    load_test(2);
}

/* ---------------------------------------------------------------- shutdown */

typedef struct slow_client {
    uint16_t port;
    int status;
    bool conn_close;
} slow_client;

static void *slow_client_main(void *arg)
{
    slow_client *sc = arg;
    client *c = client_open(sc->port);
    send_str(c, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n");
    /* One response per thread: several slow clients run at once. */
    response *r = malloc(sizeof *r);
    if (r && read_response(c, r, IO_TIMEOUT_MS)) {
        sc->status = r->status;
        sc->conn_close = header_is(r, "Connection", "close");
    }
    free(r);
    client_close(c);
    return NULL;
}

/* A client thread sending /slow; returns once the handler has it. */
static void start_slow_client(slow_client *sc, pthread_t *th)
{
    atomic_store(&slow_entered, 0);
    cr_assert(pthread_create(th, NULL, slow_client_main, sc) == 0);
    int64_t t0 = now_ms();
    while (!atomic_load(&slow_entered) && now_ms() - t0 < 5000)
        sleep_ms(1);
    cr_assert(atomic_load(&slow_entered), "slow request never reached the handler");
}

static void graceful_stop(unsigned threads)
{
    rt_server *s = start_server(threads);
    uint16_t port = rt_server_port(s);
    /* an idle keep-alive connection must not hold up the drain */
    client *idle = client_open(port);
    send_str(idle, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(idle, &R, IO_TIMEOUT_MS));

    slow_client sc = { .port = port };
    pthread_t th;
    start_slow_client(&sc, &th);

    int64_t t1 = now_ms();
    rt_server_stop(s, 5000);
    int64_t took = now_ms() - t1;
    pthread_join(th, NULL);
    cr_expect_eq(sc.status, 200, "in-flight request lost (status %d)", sc.status);
    cr_expect(sc.conn_close, "a response sent while draining should close the connection");
    cr_expect(took < 2000, "drain took %lld ms", (long long)took);

    int fd = tcp_connect(port);
    cr_expect(fd < 0 && errno == ECONNREFUSED, "new connection not refused after stop");
    if (fd >= 0)
        close(fd);
    cr_expect(closed_by_server(idle, 1000), "idle connection left open");
    client_close(idle);
}

Test(shutdown, in_flight_request_finishes_one_thread, .timeout = 30)
{
    graceful_stop(1);
}

Test(shutdown, in_flight_request_finishes_two_threads, .timeout = 30)
{
    graceful_stop(2);
}

Test(shutdown, start_errors, .timeout = 30)
{
    rt_log_init(RT_LOG_OFF, 2);
    char err[256];
    rt_server_opts o = { .bind_addr = "not-an-ip", .threads = 1, .body_limit = 1,
                         .max_conns = 8, .handler = test_handler };
    cr_expect_null(rt_server_start(&o, err, sizeof err));
    cr_expect(strstr(err, "not-an-ip"), "%s", err);

    /* an address this host does not have: the daemon fails, cleanup runs */
    o.bind_addr = "192.0.2.1";
    o.threads = 3;
    cr_expect_null(rt_server_start(&o, err, sizeof err));
    cr_expect(strstr(err, "192.0.2.1"), "%s", err);
    o.threads = 1;

    /* a port someone already listens on is refused, not silently shared */
    o.bind_addr = "127.0.0.1";
    rt_server *s = rt_server_start(&o, err, sizeof err);
    cr_assert(s, "%s", err);
    o.port = rt_server_port(s);
    cr_expect_null(rt_server_start(&o, err, sizeof err));
    rt_server_stop(s, 0);

    /* IPv6 loopback, when the host has it */
    o.bind_addr = "::1";
    o.port = 0;
    o.threads = 2;
    s = rt_server_start(&o, err, sizeof err);
    if (!s) {
        cr_log_warn("no IPv6 loopback here (%s); IPv6 not tested", err);
        return;
    }
    int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 a6 = { .sin6_family = AF_INET6, .sin6_port = htons(rt_server_port(s)),
                               .sin6_addr = IN6ADDR_LOOPBACK_INIT };
    cr_assert(fd >= 0 && connect(fd, (struct sockaddr *)&a6, sizeof a6) == 0);
    client *c = calloc(1, sizeof *c);
    cr_assert(c);
    c->fd = fd;
    send_str(c, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 200);
    client_close(c);
    rt_server_stop(s, 0);
}

/* ------------------------------------------------- requests that wait: workers and coroutines */

/* The same guarantees hold whether a request that waits runs on the worker
 * pool or parks as a coroutine on its loop; each check below runs in both
 * modes (g_workers / g_coroutines set by the test). */

/* Only /slow and /echo "wait for a database"; everything else stays inline. */
static bool blocks_slow(const rt_req *req)
{
    return rt_str_eq_cstr(req->path, "/slow") || rt_str_eq_cstr(req->path, "/echo");
}

/* One loop: a /hello must not wait behind a /slow that is waiting. */
static void check_slow_leaves_the_loop_free(void)
{
    g_blocks = blocks_slow;
    rt_server *s = start_server(1);
    uint16_t port = rt_server_port(s);
    slow_client sc = { .port = port };
    pthread_t th;
    start_slow_client(&sc, &th);
    int64_t t1 = now_ms();
    roundtrip(port, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", &R);
    int64_t took = now_ms() - t1;
    cr_expect_eq(R.status, 200);
    cr_expect(took < 200, "/hello waited %lld ms behind /slow", (long long)took);
    pthread_join(th, NULL);
    cr_expect_eq(sc.status, 200, "slow request: status %d", sc.status);
    cr_expect(!sc.conn_close, "a deferred answer must keep the connection alive");
    rt_server_stop(s, 1000);
}

/* n slow requests (300 ms each) on one loop finish within limit_ms. */
static void check_slow_requests_overlap(int n, int64_t limit_ms)
{
    g_blocks = blocks_slow;
    rt_server *s = start_server(1);
    slow_client sc[8];
    pthread_t th[8];
    cr_assert(n <= 8);
    int64_t t0 = now_ms();
    for (int i = 0; i < n; i++) {
        sc[i] = (slow_client){ .port = rt_server_port(s) };
        cr_assert(pthread_create(&th[i], NULL, slow_client_main, &sc[i]) == 0);
    }
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    int64_t took = now_ms() - t0;
    for (int i = 0; i < n; i++)
        cr_expect_eq(sc[i].status, 200, "client %d: status %d", i, sc[i].status);
    cr_expect(took < limit_ms, "%d slow requests took %lld ms (one after the other: %d ms)", n,
              (long long)took, n * 300);
    rt_server_stop(s, 1000);
}

/* Every request waits: bodies, ids, query arguments, headers and keep-alive
 * survive the hand-off, and pipelined requests are answered in order. */
static void check_bodies_headers_and_keep_alive(void)
{
    g_blocks = NULL;
    rt_server *s = start_server(2);
    client *c = client_open(rt_server_port(s));
    for (int i = 0; i < 50; i++) {
        char req[256], body[64];
        int n = snprintf(body, sizeof body, "{\"n\":%d}", i);
        snprintf(req, sizeof req,
                 "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 "Content-Length: %d\r\nX-Request-ID: r%d\r\n\r\n%s",
                 n, i, body);
        send_str(c, req);
        cr_assert(read_response(c, &R, IO_TIMEOUT_MS), "request %d unanswered", i);
        cr_assert_eq(R.status, 200);
        cr_assert(body_is(&R, body), "request %d: %s", i, R.body);
        char rid[16];
        snprintf(rid, sizeof rid, "r%d", i);
        cr_assert(header_is(&R, "X-Request-ID", rid));
        cr_assert(!header_is(&R, "Connection", "close"), "request %d closed the connection", i);
    }
    /* one that really waits keeps its id */
    send_str(c, "GET /slow HTTP/1.1\r\nHost: x\r\nX-Request-ID: parked1\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect_eq(R.status, 200);
    cr_expect(header_is(&R, "X-Request-ID", "parked1"));
    /* query arguments and headers are read after the hand-off */
    send_str(c, "GET /query?name=a%20b HTTP/1.1\r\nHost: x\r\nX-Foo: bar\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(strstr(R.body, "\"name\":\"a b\"") && strstr(R.body, "\"foo\":\"bar\""), "%s", R.body);
    /* pipelined: answers come back in order */
    send_str(c, "GET /path/1 HTTP/1.1\r\nHost: x\r\n\r\nGET /path/2 HTTP/1.1\r\nHost: x\r\n\r\n");
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(body_is(&R, "\"/path/1\""), "%s", R.body);
    cr_assert(read_response(c, &R, IO_TIMEOUT_MS));
    cr_expect(body_is(&R, "\"/path/2\""), "%s", R.body);
    client_close(c);
    rt_server_stop(s, 1000);
    size_t len;
    char *log = read_log(&len);
    cr_expect(strstr(log, "\"request_id\":\"r49\",\"method\":\"POST\",\"path\":\"/echo\",\"status\":200"),
              "no access line for a deferred request: %s", log);
    cr_expect(strstr(log, "\"request_id\":\"parked1\",\"method\":\"GET\",\"path\":\"/slow\",\"status\":200"),
              "no access line for a request that waited: %s", log);
    free(log);
}

/* Past the drain deadline with three slow requests in: the server stops
 * promptly, every client gets 200, 503 or a closed connection, nothing
 * hangs or leaks (ASan run). Returns how many got 200. */
static int check_stop_with_waiting_requests(void)
{
    g_blocks = blocks_slow;
    rt_server *s = start_server(1);
    atomic_store(&slow_entered, 0);
    slow_client sc[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        sc[i] = (slow_client){ .port = rt_server_port(s) };
        cr_assert(pthread_create(&th[i], NULL, slow_client_main, &sc[i]) == 0);
    }
    int64_t t0 = now_ms();
    while (!atomic_load(&slow_entered) && now_ms() - t0 < 5000)
        sleep_ms(1);
    sleep_ms(50); /* let the other two arrive */
    int64_t t1 = now_ms();
    rt_server_stop(s, 0);
    int64_t took = now_ms() - t1;
    for (int i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    cr_expect(took < 1500, "stop took %lld ms", (long long)took);
    int ok = 0;
    for (int i = 0; i < 3; i++) {
        cr_expect(sc[i].status == 0 || sc[i].status == 200 || sc[i].status == 503,
                  "client %d: status %d", i, sc[i].status);
        ok += sc[i].status == 200;
    }
    return ok;
}

Test(workers, slow_request_leaves_the_loop_free, .timeout = 30)
{
    g_workers = 2;
    check_slow_leaves_the_loop_free();
}

Test(workers, slow_requests_run_in_parallel, .timeout = 30)
{
    g_workers = 4;
    check_slow_requests_overlap(4, 900);
}

Test(workers, deferred_bodies_headers_and_keep_alive, .timeout = 30)
{
    g_workers = 2;
    check_bodies_headers_and_keep_alive();
}

Test(workers, load_512_connections_all_deferred, .timeout = 60)
{
    g_workers = 4;
    g_blocks = NULL;
    load_test(2);
}

Test(workers, graceful_stop_waits_for_a_deferred_request, .timeout = 30)
{
    g_workers = 2;
    g_blocks = blocks_slow;
    graceful_stop(1);
}

Test(workers, stop_with_queued_requests, .timeout = 30)
{
    g_workers = 1;
    int ok = check_stop_with_waiting_requests();
    cr_expect(ok <= 1, "%d slow requests ran on one worker within the stop", ok);
}

/* Coroutines: no thread besides the loop, so these also show that waiting
 * requests overlap on one thread. */

Test(coroutines, a_parked_request_leaves_the_loop_free, .timeout = 30)
{
    g_coroutines = true;
    check_slow_leaves_the_loop_free();
}

Test(coroutines, parked_requests_overlap_on_one_thread, .timeout = 30)
{
    g_coroutines = true;
    check_slow_requests_overlap(8, 1500);
}

Test(coroutines, bodies_headers_and_keep_alive, .timeout = 30)
{
    g_coroutines = true;
    check_bodies_headers_and_keep_alive();
}

Test(coroutines, load_512_connections, .timeout = 60)
{
    g_coroutines = true;
    g_blocks = NULL;
    load_test(2);
}

Test(coroutines, graceful_stop_waits_for_a_parked_request, .timeout = 30)
{
    g_coroutines = true;
    g_blocks = blocks_slow;
    graceful_stop(1);
}

Test(coroutines, stop_with_parked_requests, .timeout = 30)
{
    g_coroutines = true;
    (void)check_stop_with_waiting_requests(); /* parked ones may all finish: no bound */
}

/* ---------------------------------------------------------------- log */

static char *log_contents(int fd)
{
    off_t end = lseek(fd, 0, SEEK_END);
    char *buf = calloc(1, (size_t)end + 1);
    cr_assert(buf);
    cr_assert(pread(fd, buf, (size_t)end, 0) == end);
    return buf;
}

Test(log, lines_are_json_and_escaped)
{
    int fd = memfd_create("log", 0);
    cr_assert(fd >= 0);
    rt_log_init(RT_LOG_DEBUG, fd);
    rt_logf(RT_LOG_INFO, RT_STR("r1"), "hello %d \"quoted\"\n\tnext", 42);
    rt_logf(RT_LOG_DEBUG, RT_STR_NULL, "bad utf8 \xff\xc3 ok \xc3\xa9");
    rt_log_access(RT_STR("id"), RT_STR("GET"), (rt_str){ "/a\"b\n\x01\\", 7 }, 404, 12, 34);
    char *s = log_contents(fd);
    int lines = 0;
    for (char *p = s; *p; lines++) {
        char *eol = strchr(p, '\n');
        cr_assert(eol);
        cr_expect_eq(rt_json_validate(p, (size_t)(eol - p), 4, NULL, NULL), 0, "%.*s",
                     (int)(eol - p), p);
        cr_expect_eq(strncmp(p, "{\"time\":\"", 9), 0);
        cr_expect(p[9 + 26] == 'Z' && p[9 + 10] == 'T' && p[9 + 19] == '.', "%.40s", p);
        p = eol + 1;
    }
    cr_expect_eq(lines, 3, "%s", s);
    cr_expect(strstr(s, "\",\"level\":\"info\",\"request_id\":\"r1\",\"msg\":\"hello 42 "
                        "\\\"quoted\\\"\\n\\tnext\"}\n"),
              "%s", s);
    cr_expect(strstr(s, "\"msg\":\"bad utf8 \\ufffd\\ufffd ok \xc3\xa9\"}"), "%s", s);
    cr_expect(strstr(s, ",\"level\":\"info\",\"msg\":\"access\",\"request_id\":\"id\","
                        "\"method\":\"GET\",\"path\":\"/a\\\"b\\n\\u0001\\\\\",\"status\":404,"
                        "\"duration_us\":12,\"bytes\":34}\n"),
              "%s", s);
    free(s);
}

Test(log, levels_and_long_messages)
{
    int fd = memfd_create("log", 0);
    rt_log_level lv;
    cr_expect(rt_log_level_parse("warn", &lv) && lv == RT_LOG_WARN);
    cr_expect(rt_log_level_parse("OFF", &lv) && lv == RT_LOG_OFF);
    cr_expect(!rt_log_level_parse("loud", &lv));
    rt_log_init(RT_LOG_WARN, fd);
    cr_expect(!rt_log_enabled(RT_LOG_INFO));
    cr_expect(rt_log_enabled(RT_LOG_ERROR));
    rt_logf(RT_LOG_INFO, RT_STR_NULL, "dropped");
    rt_log_access(RT_STR("x"), RT_STR("GET"), RT_STR("/"), 200, 1, 1);
    char big[10000];
    memset(big, 'q', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    rt_logf(RT_LOG_ERROR, RT_STR_NULL, "%s", big);
    char *s = log_contents(fd);
    cr_expect_null(strstr(s, "dropped"));
    cr_expect_null(strstr(s, "access"));
    char *eol = strchr(s, '\n');
    cr_assert(eol);
    cr_expect_eq(eol[1], '\0', "one line");
    cr_expect_eq(rt_json_validate(s, (size_t)(eol - s), 4, NULL, NULL), 0);
    cr_expect((size_t)(eol - s) < 2200, "long message truncated (%zu)", (size_t)(eol - s));
    free(s);
    rt_log_init(RT_LOG_OFF, fd);
    rt_logf(RT_LOG_ERROR, RT_STR_NULL, "nothing");
    s = log_contents(fd);
    cr_expect_null(strstr(s, "nothing"));
    free(s);
}

/* A thread that flushes (an event loop) batches until its next flush or a
 * warning; whole lines only, in order. */
static void *batching_thread(void *arg)
{
    int fd = *(int *)arg;
    rt_log_flush(); /* become a batching thread */
    for (int i = 0; i < 3; i++)
        rt_log_access(RT_STR("b"), RT_STR("GET"), RT_STR("/batched"), 200, i, 0);
    off_t before = lseek(fd, 0, SEEK_END);
    rt_log_flush();
    off_t after = lseek(fd, 0, SEEK_END);
    intptr_t ok = before == 0 && after > 0;
    /* many lines: overflow flushes whole lines, nothing is lost */
    for (int i = 0; i < 5000; i++)
        rt_log_access(RT_STR("b"), RT_STR("GET"), RT_STR("/many"), 200, i, 0);
    rt_logf(RT_LOG_WARN, RT_STR_NULL, "last"); /* flushes at once */
    return (void *)ok;
}

Test(log, batching_and_overflow)
{
    int fd = memfd_create("log", 0);
    rt_log_init(RT_LOG_INFO, fd);
    pthread_t th;
    void *ok;
    cr_assert(pthread_create(&th, NULL, batching_thread, &fd) == 0);
    pthread_join(th, &ok);
    cr_expect(ok != NULL, "lines were written before the flush");
    char *s = log_contents(fd);
    /* counted, not asserted per line: criterion reports every assertion */
    int lines = 0, many = 0, bad = 0;
    for (char *p = s; *p; lines++) {
        char *eol = strchr(p, '\n');
        cr_assert(eol);
        bad += rt_json_validate(p, (size_t)(eol - p), 4, NULL, NULL) != 0;
        /* memmem on the line: strstr (ASan's strlen of the rest) is quadratic */
        if (memmem(p, (size_t)(eol - p), "/many", 5))
            many++;
        p = eol + 1;
    }
    cr_expect_eq(bad, 0);
    cr_expect_eq(lines, 3 + 5000 + 1);
    cr_expect_eq(many, 5000);
    cr_expect(strstr(s, "\"msg\":\"last\"}\n") == s + strlen(s) - strlen("\"msg\":\"last\"}\n"));
    free(s);
}
