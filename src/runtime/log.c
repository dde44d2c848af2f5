/*
 * log.c - structured logs: one JSON object per line.
 *
 * Lines are formatted into a buffer owned by the calling thread and leave the
 * process only through flush_locked(), which writes a whole buffer of complete
 * lines with one write(2) under a global mutex. So:
 *  - lines from different threads never interleave (a buffer holds whole
 *    lines, and only one buffer is being written at a time);
 *  - an event loop that serves many requests per turn pays one syscall per
 *    turn for all its access lines, not one per line.
 *
 * Batching: a thread batches once it has called rt_log_flush() (the event
 * loops do, after every turn), because only such a thread promises to flush
 * again. Any other thread (main, a worker that never flushes) writes each
 * line at once, so its lines are never stranded. Whatever the thread, a line
 * at WARN or above flushes the buffer at once, and a line that would not fit
 * flushes it first. A thread's buffer is flushed when the thread exits, and
 * the exiting thread's at process exit.
 *
 * Every string is JSON-escaped; invalid UTF-8 becomes U+FFFD, so a hostile
 * path or message can neither break the line nor make it invalid JSON.
 * Fields are truncated (method, path to LOG_FIELD_MAX bytes, messages to
 * LOG_MSG_MAX) so that one line always fits a buffer.
 *
 * Time: RFC 3339 UTC with microseconds. The "YYYY-MM-DDTHH:MM:SS" part is
 * cached per thread and re-formatted (gmtime_r, no locale, no lock) only when
 * the second changes; the microseconds are written by hand.
 */
#include "log.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define LOG_BUF_SIZE (64 * 1024)
#define LOG_MSG_MAX 2048   /* rt_logf message, before escaping */
#define LOG_FIELD_MAX 1024 /* method / path / request id in the access line */

typedef struct tlog {
    char *buf;     /* LOG_BUF_SIZE bytes, malloc'd on first use; NULL if that failed */
    size_t len;    /* bytes of complete lines waiting */
    bool batching; /* set by the first rt_log_flush() on this thread */
    bool registered;
    int64_t ts_sec;  /* second that ts_text was formatted for; -1 none */
    char ts_text[19]; /* "YYYY-MM-DDTHH:MM:SS", not NUL-terminated */
} tlog;

static _Thread_local tlog t_log = { .ts_sec = -1 };

static _Atomic int g_level = RT_LOG_INFO;
static _Atomic int g_fd = 2;
static pthread_mutex_t g_write_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static pthread_key_t g_key; /* only for its destructor: flush at thread exit */

static const char *const level_names[] = { "debug", "info", "warn", "error", "off" };

/* ---------------------------------------------------------------- output */

/* Writes all of p or gives up: EINTR retries, EAGAIN (someone made the fd
 * non-blocking) waits briefly, anything else drops the rest - logging must
 * never take the server down. Caller holds g_write_mu. */
static void write_all_locked(int fd, const char *p, size_t n)
{
    int waits = 0;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) && waits++ < 10) {
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            (void)poll(&pfd, 1, 100);
            continue;
        }
        return;
    }
}

static void flush_tlog(tlog *t)
{
    if (t->len == 0)
        return;
    pthread_mutex_lock(&g_write_mu);
    write_all_locked(atomic_load_explicit(&g_fd, memory_order_relaxed), t->buf, t->len);
    pthread_mutex_unlock(&g_write_mu);
    t->len = 0;
}

static void thread_exit_flush(void *p)
{
    tlog *t = p;
    flush_tlog(t);
    free(t->buf);
    t->buf = NULL;
}

static void process_exit_flush(void)
{
    flush_tlog(&t_log);
}

static void log_once(void)
{
    (void)pthread_key_create(&g_key, thread_exit_flush);
    atexit(process_exit_flush);
}

/* The calling thread's state with a buffer, or NULL when it cannot have one
 * (then the caller writes its single line from the stack). */
static tlog *tlog_get(void)
{
    tlog *t = &t_log;
    if (t->buf)
        return t;
    pthread_once(&g_once, log_once);
    t->buf = malloc(LOG_BUF_SIZE);
    if (!t->buf)
        return NULL;
    t->len = 0;
    if (!t->registered) {
        t->registered = true;
        (void)pthread_setspecific(g_key, t);
    }
    return t;
}

/* ---------------------------------------------------------------- formatting */

/*
 * A line is built with a cursor over a caller-sized region; every writer
 * checks the end, so a line can never overrun. The callers size the region
 * from the worst case (6 output bytes per input byte), so truncation inside
 * these helpers is a last resort, not the normal path.
 */
typedef struct cur {
    char *p;
    char *end;
} cur;

static void put(cur *c, const char *s, size_t n)
{
    if ((size_t)(c->end - c->p) < n)
        n = (size_t)(c->end - c->p);
    memcpy(c->p, s, n);
    c->p += n;
}

