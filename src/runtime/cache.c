/*
 * cache.c - sharded TTL cache from 64-bit keys to owned byte strings.
 *
 * Layout: 64 shards, chosen by the top bits of a splitmix64 mix of the key
 * (ids are often sequential; the mix spreads them over shards and buckets).
 * Each shard has its own mutex, a chained hash table that doubles as it fills
 * (up to its share of max_entries), an insertion-ordered list of entries,
 * and a generation counter.
 *
 * Invariants (per shard, under its mutex):
 *  - every entry is in exactly one bucket chain and in the age list; the age
 *    list runs from the oldest put (head) to the newest (tail);
 *  - count <= cap; a put into a full shard first evicts the head of the age
 *    list. With one TTL for the whole cache the oldest put is also the first
 *    to expire, so eviction takes expired entries before live ones;
 *  - gen only grows; rt_cache_del() bumps it, and a put whose ticket differs
 *    from gen is dropped. A ticket is per shard, not per key, so a del may
 *    also drop an unrelated in-flight fill in the same shard: a spurious miss,
 *    never a stale hit;
 *  - an entry owns its bytes (one malloc holds header and data); expired
 *    entries are removed lazily, by the get that finds them or by eviction;
 *  - ver only grows; it moves whenever bytes a reader may have copied stop
 *    being current: rt_cache_del, and a put that replaces a live entry
 *    (eviction and expiry change no bytes, so they leave it);
 *  - single flight: flying[0..nfly) are the keys of this shard some caller
 *    is loading right now (at most FLY_MAX; beyond that callers load
 *    uncoordinated); fly_cv is broadcast whenever one lands.
 *
 * ttl_ms == 0 or max_entries == 0 disables the cache: no memory is taken,
 * every get misses and every put is dropped.
 */
#include "cache.h"

#include "co.h"

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SHARD_BITS 6
#define NSHARDS (1u << SHARD_BITS)
#define MIN_BUCKETS 16u
#define FLY_MAX 8u

typedef struct entry {
    struct entry *chain;              /* next in bucket */
    struct entry *older, *newer;      /* age list */
    uint64_t key;
    uint64_t hash;
    int64_t expires_ms;               /* rt_mono_ms() deadline */
    size_t len;
    char data[];
} entry;

/* Aligned to a cache line so neighbouring shards' locks do not share one. */
typedef struct shard {
    alignas(64) pthread_mutex_t mu;
    entry **buckets;                  /* nbuckets, a power of two */
    size_t nbuckets;
    size_t count;
    size_t cap;
    entry *oldest, *newest;
    uint64_t gen;
    _Atomic uint64_t ver;             /* written under mu, read without it (L1) */
    pthread_cond_t fly_cv;            /* CLOCK_MONOTONIC */
    unsigned nfly;
    uint64_t flying[FLY_MAX];
} shard;

struct rt_cache {
    unsigned ttl_ms;
    bool enabled;
    uint64_t id; /* distinguishes caches in the threads' L1 (addresses get reused) */
    shard shards[NSHARDS];
};

/*
 * L1: every thread keeps copies of the small entries it read last, in a
 * direct-mapped table of its own, checked without any lock: a slot is good
 * while its cache id and key match, it has not expired (it carries the
 * entry's own deadline), and its shard's ver is still the one it was copied
 * at. On the hot path (one popular key read by every event loop) this takes
 * the shard mutex, and the loops' contention on it, out of every request.
 * Thread-local storage: no allocation, nothing to free.
 */
#define L1_SLOTS 64u
#define L1_BYTES 256u

typedef struct l1_slot {
    uint64_t cache_id; /* 0: empty */
    uint64_t key;
    uint64_t ver;
    int64_t expires_ms;
    size_t len;
    char data[L1_BYTES];
} l1_slot;

static _Thread_local l1_slot l1[L1_SLOTS];
static _Atomic uint64_t cache_ids;

/* splitmix64's finalizer: a bijection with good avalanche, cheap enough for
 * every lookup. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* Top bits pick the shard, low bits the bucket: independent parts of the mix. */
static shard *shard_of(rt_cache *c, uint64_t h)
{
    return &c->shards[h >> (64 - SHARD_BITS)];
}

/* ================================================================ lifecycle */

