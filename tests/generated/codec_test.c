/*
 * codec_test.c - the generated decoders, validators, encoders and router of
 * api/openapi.yaml, run against the real runtime.
 *
 * Requests for api_dispatch are built by hand with priv = NULL: http.c then
 * reports every query parameter and header as absent, so query parsing with
 * values present is left to the integration tests. The svc_ handlers are
 * stubs below, steered through `stub`.
 *
 * Run from the project root (the embedded-spec test reads api/openapi.yaml;
 * API_SPEC overrides the path).
 */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.gen.h"
#include "http.h"
#include "json.h"
#include "rt.h"
#include "validate.h"

/* ================================================================ fixtures */

static rt_arena *arena;
static rt_errs errs;
static rt_json_dec dec;
static char text_buf[16384];

static void setup(void)
{
    arena = rt_arena_new(1024);
    cr_assert_not_null(arena);
    rt_errs_init(&errs);
}

static void teardown(void)
{
    rt_arena_free(arena);
}

/*
 * parse_<type>(json, &out): decode a copy of json (the decoder works in
 * place), finish, and validate, merging the validator's findings with
 * rt_errs_merge - the order the router uses. Returns the decoder's result; errors land in errs.
 */
#define DEFINE_PARSE(T)                                                      \
    static int parse_##T(const char *json, api_##T *out)                     \
    {                                                                        \
        rt_path p;                                                           \
        size_t n = strlen(json);                                             \
        int rc;                                                              \
                                                                             \
        cr_assert_lt(n, sizeof text_buf);                                    \
        memcpy(text_buf, json, n);                                           \
        rt_json_dec_init(&dec, text_buf, n, RT_JSON_DEFAULT_DEPTH);          \
        rt_path_init(&p);                                                    \
        rc = api_##T##_decode(&dec, arena, &p, &errs, out);                  \
        if (rc == 0)                                                         \
            rc = rt_json_finish(&dec);                                       \
        cr_assert_eq(p.len, 0, "pointer not unwound: %s", p.buf);            \
        if (rc == 0) {                                                       \
            rt_errs more;                                                    \
            rt_errs_init(&more);                                             \
            api_##T##_validate(out, &p, &more);                              \
            rt_errs_merge(&errs, &more);                                     \
        }                                                                    \
        cr_assert_eq(p.len, 0, "pointer not unwound: %s", p.buf);            \
        return rc;                                                           \
    }

#define DEFINE_ENCODE(T)                                                     \
    static const char *encode_##T(const api_##T *v)                          \
    {                                                                        \
        static char out[16384];                                              \
        rt_buf b;                                                            \
                                                                             \
        rt_buf_init(&b);                                                     \
        api_##T##_encode(v, &b);                                             \
        cr_assert(!b.oom);                                                   \
        cr_assert_lt(b.len, sizeof out);                                     \
        memcpy(out, b.data, b.len);                                          \
        out[b.len] = 0;                                                      \
        rt_buf_free(&b);                                                     \
        return out;                                                          \
    }

DEFINE_PARSE(user)
DEFINE_PARSE(user_list)
DEFINE_PARSE(new_user)
DEFINE_PARSE(user_patch)
DEFINE_PARSE(health)
DEFINE_PARSE(error)
DEFINE_ENCODE(user)
DEFINE_ENCODE(user_list)
DEFINE_ENCODE(new_user)
DEFINE_ENCODE(user_patch)
DEFINE_ENCODE(health)
DEFINE_ENCODE(error)

/* Exactly one field error, at field, for reason. */
static void expect_one(const char *field, const char *reason)
{
    cr_assert_eq(errs.n, 1, "want 1 error (%s: %s), got %u; first: %s: %s", field, reason,
                 errs.n, errs.n ? errs.e[0].field : "-", errs.n ? errs.e[0].reason : "-");
    cr_assert_str_eq(errs.e[0].field, field);
    cr_assert_str_eq(errs.e[0].reason, reason);
}

static bool has_error(const char *field, const char *reason)
{
    for (unsigned i = 0; i < errs.n; i++) {
        if (strcmp(errs.e[i].field, field) == 0 && strcmp(errs.e[i].reason, reason) == 0)
            return true;
    }
    return false;
}

static bool rt_str_is(rt_str s, const char *c)
{
    return rt_str_eq_cstr(s, c);
}

#define USER_42                                                              \
    "{\"id\":42,\"username\":\"alice42\",\"email\":\"alice@example.com\","   \
    "\"created_at\":\"2026-11-23T10:00:00.000000Z\","                         \
    "\"updated_at\":\"2026-11-23T10:00:01.500000Z\"}"

/* A valid User with the given id, as JSON. */
static const char *user_json(int id)
{
    static char out[512];

    snprintf(out, sizeof out,
             "{\"id\":%d,\"username\":\"user%d\",\"email\":\"u%d@example.com\","
             "\"created_at\":\"2026-11-23T10:00:00.000000Z\","
             "\"updated_at\":\"2026-11-23T10:00:00.000000Z\"}",
             id, id, id);
    return out;
}

/* ================================================================ round trips */

