/*
 * cache_test.c - the sharded TTL cache: hits and misses, expiry, deletes and
 * the ticket rule that keeps a stale fill out, the entry bound, a disabled
 * cache, and 4 threads hammering it (run under ASan/UBSan; TSan optional).
 */
#include <criterion/criterion.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache.h"

static void sleep_ms(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0) {
    }
}

static void put_str(rt_cache *c, uint64_t key, const char *s)
{
    rt_cache_put(c, key, rt_cache_ticket(c, key), s, strlen(s));
}

/* Fetch key into a fresh buffer; returns whether it hit and compares bytes. */
static bool get_is(rt_cache *c, uint64_t key, const char *want)
{
    rt_buf b;
    rt_buf_init(&b);
    bool hit = rt_cache_get(c, key, &b);
    bool same = hit && want && b.len == strlen(want) &&
                (b.len == 0 || memcmp(b.data, want, b.len) == 0);
    rt_buf_free(&b);
    return want ? same : hit;
}

Test(cache, hit_and_miss)
{
    rt_cache *c = rt_cache_new(10000, 1000);
    cr_assert_not_null(c);
    rt_buf b;
    rt_buf_init(&b);
    cr_assert_not(rt_cache_get(c, 1, &b));
    cr_assert_eq(b.len, 0);

    put_str(c, 1, "{\"id\":1}");
    rt_buf_puts(&b, "prefix:");
    cr_assert(rt_cache_get(c, 1, &b), "fresh entry must hit");
    /* get appends, it does not overwrite. */
    cr_assert_eq(b.len, strlen("prefix:{\"id\":1}"));
    cr_assert(memcmp(b.data, "prefix:{\"id\":1}", b.len) == 0);
    rt_buf_free(&b);

    cr_assert_not(get_is(c, 2, NULL), "other key must miss");

    put_str(c, 1, "{\"id\":1,\"v\":2}");
    cr_assert(get_is(c, 1, "{\"id\":1,\"v\":2}"), "put replaces");

    /* Empty values are values. */
    put_str(c, 3, "");
    cr_assert(get_is(c, 3, ""));
    rt_cache_free(c);
}

Test(cache, ttl_expiry)
{
    rt_cache *c = rt_cache_new(50, 100);
    put_str(c, 7, "seven");
    cr_assert(get_is(c, 7, "seven"));
    sleep_ms(80);
    cr_assert_not(get_is(c, 7, NULL), "entry must expire after its TTL");
    /* And the slot is usable again. */
    put_str(c, 7, "again");
    cr_assert(get_is(c, 7, "again"));
    rt_cache_free(c);
}

Test(cache, del_invalidates)
{
    rt_cache *c = rt_cache_new(10000, 100);
    put_str(c, 42, "x");
    put_str(c, 43, "y");
    rt_cache_del(c, 42);
    cr_assert_not(get_is(c, 42, NULL));
    cr_assert(get_is(c, 43, "y"), "del touches only its key");
    rt_cache_del(c, 999); /* absent key: harmless */
    rt_cache_free(c);
}

Test(cache, ticket_race_drops_stale_fill)
{
    rt_cache *c = rt_cache_new(10000, 100);
    /* Reader takes a ticket and reads the old row; a writer commits and
     * invalidates; the reader's late put must not resurrect the old bytes. */
    uint64_t t = rt_cache_ticket(c, 5);
    rt_cache_del(c, 5);
    rt_cache_put(c, 5, t, "old", 3);
    cr_assert_not(get_is(c, 5, NULL), "a put with a pre-delete ticket must be dropped");

    /* A ticket taken after the delete is good. */
    uint64_t t2 = rt_cache_ticket(c, 5);
    cr_assert_neq(t, t2);
    rt_cache_put(c, 5, t2, "new", 3);
    cr_assert(get_is(c, 5, "new"));
    rt_cache_free(c);
}

Test(cache, eviction_bound)
{
    /* 256 entries = 4 per shard. */
    rt_cache *c = rt_cache_new(60000, 256);
    char v[32];
    const uint64_t n = 20000;
    for (uint64_t k = 0; k < n; k++) {
        snprintf(v, sizeof v, "v%llu", (unsigned long long)k);
        put_str(c, k, v);
    }
    size_t hits = 0;
    for (uint64_t k = 0; k < n; k++)
        hits += get_is(c, k, NULL);
    cr_assert_leq(hits, 256, "at most max_entries survive, got %zu", hits);
    cr_assert_geq(hits, 200, "shards should be about full, got %zu", hits);
    /* Oldest go first: the newest put is always there, the first long gone. */
    snprintf(v, sizeof v, "v%llu", (unsigned long long)(n - 1));
    cr_assert(get_is(c, n - 1, v));
    cr_assert_not(get_is(c, 0, NULL));
    rt_cache_free(c);
}

