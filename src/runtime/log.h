/*
 * log.h - structured logs: one JSON object per line on a file descriptor
 * (stderr by default). Lines are formatted into a per-thread buffer and
 * written whole; the event loops flush their buffer after each turn, so
 * under load many access-log lines share one write(2).
 */
#ifndef RT_LOG_H
#define RT_LOG_H

#include "rt.h"

typedef enum rt_log_level {
    RT_LOG_DEBUG = 0,
    RT_LOG_INFO,
    RT_LOG_WARN,
    RT_LOG_ERROR,
    RT_LOG_OFF,
} rt_log_level;

void rt_log_init(rt_log_level level, int fd);
bool rt_log_level_parse(const char *s, rt_log_level *out); /* debug|info|warn|error|off */
bool rt_log_enabled(rt_log_level level);

/* {"time":"...","level":"error","request_id":"...","msg":"..."}; request_id
 * omitted when its ptr is NULL. The message is JSON-escaped. Written at once
 * (not batched) for levels >= WARN. */
void rt_logf(rt_log_level level, rt_str request_id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Access line at INFO:
 * {"time":..,"level":"info","msg":"access","request_id":..,"method":..,"path":..,
 *  "status":..,"duration_us":..,"bytes":..} */
void rt_log_access(rt_str request_id, rt_str method, rt_str path, int status,
                   int64_t duration_us, size_t bytes);

/* Write out the calling thread's buffered lines. */
void rt_log_flush(void);

#endif