TestSuite(codec, .init = setup, .fini = teardown);

Test(codec, user_round_trip)
{
    api_user u;

    cr_assert_eq(parse_user(USER_42, &u), 0);
    cr_assert_eq(errs.n, 0);
    cr_assert_eq(u.id, 42);
    cr_assert(rt_str_is(u.username, "alice42"));
    cr_assert(rt_str_is(u.email, "alice@example.com"));
    cr_assert_eq(u.updated_at - u.created_at, 1500000);
    cr_assert_str_eq(encode_user(&u), USER_42);
}

Test(codec, user_decode_accepts_any_offset_and_skips_unknown_keys)
{
    api_user u;

    /* User does not forbid additional properties: unknown keys are skipped. */
    cr_assert_eq(parse_user("{\"extra\":{\"a\":[1,2,{\"b\":null}]},\"id\":1,"
                            "\"username\":\"bob\",\"email\":\"b@example.com\","
                            "\"created_at\":\"2026-11-23T12:00:00+02:00\","
                            "\"updated_at\":\"2026-11-23T10:00:00Z\"}",
                            &u),
                 0);
    cr_assert_eq(errs.n, 0);
    cr_assert_eq(u.created_at, u.updated_at);
}

Test(codec, user_list_empty_and_null)
{
    api_user_list l;

    cr_assert_eq(parse_user_list("{\"items\":[],\"next_after\":null}", &l), 0);
    cr_assert_eq(errs.n, 0);
    cr_assert_eq(l.items_len, 0);
    cr_assert(l.next_after_is_null);
    cr_assert_str_eq(encode_user_list(&l), "{\"items\":[],\"next_after\":null}");
}

static void user_list_round_trip(int count)
{
    char json[8192];
    size_t n;
    api_user_list l;

    n = (size_t)snprintf(json, sizeof json, "{\"items\":[");
    for (int i = 1; i <= count; i++)
        n += (size_t)snprintf(json + n, sizeof json - n, "%s%s", i > 1 ? "," : "", user_json(i));
    snprintf(json + n, sizeof json - n, "],\"next_after\":%d}", count);

    cr_assert_eq(parse_user_list(json, &l), 0);
    cr_assert_eq(errs.n, 0, "%s: %s", errs.e[0].field, errs.e[0].reason);
    cr_assert_eq(l.items_len, (size_t)count);
    cr_assert(!l.next_after_is_null);
    cr_assert_eq(l.next_after, count);
    for (int i = 0; i < count; i++)
        cr_assert_eq(l.items[i].id, i + 1);
    cr_assert_str_eq(encode_user_list(&l), json);
}

Test(codec, user_list_one_item)
{
    user_list_round_trip(1);
}

Test(codec, user_list_three_items)
{
    user_list_round_trip(3);
}

Test(codec, user_list_grows_past_first_capacity)
{
    user_list_round_trip(11);
}

Test(codec, new_user_round_trip)
{
    static const char json[] = "{\"username\":\"alice42\",\"email\":\"alice@example.com\"}";
    api_new_user u;

    cr_assert_eq(parse_new_user(json, &u), 0);
    cr_assert_eq(errs.n, 0);
    cr_assert_str_eq(encode_new_user(&u), json);
}

Test(codec, new_user_escaped_strings_are_views_unescaped_in_place)
{
    api_new_user u;

    cr_assert_eq(parse_new_user("{\"username\":\"al\\u0069ce\",\"email\":\"a@example.com\"}", &u), 0);
    cr_assert_eq(errs.n, 0);
    cr_assert(rt_str_is(u.username, "alice"));
    cr_assert(u.username.ptr >= text_buf && u.username.ptr < text_buf + sizeof text_buf);
}

Test(codec, user_patch_round_trips)
{
    static const char *const cases[] = {
        "{\"username\":\"bob\"}",
        "{\"email\":\"bob@example.com\"}",
        "{\"username\":\"bob\",\"email\":\"bob@example.com\"}",
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_user_patch u;

        rt_errs_init(&errs);
        cr_assert_eq(parse_user_patch(cases[i], &u), 0);
        cr_assert_eq(errs.n, 0, "%s", cases[i]);
        cr_assert_str_eq(encode_user_patch(&u), cases[i]);
    }
}

Test(codec, user_patch_presence_flags)
{
    api_user_patch u;

    cr_assert_eq(parse_user_patch("{\"email\":\"bob@example.com\"}", &u), 0);
    cr_assert(!u.has_username);
    cr_assert(u.has_email);
}

Test(codec, health_round_trip)
{
    api_health h;

    cr_assert_eq(parse_health("{\"status\":\"ok\"}", &h), 0);
    cr_assert_eq(errs.n, 0);
    cr_assert_eq(h.status, API_HEALTH_STATUS_OK);
    cr_assert_str_eq(api_health_status_names[API_HEALTH_STATUS_OK], "ok");
    cr_assert_str_eq(encode_health(&h), "{\"status\":\"ok\"}");
}