Test(cache, tiny_bound_keeps_one_per_shard)
{
    rt_cache *c = rt_cache_new(60000, 1);
    for (uint64_t k = 0; k < 1000; k++)
        put_str(c, k, "v");
    size_t hits = 0;
    for (uint64_t k = 0; k < 1000; k++)
        hits += get_is(c, k, NULL);
    cr_assert_leq(hits, 64);
    cr_assert(get_is(c, 999, "v"));
    rt_cache_free(c);
}

Test(cache, disabled)
{
    rt_cache *c = rt_cache_new(0, 1000);
    cr_assert_not_null(c);
    put_str(c, 1, "x");
    cr_assert_not(get_is(c, 1, NULL));
    cr_assert_eq(rt_cache_ticket(c, 1), 0);
    rt_cache_del(c, 1);
    rt_cache_free(c);

    c = rt_cache_new(1000, 0);
    put_str(c, 1, "x");
    cr_assert_not(get_is(c, 1, NULL), "max_entries 0 disables too");
    rt_cache_free(c);

    rt_cache_free(NULL);
}

Test(cache, full_output_buffer_is_a_miss)
{
    rt_cache *c = rt_cache_new(10000, 100);
    put_str(c, 1, "0123456789");
    rt_buf b;
    rt_buf_init(&b);
    b.limit = 4;
    cr_assert_not(rt_cache_get(c, 1, &b), "a hit that cannot be copied is reported as a miss");
    cr_assert_eq(b.len, 0);
    rt_buf_free(&b);
    rt_cache_free(c);
}

/* ---------------------------------------------------------------- concurrency */

typedef struct worker {
    rt_cache *c;
    unsigned seed;
    int64_t until_ms;
    unsigned long ops, hits, bad;
} worker;

/* The value of key k is "k:<k>" repeated to a length that depends on k, so
 * a hit can be checked for torn or mixed-up bytes. */
static size_t value_for(uint64_t k, char *buf, size_t cap)
{
    char unit[24];
    int ul = snprintf(unit, sizeof unit, "k:%llu;", (unsigned long long)k);
    size_t reps = 1 + k % 7, len = 0;
    for (size_t i = 0; i < reps && len + (size_t)ul < cap; i++, len += (size_t)ul)
        memcpy(buf + len, unit, (size_t)ul);
    return len;
}

static void *hammer(void *arg)
{
    worker *w = arg;
    char val[256];
    rt_buf b;
    rt_buf_init(&b);
    while (rt_mono_ms() < w->until_ms) {
        for (int i = 0; i < 256; i++) {
            uint64_t k = (uint64_t)(rand_r(&w->seed) % 512);
            unsigned op = (unsigned)rand_r(&w->seed) % 10;
            size_t n = value_for(k, val, sizeof val);
            if (op < 6) {
                rt_buf_reset(&b);
                if (rt_cache_get(w->c, k, &b)) {
                    w->hits++;
                    if (b.len != n || memcmp(b.data, val, n) != 0)
                        w->bad++;
                }
            } else if (op < 9) {
                uint64_t t = rt_cache_ticket(w->c, k);
                rt_cache_put(w->c, k, t, val, n);
            } else {
                rt_cache_del(w->c, k);
            }
            w->ops++;
        }
    }
    rt_buf_free(&b);
    return NULL;
}

Test(cache, concurrent_get_put_del, .timeout = 30)
{
    /* Small bound and short TTL so eviction and expiry also race. */
    rt_cache *c = rt_cache_new(5, 128);
    worker w[4];
    pthread_t th[4];
    int64_t until = rt_mono_ms() + 400;
    for (int i = 0; i < 4; i++) {
        w[i] = (worker){ .c = c, .seed = 1234u + (unsigned)i, .until_ms = until };
        cr_assert_eq(pthread_create(&th[i], NULL, hammer, &w[i]), 0);
    }
    unsigned long ops = 0, hits = 0, bad = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        ops += w[i].ops;
        hits += w[i].hits;
        bad += w[i].bad;
    }
    cr_assert_eq(bad, 0, "%lu hits returned wrong bytes", bad);
    cr_assert_gt(ops, 1000);
    cr_assert_gt(hits, 0);
    rt_cache_free(c);
}