#define PUT_LIT(c, lit) put((c), (lit), sizeof(lit) - 1)

static void put_u64(cur *c, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof tmp;
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put(c, tmp + i, sizeof tmp - i);
}

static void put_i64(cur *c, int64_t v)
{
    if (v < 0) {
        PUT_LIT(c, "-");
        put_u64(c, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(c, (uint64_t)v);
    }
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is invalid
 * (overlong, surrogate, > U+10FFFF, truncated). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned char b = s[0];
    if (b >= 0xC2 && b <= 0xDF)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (b >= 0xE0 && b <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (b == 0xE0 && s[1] < 0xA0)
            return 0; /* overlong */
        if (b == 0xED && s[1] >= 0xA0)
            return 0; /* surrogate */
        return 3;
    }
    if (b >= 0xF0 && b <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        if (b == 0xF0 && s[1] < 0x90)
            return 0; /* overlong */
        if (b == 0xF4 && s[1] >= 0x90)
            return 0; /* > U+10FFFF */
        return 4;
    }
    return 0;
}

/* A quoted JSON string. Output is at most 6 * n + 2 bytes. */
static void put_esc(cur *c, const char *str, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    PUT_LIT(c, "\"");
    size_t i = 0;
    while (i < n) {
        /* Copy the longest run that needs no escaping in one go. */
        size_t j = i;
        while (j < n && s[j] >= 0x20 && s[j] < 0x80 && s[j] != '"' && s[j] != '\\')
            j++;
        put(c, str + i, j - i);
        if (j == n)
            break;
        i = j;
        unsigned char b = s[i];
        if (b >= 0x80) {
            size_t k = utf8_seq(s + i, n - i);
            if (k) {
                put(c, str + i, k);
                i += k;
            } else {
                PUT_LIT(c, "\\ufffd");
                i++;
            }
            continue;
        }
        i++;
        switch (b) {
        case '"': PUT_LIT(c, "\\\""); break;
        case '\\': PUT_LIT(c, "\\\\"); break;
        case '\n': PUT_LIT(c, "\\n"); break;
        case '\r': PUT_LIT(c, "\\r"); break;
        case '\t': PUT_LIT(c, "\\t"); break;
        case '\b': PUT_LIT(c, "\\b"); break;
        case '\f': PUT_LIT(c, "\\f"); break;
        default: {
            char u[6] = { '\\', 'u', '0', '0', hex[b >> 4], hex[b & 15] };
            put(c, u, sizeof u);
        }
        }
    }
    PUT_LIT(c, "\"");
}

/* v as exactly `width` decimal digits (zero-padded; v >= 0). */
static void put_digits(char *out, int v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (char)('0' + v % 10);
        v /= 10;
    }
}

/* "time":"...","level":"..." - the head every line shares. */
static void put_head(cur *c, tlog *t, rt_log_level level)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if ((int64_t)ts.tv_sec != t->ts_sec) {
        struct tm tm;
        time_t sec = ts.tv_sec;
        gmtime_r(&sec, &tm);
        put_digits(t->ts_text, (tm.tm_year + 1900) % 10000, 4);
        t->ts_text[4] = '-';
        put_digits(t->ts_text + 5, tm.tm_mon + 1, 2);
        t->ts_text[7] = '-';
        put_digits(t->ts_text + 8, tm.tm_mday, 2);
        t->ts_text[10] = 'T';
        put_digits(t->ts_text + 11, tm.tm_hour, 2);
        t->ts_text[13] = ':';
        put_digits(t->ts_text + 14, tm.tm_min, 2);
        t->ts_text[16] = ':';
        put_digits(t->ts_text + 17, tm.tm_sec, 2);
        t->ts_sec = (int64_t)ts.tv_sec;
    }
    char frac[8] = { '.', 0, 0, 0, 0, 0, 0, 'Z' };
    put_digits(frac + 1, (int)(ts.tv_nsec / 1000), 6);
    PUT_LIT(c, "{\"time\":\"");
    put(c, t->ts_text, 19);
    put(c, frac, sizeof frac);
    PUT_LIT(c, "\",\"level\":\"");
    put(c, level_names[level], strlen(level_names[level]));
    PUT_LIT(c, "\"");
}

static size_t clamp(size_t n, size_t max)
{
    return n < max ? n : max;
}

/*
 * Reserve `need` bytes at the end of the thread's buffer (flushing first if
 * they would not fit) and return a cursor over them. When the thread has no
 * buffer, the cursor is over `fallback` and *direct is set: the caller writes
 * that one line itself.
 */
static cur line_begin(tlog **tp, size_t need, char *fallback, size_t fallback_len, bool *direct)
{
    tlog *t = tlog_get();
    *tp = t;
    *direct = (t == NULL);
    if (!t)
        return (cur){ fallback, fallback + fallback_len };
    if (LOG_BUF_SIZE - t->len < need)
        flush_tlog(t);
    return (cur){ t->buf + t->len, t->buf + LOG_BUF_SIZE };
}