Test(codec, error_envelope_round_trip)
{
    static const char json[] =
        "{\"error\":{\"code\":\"VALIDATION_ERROR\",\"message\":\"invalid request body\","
        "\"details\":[{\"field\":\"/email\",\"reason\":\"must be a valid email address\"},"
        "{\"field\":\"/username\",\"reason\":\"is required\"}],\"request_id\":\"r1\"}}";
    api_error env;

    cr_assert_eq(parse_error(json, &env), 0);
    cr_assert_eq(errs.n, 0);
    cr_assert_eq(env.error.code, API_ERROR_ERROR_CODE_VALIDATION_ERROR);
    cr_assert_eq(env.error.details_len, 2);
    cr_assert(rt_str_is(env.error.details[1].field, "/username"));
    cr_assert_str_eq(encode_error(&env), json);
}

Test(codec, encoder_escapes_strings)
{
    api_new_user u = { RT_STR("a\"b\\c\n"), RT_STR("x@example.com") };

    cr_assert_str_eq(encode_new_user(&u), "{\"username\":\"a\\\"b\\\\c\\n\",\"email\":\"x@example.com\"}");
}

/* ================================================================ one broken constraint, one error */

static void new_user_expect(const char *json, const char *field, const char *reason)
{
    api_new_user u;

    rt_errs_init(&errs);
    cr_assert_eq(parse_new_user(json, &u), 0, "%s", json);
    expect_one(field, reason);
}

Test(codec, username_too_short)
{
    new_user_expect("{\"username\":\"ab\",\"email\":\"a@example.com\"}", "/username",
                    "must be at least 3 characters");
}

Test(codec, username_too_long)
{
    new_user_expect("{\"username\":\"abcdefghijklmnopqrstuvwxyz0123456\",\"email\":\"a@example.com\"}",
                    "/username", "must be at most 32 characters");
}

Test(codec, username_of_exactly_the_bounds_is_fine)
{
    api_new_user u;

    cr_assert_eq(parse_new_user("{\"username\":\"abc\",\"email\":\"a@example.com\"}", &u), 0);
    cr_assert_eq(errs.n, 0);
    cr_assert_eq(parse_new_user("{\"username\":\"abcdefghijklmnopqrstuvwxyz012345\",\"email\":\"a@example.com\"}", &u), 0);
    cr_assert_eq(errs.n, 0);
}

Test(codec, username_not_alphanumeric)
{
    new_user_expect("{\"username\":\"alice_42\",\"email\":\"a@example.com\"}", "/username",
                    "must contain only letters and digits");
}

Test(codec, username_length_counts_code_points)
{
    api_new_user u;

    /* Multi-byte letters always break the ASCII pattern too; what this shows is
     * that the length is counted in code points. "\u00e9\u00e9" is 4 bytes but 2
     * characters: too short. */
    cr_assert_eq(parse_new_user("{\"username\":\"\u00e9\u00e9\",\"email\":\"a@example.com\"}", &u), 0);
    cr_assert_eq(errs.n, 2);
    cr_assert(has_error("/username", "must be at least 3 characters"));
    cr_assert(has_error("/username", "must contain only letters and digits"));

    /* 20 x U+00E9: 40 bytes but 20 characters, within 32. */
    rt_errs_init(&errs);
    cr_assert_eq(parse_new_user("{\"username\":\"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
                                "\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\","
                                "\"email\":\"a@example.com\"}",
                                &u),
                 0);
    expect_one("/username", "must contain only letters and digits");
}

Test(codec, email_invalid)
{
    new_user_expect("{\"username\":\"alice\",\"email\":\"not-an-email\"}", "/email",
                    "must be a valid email address");
}

Test(codec, email_longer_than_254)
{
    char json[512];
    char local[64];
    char domain[260];
    api_new_user u;

    /* 60 + 1 + 200 = 261 characters. rt_is_email caps addresses at 254 as well,
     * so this one breaks maxLength and the format: both are reported. */
    memset(local, 'a', 60);
    local[60] = 0;
    memset(domain, 'b', 196);
    memcpy(domain + 196, ".com", 5);
    snprintf(json, sizeof json, "{\"username\":\"alice\",\"email\":\"%s@%s\"}", local, domain);
    cr_assert_eq(parse_new_user(json, &u), 0);
    cr_assert_eq(errs.n, 2);
    cr_assert(has_error("/email", "must be at most 254 characters"));
    cr_assert(has_error("/email", "must be a valid email address"));
}

Test(codec, unknown_field_rejected)
{
    new_user_expect("{\"username\":\"alice\",\"email\":\"a@example.com\",\"admin\":true}", "/admin",
                    "unknown field");
}

Test(codec, unknown_field_pointer_is_escaped)
{
    new_user_expect("{\"username\":\"alice\",\"email\":\"a@example.com\",\"a/b~c\":1}", "/a~1b~0c",
                    "unknown field");
}

Test(codec, missing_required)
{
    new_user_expect("{\"username\":\"alice\"}", "/email", "is required");
}

Test(codec, duplicate_key)
{
    new_user_expect("{\"username\":\"alice\",\"email\":\"a@example.com\",\"username\":\"bob\"}",
                    "/username", "duplicate field");
}