Test(cache, get_into_arena)
{
    rt_cache *c = rt_cache_new(60000, 100);
    rt_arena *a = rt_arena_new(256);
    cr_assert(c && a);
    rt_str out = RT_STR_NULL;
    cr_assert_not(rt_cache_get_arena(c, 9, a, &out));
    rt_cache_put(c, 9, rt_cache_ticket(c, 9), "{\"id\":9}", 8);
    cr_assert(rt_cache_get_arena(c, 9, a, &out));
    cr_assert_eq(out.len, 8);
    cr_assert(memcmp(out.ptr, "{\"id\":9}", 8) == 0);
    rt_cache_del(c, 9);
    cr_assert_not(rt_cache_get_arena(c, 9, a, &out));
    rt_arena_free(a);
    rt_cache_free(c);
}

Test(cache, has_tells_fresh_entries)
{
    rt_cache *c = rt_cache_new(50, 100);
    cr_assert_not(rt_cache_has(c, 8));
    put_str(c, 8, "eight");
    cr_assert(rt_cache_has(c, 8));
    cr_assert_not(rt_cache_has(c, 9));
    rt_cache_del(c, 8);
    cr_assert_not(rt_cache_has(c, 8), "deleted");
    put_str(c, 8, "eight");
    sleep_ms(80);
    cr_assert_not(rt_cache_has(c, 8), "expired");
    rt_cache_free(c);
    rt_cache *off = rt_cache_new(0, 100);
    put_str(off, 1, "x");
    cr_assert_not(rt_cache_has(off, 1), "a disabled cache has nothing");
    rt_cache_free(off);
}

/* ---------------------------------------------------------------- single flight */

typedef struct follower {
    rt_cache *c;
    uint64_t key;
    unsigned wait_ms;
    rt_fly got;
    bool hit_after;
    _Atomic int started;
} follower;

static void *follow(void *arg)
{
    follower *f = arg;
    atomic_store(&f->started, 1);
    f->got = rt_cache_fly_begin(f->c, f->key, f->wait_ms);
    f->hit_after = get_is(f->c, f->key, "loaded");
    return NULL;
}

Test(cache, single_flight_followers_wait_for_the_leader)
{
    rt_cache *c = rt_cache_new(10000, 1000);
    cr_assert_eq(rt_cache_fly_begin(c, 77, 1000), RT_FLY_LEAD);
    uint64_t t = rt_cache_ticket(c, 77);
    follower f[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        f[i] = (follower){ .c = c, .key = 77, .wait_ms = 5000 };
        cr_assert(pthread_create(&th[i], NULL, follow, &f[i]) == 0);
    }
    for (int i = 0; i < 3; i++)
        while (!atomic_load(&f[i].started))
            sleep_ms(1);
    sleep_ms(50); /* they are waiting now, not loading */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(f[i].got, RT_FLY_ALONE, "follower %d returned before the leader landed", i);
    /* another key is not held up */
    cr_assert_eq(rt_cache_fly_begin(c, 78, 1000), RT_FLY_LEAD);
    rt_cache_fly_end(c, 78);
    rt_cache_put(c, 77, t, "loaded", 6);
    rt_cache_fly_end(c, 77);
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        cr_expect_eq(f[i].got, RT_FLY_FOLLOWED, "follower %d: %d", i, f[i].got);
        cr_expect(f[i].hit_after, "follower %d must find the leader's fill", i);
    }
    /* the key can be led again */
    cr_expect_eq(rt_cache_fly_begin(c, 77, 10), RT_FLY_LEAD);
    rt_cache_fly_end(c, 77);
    rt_cache_free(c);
}