static void line_end(tlog *t, cur *c, char *fallback, bool direct, bool flush_now)
{
    /* The cursor never passes end; make sure the line still ends with a
     * newline even in the last-resort truncation case. */
    if (c->p == c->end)
        c->p--;
    *c->p++ = '\n';
    if (direct) {
        pthread_mutex_lock(&g_write_mu);
        write_all_locked(atomic_load_explicit(&g_fd, memory_order_relaxed), fallback,
                         (size_t)(c->p - fallback));
        pthread_mutex_unlock(&g_write_mu);
        return;
    }
    t->len = (size_t)(c->p - t->buf);
    if (flush_now || !t->batching)
        flush_tlog(t);
}

/* ---------------------------------------------------------------- API */

void rt_log_init(rt_log_level level, int fd)
{
    if ((int)level < RT_LOG_DEBUG || level > RT_LOG_OFF)
        level = RT_LOG_INFO;
    atomic_store(&g_level, (int)level);
    atomic_store(&g_fd, fd);
}

bool rt_log_level_parse(const char *s, rt_log_level *out)
{
    if (!s)
        return false;
    for (int i = RT_LOG_DEBUG; i <= RT_LOG_OFF; i++) {
        if (strcasecmp(s, level_names[i]) == 0) {
            *out = (rt_log_level)i;
            return true;
        }
    }
    if (strcasecmp(s, "warning") == 0) {
        *out = RT_LOG_WARN;
        return true;
    }
    return false;
}

bool rt_log_enabled(rt_log_level level)
{
    return level != RT_LOG_OFF &&
           (int)level >= atomic_load_explicit(&g_level, memory_order_relaxed);
}

void rt_logf(rt_log_level level, rt_str request_id, const char *fmt, ...)
{
    if ((int)level < RT_LOG_DEBUG || level >= RT_LOG_OFF || !rt_log_enabled(level))
        return;
    char msg[LOG_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t mlen = n < 0 ? 0 : clamp((size_t)n, sizeof msg - 1);
    size_t idlen = request_id.ptr ? clamp(request_id.len, LOG_FIELD_MAX) : 0;

    char fallback[128 + 6 * (LOG_MSG_MAX + LOG_FIELD_MAX)];
    size_t need = 128 + 6 * (mlen + idlen);
    tlog *t;
    bool direct;
    cur c = line_begin(&t, need, fallback, sizeof fallback, &direct);
    put_head(&c, t ? t : &t_log, level);
    if (request_id.ptr) {
        PUT_LIT(&c, ",\"request_id\":");
        put_esc(&c, request_id.ptr, idlen);
    }
    PUT_LIT(&c, ",\"msg\":");
    put_esc(&c, msg, mlen);
    PUT_LIT(&c, "}");
    line_end(t, &c, fallback, direct, level >= RT_LOG_WARN);
}

void rt_log_access(rt_str request_id, rt_str method, rt_str path, int status,
                   int64_t duration_us, size_t bytes)
{
    if (!rt_log_enabled(RT_LOG_INFO))
        return;
    size_t idlen = clamp(request_id.len, LOG_FIELD_MAX);
    size_t mlen = clamp(method.len, LOG_FIELD_MAX);
    size_t plen = clamp(path.len, LOG_FIELD_MAX);
    if (!request_id.ptr)
        idlen = 0;
    if (!method.ptr)
        mlen = 0;
    if (!path.ptr)
        plen = 0;

    char fallback[256 + 6 * 3 * LOG_FIELD_MAX];
    size_t need = 256 + 6 * (idlen + mlen + plen);
    tlog *t;
    bool direct;
    cur c = line_begin(&t, need, fallback, sizeof fallback, &direct);
    put_head(&c, t ? t : &t_log, RT_LOG_INFO);
    PUT_LIT(&c, ",\"msg\":\"access\",\"request_id\":");
    put_esc(&c, request_id.ptr ? request_id.ptr : "", idlen);
    PUT_LIT(&c, ",\"method\":");
    put_esc(&c, method.ptr ? method.ptr : "", mlen);
    PUT_LIT(&c, ",\"path\":");
    put_esc(&c, path.ptr ? path.ptr : "", plen);
    PUT_LIT(&c, ",\"status\":");
    put_i64(&c, status);
    PUT_LIT(&c, ",\"duration_us\":");
    put_i64(&c, duration_us);
    PUT_LIT(&c, ",\"bytes\":");
    put_u64(&c, bytes);
    PUT_LIT(&c, "}");
    line_end(t, &c, fallback, direct, false);
}

void rt_log_flush(void)
{
    tlog *t = &t_log;
    t->batching = true;
    if (t->buf)
        flush_tlog(t);
}