Test(codec, wrong_types)
{
    api_user u;

    new_user_expect("{\"username\":42,\"email\":\"a@example.com\"}", "/username", "must be a string");
    new_user_expect("{\"username\":null,\"email\":\"a@example.com\"}", "/username", "must be a string");
    new_user_expect("[1,2]", "", "must be an object");
    new_user_expect("\"alice\"", "", "must be an object");

    rt_errs_init(&errs);
    cr_assert_eq(parse_user("{\"id\":\"42\",\"username\":\"alice\",\"email\":\"a@example.com\","
                            "\"created_at\":\"2026-11-23T10:00:00Z\",\"updated_at\":\"2026-11-23T10:00:00Z\"}",
                            &u),
                 0);
    expect_one("/id", "must be an integer");
}

static void user_id_expect(const char *id, const char *reason)
{
    char json[512];
    api_user u;

    snprintf(json, sizeof json,
             "{\"id\":%s,\"username\":\"alice\",\"email\":\"a@example.com\","
             "\"created_at\":\"2026-11-23T10:00:00Z\",\"updated_at\":\"2026-11-23T10:00:00Z\"}",
             id);
    rt_errs_init(&errs);
    cr_assert_eq(parse_user(json, &u), 0, "%s", json);
    expect_one("/id", reason);
}

Test(codec, integer_with_fraction)
{
    user_id_expect("1.5", "must be an integer");
    user_id_expect("1e3", "must be an integer");
}

Test(codec, huge_integer)
{
    user_id_expect("99999999999999999999", "out of range");
    user_id_expect("-9223372036854775809", "out of range");
}

Test(codec, integer_minimum)
{
    user_id_expect("0", "must be >= 1");
    user_id_expect("-5", "must be >= 1");
}

Test(codec, bad_date_time)
{
    api_user u;

    cr_assert_eq(parse_user("{\"id\":1,\"username\":\"alice\",\"email\":\"a@example.com\","
                            "\"created_at\":\"yesterday\",\"updated_at\":\"2026-11-23T10:00:00Z\"}",
                            &u),
                 0);
    expect_one("/created_at", "must be an RFC 3339 date-time");
}

Test(codec, enum_mismatch)
{
    api_health h;

    cr_assert_eq(parse_health("{\"status\":\"fine\"}", &h), 0);
    expect_one("/status", "must be one of: ok");
}

Test(codec, user_patch_empty_breaks_min_properties)
{
    api_user_patch u;

    cr_assert_eq(parse_user_patch("{}", &u), 0);
    expect_one("", "must have at least 1 property");
}

Test(codec, user_patch_validates_present_fields)
{
    api_user_patch u;

    cr_assert_eq(parse_user_patch("{\"email\":\"nope\"}", &u), 0);
    expect_one("/email", "must be a valid email address");
}

Test(codec, user_list_errors_point_into_items)
{
    api_user_list l;
    char json[1024];

    snprintf(json, sizeof json, "{\"items\":[%s,{\"id\":0,\"username\":\"bob\",\"email\":\"b@example.com\","
                                "\"created_at\":\"2026-11-23T10:00:00Z\",\"updated_at\":\"2026-11-23T10:00:00Z\"}],"
                                "\"next_after\":null}",
             user_json(1));
    cr_assert_eq(parse_user_list(json, &l), 0);
    expect_one("/items/1/id", "must be >= 1");

    rt_errs_init(&errs);
    cr_assert_eq(parse_user_list("{\"items\":[{\"id\":1}],\"next_after\":\"x\"}", &l), 0);
    /* created_at and updated_at are required but readOnly: OpenAPI makes
     * that "required" hold for responses only, and decoders read requests. */
    cr_assert_eq(errs.n, 3);
    cr_assert(has_error("/items/0/username", "is required"));
    cr_assert(has_error("/items/0/email", "is required"));
    cr_assert(has_error("/next_after", "must be an integer"));

    rt_errs_init(&errs);
    cr_assert_eq(parse_user_list("{\"items\":{},\"next_after\":1}", &l), 0);
    expect_one("/items", "must be an array");
}

Test(codec, user_list_max_items)
{
    static char json[16384 - 64];
    size_t n;
    api_user_list l;

    n = (size_t)snprintf(json, sizeof json, "{\"items\":[");
    for (int i = 1; i <= 101; i++)
        n += (size_t)snprintf(json + n, sizeof json - n, "%s{\"id\":%d,\"username\":\"u%03d\","
                              "\"email\":\"u@example.com\",\"created_at\":\"2026-01-01T00:00:00Z\","
                              "\"updated_at\":\"2026-01-01T00:00:00Z\"}",
                              i > 1 ? "," : "", i, i);
    cr_assert_lt(n + 32, sizeof json);
    snprintf(json + n, sizeof json - n, "],\"next_after\":null}");
    cr_assert_eq(parse_user_list(json, &l), 0);
    cr_assert_eq(l.items_len, 101);
    expect_one("/items", "must have at most 100 items");
}