Test(cache, single_flight_bounded_wait_and_table)
{
    rt_cache *c = rt_cache_new(10000, 1000);
    cr_assert_eq(rt_cache_fly_begin(c, 5, 1000), RT_FLY_LEAD);
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    cr_expect_eq(rt_cache_fly_begin(c, 5, 60), RT_FLY_ALONE, "a stuck leader must not hold others");
    clock_gettime(CLOCK_MONOTONIC, &b);
    long ms = (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
    cr_expect(ms >= 50 && ms < 1000, "waited %ld ms for 60", ms);
    rt_cache_fly_end(c, 5);
    rt_cache_fly_end(c, 5); /* a second end is harmless */
    /* many keys in flight: past the shard's table, callers go alone */
    int lead = 0, alone = 0;
    for (uint64_t k = 1000; k < 3000; k++) {
        rt_fly f = rt_cache_fly_begin(c, k, 0);
        lead += f == RT_FLY_LEAD;
        alone += f == RT_FLY_ALONE;
    }
    cr_expect_eq(lead + alone, 2000);
    cr_expect(alone > 0 && lead > 0, "lead %d alone %d", lead, alone);
    for (uint64_t k = 1000; k < 3000; k++)
        rt_cache_fly_end(c, k);
    rt_cache *off = rt_cache_new(0, 10);
    cr_expect_eq(rt_cache_fly_begin(off, 1, 10), RT_FLY_ALONE);
    rt_cache_fly_end(off, 1);
    rt_cache_free(off);
    rt_cache_free(c);
}

/* ---------------------------------------------------------------- per-thread copies (L1) */

typedef struct op {
    rt_cache *c;
    uint64_t key;
    const char *value; /* put this (NULL: del) */
} op;

static void *run_op(void *arg)
{
    op *o = arg;
    if (o->value)
        rt_cache_put(o->c, o->key, rt_cache_ticket(o->c, o->key), o->value, strlen(o->value));
    else
        rt_cache_del(o->c, o->key);
    return NULL;
}

static void in_thread(rt_cache *c, uint64_t key, const char *value)
{
    op o = { c, key, value };
    pthread_t th;
    cr_assert(pthread_create(&th, NULL, run_op, &o) == 0);
    pthread_join(th, NULL);
}

/* This thread reads (and so keeps a copy of) an entry; another thread
 * changes it: the next read here must see the change. */
Test(cache, thread_copies_follow_other_threads_changes)
{
    rt_cache *c = rt_cache_new(200, 1000);
    in_thread(c, 11, "one");
    cr_assert(get_is(c, 11, "one"));
    cr_assert(get_is(c, 11, "one"), "second read (from this thread's copy)");
    cr_assert(rt_cache_has(c, 11));

    in_thread(c, 11, NULL); /* del elsewhere */
    cr_assert_not(get_is(c, 11, NULL), "a del in another thread must be seen");
    cr_assert_not(rt_cache_has(c, 11));

    in_thread(c, 11, "two");
    cr_assert(get_is(c, 11, "two"));
    in_thread(c, 11, "three"); /* a put replacing a live entry */
    cr_assert(get_is(c, 11, "three"), "a replacing put in another thread must be seen");

    /* arena reads go through the same copies */
    rt_arena *a = rt_arena_new(1024);
    rt_str v;
    cr_assert(rt_cache_get_arena(c, 11, a, &v) && v.len == 5 && memcmp(v.ptr, "three", 5) == 0);
    in_thread(c, 11, NULL);
    cr_assert_not(rt_cache_get_arena(c, 11, a, &v));
    rt_arena_free(a);

    /* expiry: the copy carries the entry's deadline */
    in_thread(c, 12, "x");
    cr_assert(get_is(c, 12, "x"));
    sleep_ms(250);
    cr_assert_not(get_is(c, 12, NULL), "an expired entry must not be served from a copy");
    cr_assert_not(rt_cache_has(c, 12));

    /* a del of an entry evicted meanwhile still invalidates the copies */
    rt_cache *tiny = rt_cache_new(10000, 1); /* one entry per shard */
    put_str(tiny, 21, "a");
    cr_assert(get_is(tiny, 21, "a"));
    for (uint64_t k = 100; k < 2000; k++) /* evicts 21 from its shard */
        put_str(tiny, k, "filler");
    in_thread(tiny, 21, NULL);
    cr_assert_not(get_is(tiny, 21, NULL), "copy of an evicted, then deleted entry served");
    rt_cache_free(tiny);

    /* a new cache (possibly at the same address) shares nothing */
    rt_cache_free(c);
    rt_cache *c2 = rt_cache_new(200, 1000);
    cr_assert_not(get_is(c2, 11, NULL));
    cr_assert_not(rt_cache_has(c2, 12));
    rt_cache_free(c2);
}
