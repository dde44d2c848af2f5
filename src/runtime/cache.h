/*
 * cache.h - a sharded (lock-striped) in-process TTL cache from 64-bit keys
 * to byte strings, meant for encoded representations: a hit copies the bytes
 * straight into the response and skips both the database and the encoder.
 *
 * Stale fills are prevented with per-shard generations: take a ticket with
 * rt_cache_ticket() before reading the source; rt_cache_put() with that
 * ticket is dropped if rt_cache_del() touched the shard since.
 */
#ifndef RT_CACHE_H
#define RT_CACHE_H

#include "rt.h"

typedef struct rt_cache rt_cache;

/* ttl_ms 0 disables the cache (every get misses, put does nothing).
 * max_entries bounds memory: a full shard evicts its oldest entry. */
rt_cache *rt_cache_new(unsigned ttl_ms, size_t max_entries);
void rt_cache_free(rt_cache *c);

/* On a fresh hit append the bytes to out and return true. */
bool rt_cache_get(rt_cache *c, uint64_t key, rt_buf *out);
/* The same, copying into the request arena: *out stays valid until the
 * arena is reset. False on a miss or when the arena is out of memory. */
bool rt_cache_get_arena(rt_cache *c, uint64_t key, rt_arena *a, rt_str *out);
/* True when key has a fresh entry right now (it may expire the next moment):
 * lets a caller guess that a get will not need the source. */
bool rt_cache_has(rt_cache *c, uint64_t key);
uint64_t rt_cache_ticket(rt_cache *c, uint64_t key);
void rt_cache_put(rt_cache *c, uint64_t key, uint64_t ticket, const char *data, size_t len);
void rt_cache_del(rt_cache *c, uint64_t key);

/*
 * Single flight: concurrent misses of one key cost one load, not one each.
 * After a miss, call rt_cache_fly_begin:
 *  RT_FLY_LEAD      load it yourself (ticket, source, put), then
 *                   rt_cache_fly_end(key) whatever the outcome;
 *  RT_FLY_FOLLOWED  someone else's load of key ended while we waited up to
 *                   wait_ms: look again (a hit unless it failed or was
 *                   invalidated), load yourself on a miss, no end call;
 *  RT_FLY_ALONE     no coordination (cache disabled, too many loads in
 *                   flight in the shard, or wait_ms passed): load yourself,
 *                   no end call.
 */
typedef enum rt_fly { RT_FLY_ALONE, RT_FLY_LEAD, RT_FLY_FOLLOWED } rt_fly;
rt_fly rt_cache_fly_begin(rt_cache *c, uint64_t key, unsigned wait_ms);
void rt_cache_fly_end(rt_cache *c, uint64_t key);

#endif