Test(codec, all_field_errors_reported_together)
{
    api_new_user u;

    cr_assert_eq(parse_new_user("{\"username\":1,\"x\":2}", &u), 0);
    cr_assert_eq(errs.n, 3);
    cr_assert(has_error("/username", "must be a string"));
    cr_assert(has_error("/x", "unknown field"));
    cr_assert(has_error("/email", "is required"));
}

/* ================================================================ malformed JSON */

Test(codec, malformed_json_reports_position)
{
    api_new_user u;
    int rc;

    rc = parse_new_user("{\"username\":\"alice\",}", &u);
    cr_assert_eq(rc, RT_JSON_ESYNTAX);
    cr_assert_eq(dec.err_pos, 20);
    cr_assert_not_null(dec.err);

    rc = parse_new_user("{\"username\":", &u);
    cr_assert_eq(rc, RT_JSON_ESYNTAX);
    cr_assert_eq(dec.err_pos, 12);

    rc = parse_new_user("{\"username\":\"alice\",\"email\":\"a@example.com\"} x", &u);
    cr_assert_eq(rc, RT_JSON_ESYNTAX);
    cr_assert_eq(dec.err_pos, 45);

    rc = parse_new_user("", &u);
    cr_assert_eq(rc, RT_JSON_ESYNTAX);
}

Test(codec, malformed_inside_skipped_value)
{
    api_user u;

    cr_assert_eq(parse_user("{\"extra\":[1,,2]}", &u), RT_JSON_ESYNTAX);
    cr_assert_eq(dec.err_pos, 12);
}

Test(codec, nesting_too_deep)
{
    char json[400];
    size_t n = 0;
    api_user u;

    n += (size_t)snprintf(json, sizeof json, "{\"extra\":");
    for (int i = 0; i < 100; i++)
        json[n++] = '[';
    for (int i = 0; i < 100; i++)
        json[n++] = ']';
    json[n++] = '}';
    json[n] = 0;
    cr_assert_eq(parse_user(json, &u), RT_JSON_EDEPTH);
}

/* ================================================================ router: matching */

static int route(const char *method, const char *path, api_route *r)
{
    return api_route_match((rt_str){ method, strlen(method) }, (rt_str){ path, strlen(path) }, r);
}

Test(router, matches_every_operation)
{
    static const struct {
        const char *method, *path;
        int op;
    } cases[] = {
        { "GET", "/healthz", API_OP_GET_HEALTHZ },
        { "GET", "/readyz", API_OP_GET_READYZ },
        { "POST", "/users", API_OP_CREATE_USER },
        { "GET", "/users", API_OP_LIST_USERS },
        { "GET", "/users/42", API_OP_GET_USER },
        { "PATCH", "/users/42", API_OP_UPDATE_USER },
        { "DELETE", "/users/42", API_OP_DELETE_USER },
        { "GET", "/openapi.yaml", API_OP_SPEC_YAML },
        { "GET", "/openapi.json", API_OP_SPEC_JSON },
    };

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        api_route r;

        cr_assert_eq(route(cases[i].method, cases[i].path, &r), 0, "%s %s", cases[i].method, cases[i].path);
        cr_assert_eq(r.op, cases[i].op, "%s %s", cases[i].method, cases[i].path);
    }
}

Test(router, captures_path_parameters)
{
    api_route r;

    cr_assert_eq(route("GET", "/users/12345", &r), 0);
    cr_assert_eq(r.nparams, 1);
    cr_assert(rt_str_is(r.params[0], "12345"));
}

Test(router, not_found)
{
    static const char *const paths[] = {
        "/nope", "/users/", "/users/1/", "//users", "/users//1", "/users/1/x", "", "users", "/",
        "/healthz/", "/HEALTHZ", "/healthzz", "/a/b/c/d",
    };

    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        api_route r;

        cr_assert_eq(route("GET", paths[i], &r), 404, "%s", paths[i]);
        cr_assert_eq(r.op, -1);
    }
}

Test(router, method_not_allowed_lists_methods)
{
    api_route r;

    cr_assert_eq(route("PUT", "/users/1", &r), 405);
    cr_assert(rt_str_is(r.allow, "GET, HEAD, PATCH, DELETE"));
    cr_assert_eq(route("DELETE", "/users", &r), 405);
    cr_assert(rt_str_is(r.allow, "GET, HEAD, POST"));
    cr_assert_eq(route("BREW", "/healthz", &r), 405);
    cr_assert(rt_str_is(r.allow, "GET, HEAD"));
    cr_assert_eq(route("get", "/healthz", &r), 405);
}

Test(router, head_is_served_by_the_get_operation)
{
    api_route g, h;

    cr_assert_eq(route("GET", "/users/7", &g), 0);
    cr_assert_eq(route("HEAD", "/users/7", &h), 0);
    cr_assert_eq(h.op, g.op);
    cr_assert_eq(h.nparams, 1);
    cr_assert(rt_str_is(h.params[0], "7"));
    cr_assert_eq(route("HEAD", "/openapi.json", &h), 0);
}

/* ================================================================ router: dispatch */