rt_cache *rt_cache_new(unsigned ttl_ms, size_t max_entries)
{
    /* The shards are cache-line aligned, which malloc does not promise;
     * sizeof is a multiple of the alignment, as aligned_alloc requires. */
    rt_cache *c = aligned_alloc(alignof(rt_cache), sizeof *c);
    if (!c)
        return NULL;
    memset(c, 0, sizeof *c);
    c->id = atomic_fetch_add(&cache_ids, 1) + 1;
    c->ttl_ms = ttl_ms;
    c->enabled = ttl_ms > 0 && max_entries > 0;
    /* Round up so the total is at least max_entries (and each shard holds >= 1). */
    size_t per = max_entries / NSHARDS + (max_entries % NSHARDS != 0);
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) {
        free(c);
        return NULL;
    }
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (unsigned i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        if (pthread_mutex_init(&s->mu, NULL) != 0) {
            while (i-- > 0) {
                pthread_mutex_destroy(&c->shards[i].mu);
                pthread_cond_destroy(&c->shards[i].fly_cv);
            }
            pthread_condattr_destroy(&ca);
            free(c);
            return NULL;
        }
        if (pthread_cond_init(&s->fly_cv, &ca) != 0) {
            pthread_mutex_destroy(&s->mu);
            while (i-- > 0) {
                pthread_mutex_destroy(&c->shards[i].mu);
                pthread_cond_destroy(&c->shards[i].fly_cv);
            }
            pthread_condattr_destroy(&ca);
            free(c);
            return NULL;
        }
        s->cap = per;
    }
    pthread_condattr_destroy(&ca);
    return c;
}

void rt_cache_free(rt_cache *c)
{
    if (!c)
        return;
    for (unsigned i = 0; i < NSHARDS; i++) {
        shard *s = &c->shards[i];
        entry *e = s->oldest;
        while (e) {
            entry *next = e->newer;
            free(e);
            e = next;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->fly_cv);
    }
    free(c);
}

/* ================================================================ shard internals (mutex held) */

static entry **slot_of(shard *s, uint64_t h)
{
    return &s->buckets[h & (s->nbuckets - 1)];
}

static entry *find(shard *s, uint64_t key, uint64_t h, entry ***link_out)
{
    if (!s->buckets)
        return NULL;
    entry **link = slot_of(s, h);
    for (entry *e = *link; e; link = &e->chain, e = e->chain) {
        if (e->key == key) {
            if (link_out)
                *link_out = link;
            return e;
        }
    }
    return NULL;
}

static void age_unlink(shard *s, entry *e)
{
    if (e->older)
        e->older->newer = e->newer;
    else
        s->oldest = e->newer;
    if (e->newer)
        e->newer->older = e->older;
    else
        s->newest = e->older;
    e->older = e->newer = NULL;
}

static void age_append(shard *s, entry *e)
{
    e->older = s->newest;
    e->newer = NULL;
    if (s->newest)
        s->newest->newer = e;
    else
        s->oldest = e;
    s->newest = e;
}

/* Remove e, whose chain predecessor's link is `link` (NULL: look it up). */
static void remove_entry(shard *s, entry *e, entry **link)
{
    if (!link) {
        link = slot_of(s, e->hash);
        while (*link != e)
            link = &(*link)->chain;
    }
    *link = e->chain;
    age_unlink(s, e);
    s->count--;
    free(e);
}

/* Make room for one more entry: grow the table while below cap (a failed
 * grow is harmless, chains just get longer), evict the oldest when full.
 * False only when there is no table at all and none can be allocated. */
static bool make_room(shard *s)
{
    if (s->count >= s->cap && s->oldest)
        remove_entry(s, s->oldest, NULL);
    if (s->buckets && s->count < s->nbuckets)
        return true;
    size_t n = s->nbuckets ? s->nbuckets * 2 : MIN_BUCKETS;
    entry **nb = calloc(n, sizeof *nb);
    if (!nb)
        return s->buckets != NULL;
    for (size_t i = 0; i < s->nbuckets; i++) {
        entry *e = s->buckets[i];
        while (e) {
            entry *next = e->chain;
            entry **slot = &nb[e->hash & (n - 1)];
            e->chain = *slot;
            *slot = e;
            e = next;
        }
    }
    free(s->buckets);
    s->buckets = nb;
    s->nbuckets = n;
    return true;
}

