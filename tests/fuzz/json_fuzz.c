/*
 * json_fuzz.c - libFuzzer target for the zero-copy JSON decoder and the
 * generated request decoders, validators and encoders.
 *
 * Properties checked on every input (abort() marks a finding):
 *  1. rt_json_validate (read-only) and a full in-place walk
 *     (rt_json_skip + rt_json_finish) agree on whether the input is JSON.
 *  2. A NewUser / UserPatch that decodes without errors re-encodes to JSON
 *     that decodes to the same values (the encoder and decoder agree).
 * Memory errors and undefined behaviour are caught by the sanitizers.
 *
 *   make fuzz FUZZ_SECONDS=60      run it; findings land in build/fuzz/
 */
#include "api.gen.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

static rt_arena *arena;

static char *copy(const uint8_t *data, size_t size)
{
    char *b = malloc(size ? size : 1);
    if (!b)
        abort();
    memcpy(b, data, size);
    return b;
}

static bool same(rt_str a, rt_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static void check_validate_agrees(const uint8_t *data, size_t size)
{
    int ro = rt_json_validate((const char *)data, size, RT_JSON_DEFAULT_DEPTH, NULL, NULL);
    char *b = copy(data, size);
    rt_json_dec d;
    rt_json_dec_init(&d, b, size, RT_JSON_DEFAULT_DEPTH);
    int rc = rt_json_skip(&d);
    if (rc == 0)
        rc = rt_json_finish(&d);
    if ((ro == 0) != (rc == 0))
        abort();
    free(b);
}

static void check_new_user(const uint8_t *data, size_t size)
{
    char *b = copy(data, size);
    rt_json_dec d;
    rt_path p;
    rt_errs e;
    api_new_user u;
    rt_json_dec_init(&d, b, size, RT_JSON_DEFAULT_DEPTH);
    rt_path_init(&p);
    rt_errs_init(&e);
    int rc = api_new_user_decode(&d, arena, &p, &e, &u);
    if (rc == 0)
        rc = rt_json_finish(&d);
    if (rc == 0 && e.n == 0) {
        api_new_user_validate(&u, &p, &e);
        rt_buf out;
        rt_buf_init(&out);
        api_new_user_encode(&u, &out);
        if (out.oom)
            abort();
        rt_json_dec d2;
        rt_errs e2;
        api_new_user u2;
        rt_errs_init(&e2);
        rt_json_dec_init(&d2, out.data, out.len, RT_JSON_DEFAULT_DEPTH);
        if (api_new_user_decode(&d2, arena, &p, &e2, &u2) != 0 || e2.n != 0 ||
            rt_json_finish(&d2) != 0 || !same(u.username, u2.username) || !same(u.email, u2.email))
            abort();
        rt_buf_free(&out);
    }
    free(b);
}

static void check_user_patch(const uint8_t *data, size_t size)
{
    char *b = copy(data, size);
    rt_json_dec d;
    rt_path p;
    rt_errs e;
    api_user_patch u;
    rt_json_dec_init(&d, b, size, RT_JSON_DEFAULT_DEPTH);
    rt_path_init(&p);
    rt_errs_init(&e);
    if (api_user_patch_decode(&d, arena, &p, &e, &u) == 0)
        api_user_patch_validate(&u, &p, &e);
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!arena && !(arena = rt_arena_new(4096)))
        abort();
    check_validate_agrees(data, size);
    check_new_user(data, size);
    check_user_patch(data, size);
    rt_arena_reset(arena);
    return 0;
}