/* What the stub handlers saw and what they answer. */
static struct {
    int calls;
    rt_status ret;
    int status;                /* 0: keep the generated default */
    const char *raw;
    bool set_location;
    api_get_user_params user_params;
    api_list_users_params list_params;
    api_new_user new_user;
    api_user_patch patch;
} stub;

static void fill_user(api_user *u, int64_t id)
{
    u->id = id;
    u->username = RT_STR("alice42");
    u->email = RT_STR("alice@example.com");
    u->created_at = 1795428000000000;
    u->updated_at = 1795428000000000;
}

static rt_status answer(int *status, rt_str *raw)
{
    stub.calls++;
    if (stub.status)
        *status = stub.status;
    if (stub.raw)
        *raw = (rt_str){ stub.raw, strlen(stub.raw) };
    return stub.ret;
}

rt_status svc_get_healthz(rt_req *req, api_get_healthz_result *res)
{
    (void)req;
    res->body_200.status = API_HEALTH_STATUS_OK;
    return answer(&res->status, &res->raw);
}

rt_status svc_get_readyz(rt_req *req, api_get_readyz_result *res)
{
    (void)req;
    res->body_200.status = API_HEALTH_STATUS_OK;
    return answer(&res->status, &res->raw);
}

rt_status svc_create_user(rt_req *req, api_new_user *body, api_create_user_result *res)
{
    (void)req;
    stub.new_user = *body;
    fill_user(&res->body_201, 7);
    if (stub.set_location)
        res->header_location = RT_STR("/users/7");
    return answer(&res->status, &res->raw);
}

rt_status svc_list_users(rt_req *req, const api_list_users_params *params, api_list_users_result *res)
{
    (void)req;
    stub.list_params = *params;
    res->body_200.next_after_is_null = true;
    return answer(&res->status, &res->raw);
}

rt_status svc_get_user(rt_req *req, const api_get_user_params *params, api_get_user_result *res)
{
    if (stub.ret == RT_E_NOT_FOUND)
        return rt_req_fail(req, RT_E_NOT_FOUND, "user not found");
    stub.user_params = *params;
    fill_user(&res->body_200, params->id);
    return answer(&res->status, &res->raw);
}

rt_status svc_update_user(rt_req *req, const api_update_user_params *params, api_user_patch *body,
                          api_update_user_result *res)
{
    (void)req;
    stub.patch = *body;
    fill_user(&res->body_200, params->id);
    return answer(&res->status, &res->raw);
}

rt_status svc_delete_user(rt_req *req, const api_delete_user_params *params, api_delete_user_result *res)
{
    (void)req;
    stub.user_params.id = params->id;
    return answer(&res->status, &res->raw);
}

typedef struct call {
    rt_req req;
    rt_resp resp;
    char body[4096];
    char out[65536];           /* the response body, NUL-terminated */
} call;

static call cur;

static void dispatch_setup(void)
{
    memset(&stub, 0, sizeof stub);
    memset(&cur, 0, sizeof cur);
    cur.req.arena = rt_arena_new(4096);
    cr_assert_not_null(cur.req.arena);
    cur.req.request_id = RT_STR("test-1");
    rt_buf_init(&cur.resp.body);
}

static void dispatch_teardown(void)
{
    rt_buf_free(&cur.resp.body);
    rt_arena_free(cur.req.arena);
}

TestSuite(dispatch, .init = dispatch_setup, .fini = dispatch_teardown);

/* The next dispatch() sends its body as a form instead of JSON. */
static bool next_media_form;

static const char *dispatch(const char *method, const char *path, const char *body)
{
    cur.req.method = (rt_str){ method, strlen(method) };
    cur.req.path = (rt_str){ path, strlen(path) };
    if (body) {
        cur.req.body_len = strlen(body);
        cr_assert_lt(cur.req.body_len, sizeof cur.body);
        memcpy(cur.body, body, cur.req.body_len);
        cur.req.body = cur.body;
        cur.req.media = next_media_form ? RT_MEDIA_FORM : RT_MEDIA_JSON;
        next_media_form = false;
    }
    rt_errs_init(&cur.req.errs);
    cur.req.err_msg = NULL;
    rt_buf_reset(&cur.resp.body);
    cur.resp.status = 200;
    cur.resp.content_type = NULL;
    cur.resp.nheaders = 0;
    api_dispatch(&cur.req, &cur.resp);
    cr_assert(!cur.resp.body.oom);
    cr_assert_lt(cur.resp.body.len, sizeof cur.out);
    if (cur.resp.body.len > 0)
        memcpy(cur.out, cur.resp.body.data, cur.resp.body.len);
    cur.out[cur.resp.body.len] = 0;
    return cur.out;
}

static const char *header(const char *name)
{
    static char out[256];

    for (unsigned i = 0; i < cur.resp.nheaders; i++) {
        if (strcmp(cur.resp.headers[i].name, name) == 0) {
            snprintf(out, sizeof out, "%.*s", (int)cur.resp.headers[i].value.len,
                     cur.resp.headers[i].value.ptr);
            return out;
        }
    }
    return NULL;
}

#define ERROR_PREFIX(code) "{\"error\":{\"code\":\"" code "\""