/* ================================================================ API */

static l1_slot *l1_slot_of(uint64_t h)
{
    return &l1[(h >> 8) & (L1_SLOTS - 1)];
}

/* The calling thread's good copy of key, or NULL. No lock. */
static const l1_slot *l1_get(const rt_cache *c, const shard *s, uint64_t key, uint64_t h)
{
    const l1_slot *e = l1_slot_of(h);
    if (e->cache_id != c->id || e->key != key ||
        e->ver != atomic_load_explicit(&s->ver, memory_order_seq_cst) ||
        rt_mono_ms() >= e->expires_ms)
        return NULL;
    return e;
}

/* Copy a live entry into the calling thread's L1 (caller holds s->mu). */
static void l1_fill(const rt_cache *c, shard *s, const entry *e)
{
    if (e->len > L1_BYTES)
        return;
    l1_slot *l = l1_slot_of(e->hash);
    l->cache_id = c->id;
    l->key = e->key;
    l->ver = atomic_load_explicit(&s->ver, memory_order_relaxed);
    l->expires_ms = e->expires_ms;
    l->len = e->len;
    memcpy(l->data, e->data, e->len);
}

/* The fresh entry for key, or NULL; an expired one is removed on the way.
 * Caller holds s->mu, and must copy what it needs before unlocking: a
 * concurrent put or del may free the entry. */
static entry *live_entry(shard *s, uint64_t key, uint64_t h)
{
    entry **link = NULL;
    entry *e = find(s, key, h, &link);
    if (e && rt_mono_ms() >= e->expires_ms) {
        remove_entry(s, e, link);
        e = NULL;
    }
    return e;
}