Test(dispatch, healthz)
{
    cr_assert_str_eq(dispatch("GET", "/healthz", NULL), "{\"status\":\"ok\"}");
    cr_assert_eq(cur.resp.status, 200);
    cr_assert_eq(stub.calls, 1);
}

Test(dispatch, get_user_parses_the_path_parameter)
{
    const char *out = dispatch("GET", "/users/42", NULL);

    cr_assert_eq(cur.resp.status, 200);
    cr_assert_eq(stub.user_params.id, 42);
    cr_assert(strstr(out, "{\"id\":42,\"username\":\"alice42\"") == out, "%s", out);
}

static void expect_param_error(const char *path, const char *reason)
{
    const char *out = dispatch("GET", path, NULL);

    cr_assert_eq(cur.resp.status, 400, "%s", path);
    cr_assert_eq(stub.calls, 0);
    cr_assert(strstr(out, ERROR_PREFIX("VALIDATION_ERROR")) == out, "%s", out);
    cr_assert_eq(cur.req.errs.n, 1);
    cr_assert_str_eq(cur.req.errs.e[0].field, "path.id");
    cr_assert_str_eq(cur.req.errs.e[0].reason, reason);
}

Test(dispatch, path_parameter_errors)
{
    expect_param_error("/users/abc", "must be an integer");
    expect_param_error("/users/007", "must be an integer");
    expect_param_error("/users/1.5", "must be an integer");
    expect_param_error("/users/99999999999999999999", "out of range");
    expect_param_error("/users/0", "must be >= 1");
    expect_param_error("/users/-3", "must be >= 1");
}

Test(dispatch, list_users_defaults_when_query_absent)
{
    cr_assert_str_eq(dispatch("GET", "/users", NULL), "{\"items\":[],\"next_after\":null}");
    cr_assert_eq(stub.list_params.limit, 20);
    cr_assert(!stub.list_params.has_after);
}

Test(dispatch, not_found_and_method_not_allowed)
{
    const char *out = dispatch("GET", "/nope", NULL);

    cr_assert_eq(cur.resp.status, 404);
    cr_assert(strstr(out, ERROR_PREFIX("NOT_FOUND")) == out, "%s", out);
    cr_assert(strstr(out, "\"message\":\"no such route\"") != NULL, "%s", out);

    out = dispatch("PUT", "/users/1", NULL);
    cr_assert_eq(cur.resp.status, 405);
    cr_assert(strstr(out, ERROR_PREFIX("METHOD_NOT_ALLOWED")) == out, "%s", out);
    cr_assert_not_null(header("Allow"));
    cr_assert_str_eq(header("Allow"), "GET, HEAD, PATCH, DELETE");
    cr_assert_eq(stub.calls, 0);
}

Test(dispatch, create_user)
{
    const char *out;

    stub.set_location = true;
    out = dispatch("POST", "/users", "{\"username\":\"alice42\",\"email\":\"alice@example.com\"}");
    cr_assert_eq(cur.resp.status, 201, "%s", out);
    cr_assert(rt_str_is(stub.new_user.username, "alice42"));
    cr_assert_str_eq(out, "{\"id\":7,\"username\":\"alice42\",\"email\":\"alice@example.com\","
                          "\"created_at\":\"2026-11-23T10:00:00.000000Z\","
                          "\"updated_at\":\"2026-11-23T10:00:00.000000Z\"}");
    cr_assert_not_null(header("Location"));
    cr_assert_str_eq(header("Location"), "/users/7");
}

Test(dispatch, create_user_without_body)
{
    const char *out = dispatch("POST", "/users", NULL);

    cr_assert_eq(cur.resp.status, 400);
    cr_assert(strstr(out, ERROR_PREFIX("BAD_REQUEST")) == out, "%s", out);
    cr_assert(strstr(out, "request body is required") != NULL, "%s", out);
    cr_assert_eq(stub.calls, 0);
}

Test(dispatch, create_user_form_body_is_415)
{
    next_media_form = true;
    dispatch("POST", "/users", "username=alice&email=a%40example.com");
    cr_expect_eq(cur.resp.status, 415);
    cr_expect(strstr(cur.out, "\"UNSUPPORTED_MEDIA_TYPE\"") &&
                  strstr(cur.out, "request body must be application/json"),
              "%s", cur.out);
    cr_expect_eq(stub.calls, 0);
}

Test(dispatch, create_user_malformed)
{
    const char *out = dispatch("POST", "/users", "{\"username\":\"alice42\",");

    cr_assert_eq(cur.resp.status, 400);
    cr_assert(strstr(out, ERROR_PREFIX("BAD_REQUEST")) == out, "%s", out);
    cr_assert(strstr(out, "\"message\":\"malformed JSON at byte 22: ") != NULL, "%s", out);
    cr_assert(strstr(out, "\"details\":[]") != NULL, "%s", out);
}

Test(dispatch, create_user_invalid)
{
    const char *out = dispatch("POST", "/users", "{\"username\":\"al\",\"email\":\"nope\"}");

    cr_assert_eq(cur.resp.status, 400);
    cr_assert(strstr(out, ERROR_PREFIX("VALIDATION_ERROR")) == out, "%s", out);
    cr_assert(strstr(out, "\"message\":\"invalid request body\"") != NULL, "%s", out);
    cr_assert(strstr(out, "{\"field\":\"/username\",\"reason\":\"must be at least 3 characters\"}") != NULL,
              "%s", out);
    cr_assert(strstr(out, "{\"field\":\"/email\",\"reason\":\"must be a valid email address\"}") != NULL,
              "%s", out);
    cr_assert_eq(stub.calls, 0);
}

Test(dispatch, body_not_an_object)
{
    const char *out = dispatch("PATCH", "/users/3", "[]");

    cr_assert_eq(cur.resp.status, 400);
    cr_assert(strstr(out, "{\"field\":\"\",\"reason\":\"must be an object\"}") != NULL, "%s", out);
}

Test(dispatch, update_user)
{
    const char *out = dispatch("PATCH", "/users/3", "{\"email\":\"new@example.com\"}");

    cr_assert_eq(cur.resp.status, 200, "%s", out);
    cr_assert(stub.patch.has_email);
    cr_assert(!stub.patch.has_username);
    cr_assert(strstr(out, "{\"id\":3,") == out, "%s", out);
}

Test(dispatch, update_user_empty_object)
{
    const char *out = dispatch("PATCH", "/users/3", "{}");

    cr_assert_eq(cur.resp.status, 400);
    cr_assert(strstr(out, "{\"field\":\"\",\"reason\":\"must have at least 1 property\"}") != NULL, "%s", out);
}

Test(dispatch, delete_user_has_no_body)
{
    cr_assert_str_eq(dispatch("DELETE", "/users/9", NULL), "");
    cr_assert_eq(cur.resp.status, 204);
    cr_assert_eq(stub.user_params.id, 9);
}

Test(dispatch, handler_error_becomes_envelope)
{
    const char *out;

    stub.ret = RT_E_NOT_FOUND;
    out = dispatch("GET", "/users/5", NULL);
    cr_assert_eq(cur.resp.status, 404);
    cr_assert(strstr(out, ERROR_PREFIX("NOT_FOUND")) == out, "%s", out);
    cr_assert(strstr(out, "\"message\":\"user not found\"") != NULL, "%s", out);
}

Test(dispatch, undeclared_status_is_internal)
{
    const char *out;

    stub.status = 418;
    out = dispatch("GET", "/healthz", NULL);
    cr_assert_eq(cur.resp.status, 500);
    cr_assert(strstr(out, ERROR_PREFIX("INTERNAL")) == out, "%s", out);
}

Test(dispatch, declared_error_status_with_raw_body)
{
    stub.status = 503;
    stub.raw = "{\"status\":\"down\"}";
    cr_assert_str_eq(dispatch("GET", "/readyz", NULL), "{\"status\":\"down\"}");
    cr_assert_eq(cur.resp.status, 503);
}

Test(dispatch, raw_body_replaces_encoding)
{
    stub.raw = "{\"id\":1}";
    cr_assert_str_eq(dispatch("GET", "/users/1", NULL), "{\"id\":1}");
    cr_assert_eq(cur.resp.status, 200);
}

/* ================================================================ embedded spec */

Test(spec, yaml_bytes_equal_the_file)
{
    const char *path = getenv("API_SPEC") ? getenv("API_SPEC") : "api/openapi.yaml";
    FILE *f = fopen(path, "rb");
    static char file[1 << 20];
    size_t n;

    cr_assert_not_null(f, "cannot open %s (run from the project root)", path);
    n = fread(file, 1, sizeof file, f);
    fclose(f);
    cr_assert_eq(n, api_spec_yaml_len);
    cr_assert(memcmp(file, api_spec_yaml, n) == 0);
    cr_assert_eq(api_spec_yaml[api_spec_yaml_len], '\0');
}

Test(spec, json_is_valid_json)
{
    size_t pos = 0;
    const char *why = NULL;

    cr_assert_eq(rt_json_validate(api_spec_json, api_spec_json_len, RT_JSON_DEFAULT_DEPTH, &pos, &why), 0,
                 "at %zu: %s", pos, why ? why : "");
    cr_assert(strstr(api_spec_json, "\"operationId\": \"createUser\"") != NULL);
    cr_assert(strstr(api_spec_json, "\"$ref\": \"#/components/schemas/User\"") != NULL);
}

Test(dispatch, serves_the_spec)
{
    dispatch("GET", "/openapi.yaml", NULL);
    cr_assert_eq(cur.resp.status, 200);
    cr_assert_str_eq(cur.resp.content_type, "application/yaml");
    cr_assert_eq(cur.resp.body.len, api_spec_yaml_len);
    cr_assert(memcmp(cur.resp.body.data, api_spec_yaml, api_spec_yaml_len) == 0);

    dispatch("GET", "/openapi.json", NULL);
    cr_assert_str_eq(cur.resp.content_type, "application/json");
    cr_assert_eq(cur.resp.body.len, api_spec_json_len);
}