bool rt_cache_get(rt_cache *c, uint64_t key, rt_buf *out)
{
    if (!c || !c->enabled)
        return false;
    uint64_t h = mix64(key);
    shard *s = shard_of(c, h);
    const l1_slot *l = l1_get(c, s, key, h);
    if (l) {
        if (!rt_buf_reserve(out, l->len))
            return false;
        rt_buf_put(out, l->data, l->len);
        return true;
    }
    bool hit = false;

    pthread_mutex_lock(&s->mu);
    entry *e = live_entry(s, key, h);
    if (e && rt_buf_reserve(out, e->len)) {
        rt_buf_put(out, e->data, e->len);
        l1_fill(c, s, e);
        hit = true;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

bool rt_cache_get_arena(rt_cache *c, uint64_t key, rt_arena *a, rt_str *out)
{
    if (!c || !c->enabled)
        return false;
    uint64_t h = mix64(key);
    shard *s = shard_of(c, h);
    const l1_slot *l = l1_get(c, s, key, h);
    if (l) {
        char *p = rt_arena_alloc(a, l->len);
        if (!p)
            return false;
        memcpy(p, l->data, l->len);
        *out = (rt_str){ p, l->len };
        return true;
    }
    bool hit = false;

    pthread_mutex_lock(&s->mu);
    entry *e = live_entry(s, key, h);
    /* The arena belongs to the calling request alone, so allocating under
     * the shard lock cannot deadlock. */
    char *p = e ? rt_arena_alloc(a, e->len) : NULL;
    if (p) {
        memcpy(p, e->data, e->len);
        *out = (rt_str){ p, e->len };
        l1_fill(c, s, e);
        hit = true;
    }
    pthread_mutex_unlock(&s->mu);
    return hit;
}

bool rt_cache_has(rt_cache *c, uint64_t key)
{
    if (!c || !c->enabled)
        return false;
    uint64_t h = mix64(key);
    shard *s = shard_of(c, h);
    if (l1_get(c, s, key, h))
        return true;
    pthread_mutex_lock(&s->mu);
    entry *e = live_entry(s, key, h);
    if (e)
        l1_fill(c, s, e);
    pthread_mutex_unlock(&s->mu);
    return e != NULL;
}

uint64_t rt_cache_ticket(rt_cache *c, uint64_t key)
{
    if (!c || !c->enabled)
        return 0;
    shard *s = shard_of(c, mix64(key));
    pthread_mutex_lock(&s->mu);
    uint64_t t = s->gen;
    pthread_mutex_unlock(&s->mu);
    return t;
}

void rt_cache_put(rt_cache *c, uint64_t key, uint64_t ticket, const char *data, size_t len)
{
    if (!c || !c->enabled)
        return;
    if (len > SIZE_MAX - sizeof(entry))
        return;
    uint64_t h = mix64(key);
    shard *s = shard_of(c, h);

    /* Allocate and copy outside the lock; most of the cost of a put. */
    entry *n = malloc(sizeof *n + len);
    if (!n)
        return;
    n->key = key;
    n->hash = h;
    n->len = len;
    n->expires_ms = rt_mono_ms() + (int64_t)c->ttl_ms;
    if (len)
        memcpy(n->data, data, len);

    pthread_mutex_lock(&s->mu);
    if (ticket != s->gen)
        goto drop; /* a del ran since the ticket: the bytes may be stale */
    entry **link = NULL;
    entry *old = find(s, key, h, &link);
    if (old) {
        remove_entry(s, old, link);
        atomic_fetch_add(&s->ver, 1); /* threads may hold copies of the old bytes */
    }
    if (!make_room(s))
        goto drop;
    entry **slot = slot_of(s, h);
    n->chain = *slot;
    *slot = n;
    age_append(s, n);
    s->count++;
    pthread_mutex_unlock(&s->mu);
    return;

drop:
    pthread_mutex_unlock(&s->mu);
    free(n);
}

void rt_cache_del(rt_cache *c, uint64_t key)
{
    if (!c || !c->enabled)
        return;
    uint64_t h = mix64(key);
    shard *s = shard_of(c, h);
    pthread_mutex_lock(&s->mu);
    s->gen++;
    /* Also when the entry is gone (evicted): a thread may still hold a copy. */
    atomic_fetch_add(&s->ver, 1);
    entry **link = NULL;
    entry *e = find(s, key, h, &link);
    if (e)
        remove_entry(s, e, link);
    pthread_mutex_unlock(&s->mu);
}

/* ================================================================ single flight */

static int fly_index(const shard *s, uint64_t key)
{
    for (unsigned i = 0; i < s->nfly; i++)
        if (s->flying[i] == key)
            return (int)i;
    return -1;
}

rt_fly rt_cache_fly_begin(rt_cache *c, uint64_t key, unsigned wait_ms)
{
    if (!c || !c->enabled)
        return RT_FLY_ALONE;
    shard *s = shard_of(c, mix64(key));
    pthread_mutex_lock(&s->mu);
    if (fly_index(s, key) < 0) {
        rt_fly r = RT_FLY_ALONE;
        if (s->nfly < FLY_MAX) {
            s->flying[s->nfly++] = key;
            r = RT_FLY_LEAD;
        }
        pthread_mutex_unlock(&s->mu);
        return r;
    }
    if (rt_co_self()) {
        /* A coroutine must not block its loop (the leader may be parked
         * on the same one): it looks again every millisecond instead. */
        int64_t until = rt_mono_ms() + wait_ms;
        bool flying = true;
        while (flying && rt_mono_ms() < until) {
            pthread_mutex_unlock(&s->mu);
            rt_co_sleep_ms(1);
            pthread_mutex_lock(&s->mu);
            flying = fly_index(s, key) >= 0;
        }
        pthread_mutex_unlock(&s->mu);
        return flying ? RT_FLY_ALONE : RT_FLY_FOLLOWED;
    }
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += wait_ms / 1000;
    dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    int rc = 0;
    while (fly_index(s, key) >= 0 && rc == 0)
        rc = pthread_cond_timedwait(&s->fly_cv, &s->mu, &dl);
    rt_fly r = fly_index(s, key) < 0 ? RT_FLY_FOLLOWED : RT_FLY_ALONE;
    pthread_mutex_unlock(&s->mu);
    return r;
}

void rt_cache_fly_end(rt_cache *c, uint64_t key)
{
    if (!c || !c->enabled)
        return;
    shard *s = shard_of(c, mix64(key));
    pthread_mutex_lock(&s->mu);
    int i = fly_index(s, key);
    if (i >= 0) {
        s->flying[i] = s->flying[--s->nfly];
        pthread_cond_broadcast(&s->fly_cv);
    }
    pthread_mutex_unlock(&s->mu);
}
