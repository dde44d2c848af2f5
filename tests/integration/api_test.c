/*
 * api_test.c - the users API end to end: a real server (started by
 * scripts/test.sh with BODY_LIMIT=65536) over a real PostgreSQL, driven by
 * libcurl. Every endpoint, every error status, and hostile input.
 *
 * Tests run in parallel processes, so each one creates users with names
 * unique to it and never assumes the table's contents.
 */
#include "client.h"

#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define J(...) #__VA_ARGS__

/* Assert that r is the error envelope with this status and code, and that
 * its request_id equals the X-Request-ID header. */
static void expect_error(const http_resp *r, long status, const char *code)
{
    char buf[256], rid[256];
    cr_assert_eq(r->status, status, "status %ld, want %ld; body %s", r->status, status, r->body);
    cr_assert_not_null(json_at(r->body, r->len, "/error/code", buf, sizeof buf), "no envelope: %s",
                       r->body);
    cr_assert_str_eq(buf, code, "code %s, want %s; body %s", buf, code, r->body);
    cr_assert_not_null(json_at(r->body, r->len, "/error/message", buf, sizeof buf));
    cr_assert_not_null(json_at(r->body, r->len, "/error/details", buf, sizeof buf));
    cr_assert_not_null(json_at(r->body, r->len, "/error/request_id", buf, sizeof buf));
    cr_assert_not_null(http_header(r, "X-Request-ID", rid, sizeof rid));
    cr_assert_str_eq(buf, rid);
    char ct[128];
    cr_assert_not_null(http_header(r, "Content-Type", ct, sizeof ct));
    cr_assert(strncmp(ct, "application/json", 16) == 0, "content type %s", ct);
}

/* The first detail's field must be `field`. */
static void expect_field(const http_resp *r, const char *field)
{
    char buf[256];
    cr_assert_not_null(json_at(r->body, r->len, "/error/details/0/field", buf, sizeof buf),
                       "no details: %s", r->body);
    cr_assert_str_eq(buf, field, "field %s, want %s; body %s", buf, field, r->body);
}

/* POST a user with a fresh username; returns its id. */
static int64_t create_user(char *name_out, size_t n)
{
    char name[64], body[256];
    unique_name("u", name, sizeof name);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"%s@example.com\"}", name, name);
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    cr_assert_eq(r.status, 201, "create: %ld %s", r.status, r.body);
    char id[32];
    cr_assert_not_null(json_at(r.body, r.len, "/id", id, sizeof id));
    http_resp_free(&r);
    if (name_out)
        snprintf(name_out, n, "%s", name);
    return strtoll(id, NULL, 10);
}

/* ---------------------------------------------------------------- health */

Test(health, healthz_ok)
{
    http_resp r;
    cr_assert_eq(http_get("/healthz", &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    char rid[256], ct[128];
    cr_assert_not_null(http_header(&r, "X-Request-ID", rid, sizeof rid));
    cr_assert_gt(strlen(rid), 0);
    cr_assert_not_null(http_header(&r, "Content-Type", ct, sizeof ct));
    cr_assert_str_eq(ct, "application/json");
    http_resp_free(&r);
}

Test(health, readyz_ok_when_database_answers)
{
    http_resp r;
    cr_assert_eq(http_get("/readyz", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"status\":\"ok\"}");
    http_resp_free(&r);
}

Test(health, request_id_is_echoed_and_hostile_ids_replaced)
{
    const char *mine[] = { "X-Request-ID: trace-42.a_b", NULL };
    http_resp r;
    cr_assert_eq(http_do("GET", "/users/0", NULL, NULL, 0, mine, &r), 0);
    char rid[256], buf[256];
    cr_assert_str_eq(http_header(&r, "X-Request-ID", rid, sizeof rid), "trace-42.a_b");
    cr_assert_str_eq(json_at(r.body, r.len, "/error/request_id", buf, sizeof buf), "trace-42.a_b");
    http_resp_free(&r);

    const char *bad[] = { "X-Request-ID: a\"b<script>", NULL };
    cr_assert_eq(http_do("GET", "/healthz", NULL, NULL, 0, bad, &r), 0);
    cr_assert_not_null(http_header(&r, "X-Request-ID", rid, sizeof rid));
    cr_assert_str_neq(rid, "a\"b<script>");
    cr_assert_null(strchr(rid, '"'));
    http_resp_free(&r);
}

Test(head, answers_like_get_without_a_body)
{
    http_resp r;
    cr_assert_eq(http_do("HEAD", "/healthz", NULL, NULL, 0, NULL, &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, 0);
    char cl[32], rid[256];
    cr_assert_str_eq(http_header(&r, "Content-Length", cl, sizeof cl), "15");
    cr_assert_not_null(http_header(&r, "X-Request-ID", rid, sizeof rid));
    http_resp_free(&r);
    cr_assert_eq(http_do("HEAD", "/users/9223372036854775807", NULL, NULL, 0, NULL, &r), 0);
    cr_assert_eq(r.status, 404);
    cr_assert_eq(r.len, 0);
    http_resp_free(&r);
}

Test(health, two_requests_get_different_ids)
{
    http_resp a, b;
    char ra[256], rb[256];
    cr_assert_eq(http_get("/healthz", &a), 0);
    cr_assert_eq(http_get("/healthz", &b), 0);
    http_header(&a, "X-Request-ID", ra, sizeof ra);
    http_header(&b, "X-Request-ID", rb, sizeof rb);
    cr_assert_str_neq(ra, rb);
    http_resp_free(&a);
    http_resp_free(&b);
}

/* ---------------------------------------------------------------- spec */

Test(spec, yaml_is_the_file)
{
    FILE *f = fopen("api/openapi.yaml", "rb");
    cr_assert_not_null(f, "run from the repository root");
    static char want[1 << 20];
    size_t n = fread(want, 1, sizeof want, f);
    fclose(f);
    http_resp r;
    cr_assert_eq(http_get("/openapi.yaml", &r), 0);
    cr_assert_eq(r.status, 200);
    cr_assert_eq(r.len, n);
    cr_assert(memcmp(r.body, want, n) == 0);
    char ct[128];
    cr_assert(strstr(http_header(&r, "Content-Type", ct, sizeof ct), "yaml") != NULL, "%s", ct);
    http_resp_free(&r);
}

Test(spec, json_is_valid_and_complete)
{
    http_resp r;
    cr_assert_eq(http_get("/openapi.json", &r), 0);
    cr_assert_eq(r.status, 200);
    char buf[256];
    cr_assert_str_eq(json_at(r.body, r.len, "/openapi", buf, sizeof buf), "3.0.3");
    cr_assert_str_eq(json_at(r.body, r.len, "/paths/~1users~1{id}/get/operationId", buf, sizeof buf),
                     "getUser");
    http_resp_free(&r);
}

/* ---------------------------------------------------------------- create */

Test(create, returns_201_user_and_location)
{
    char name[64], body[256];
    unique_name("c", name, sizeof name);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"%s@Example.com\"}", name, name);
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char id[32], loc[128], want[160], buf[256], ca[64], ua[64];
    cr_assert_not_null(json_at(r.body, r.len, "/id", id, sizeof id));
    cr_assert_gt(strtoll(id, NULL, 10), 0);
    snprintf(want, sizeof want, "/users/%s", id);
    cr_assert_str_eq(http_header(&r, "Location", loc, sizeof loc), want);
    cr_assert_str_eq(json_at(r.body, r.len, "/username", buf, sizeof buf), name);
    snprintf(want, sizeof want, "%s@Example.com", name);
    cr_assert_str_eq(json_at(r.body, r.len, "/email", buf, sizeof buf), want);
    cr_assert_not_null(json_at(r.body, r.len, "/created_at", ca, sizeof ca));
    cr_assert_not_null(json_at(r.body, r.len, "/updated_at", ua, sizeof ua));
    /* RFC 3339 UTC: 2026-11-23T10:00:00.123456Z */
    cr_assert_eq(strlen(ca), 27, "%s", ca);
    cr_assert(ca[4] == '-' && ca[10] == 'T' && ca[19] == '.' && ca[26] == 'Z', "%s", ca);
    cr_assert_str_eq(ca, ua);
    http_resp_free(&r);
}

Test(create, duplicate_username_or_email_is_409_regardless_of_case)
{
    char name[64], body[256], upper[64];
    create_user(name, sizeof name);
    for (size_t i = 0; i <= strlen(name); i++)
        upper[i] = (name[i] >= 'a' && name[i] <= 'z') ? (char)(name[i] - 32) : name[i];
    http_resp r;
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"other%s@example.com\"}", upper,
             name);
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    expect_error(&r, 409, "CONFLICT");
    http_resp_free(&r);

    snprintf(body, sizeof body, "{\"username\":\"x%s\",\"email\":\"%s@EXAMPLE.com\"}", name, name);
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    expect_error(&r, 409, "CONFLICT");
    http_resp_free(&r);
}

/* One invalid body -> 400 VALIDATION_ERROR with `field` first. */
static void expect_invalid(const char *body, const char *field)
{
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    expect_field(&r, field);
    http_resp_free(&r);
}

Test(create, username_rules)
{
    expect_invalid(J({ "username" : "ab", "email" : "ab@example.com" }), "/username");
    expect_invalid(J({ "username" : "a23456789012345678901234567890123", "email" : "a@example.com" }),
                   "/username");
    expect_invalid(J({ "username" : "bad name", "email" : "b@example.com" }), "/username");
    expect_invalid(J({ "username" : "h\u00e9llo", "email" : "h@example.com" }), "/username");
    expect_invalid(J({ "username" : "Robert'); DROP TABLE users;--", "email" : "r@example.com" }),
                   "/username");
    expect_invalid(J({ "username" : 12345, "email" : "n@example.com" }), "/username");
    expect_invalid(J({ "username" : null, "email" : "n@example.com" }), "/username");
    expect_invalid(J({ "email" : "n@example.com" }), "/username");
}

Test(create, username_of_exactly_32_is_accepted)
{
    char name[64], body[256];
    unique_name("m", name, sizeof name);
    size_t l = strlen(name);
    memset(name + l, 'z', 32 - l);
    name[32] = '\0';
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"%s@example.com\"}", name, name);
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_resp_free(&r);
}

Test(create, email_rules)
{
    expect_invalid(J({ "username" : "emailuser1", "email" : "not-an-email" }), "/email");
    expect_invalid(J({ "username" : "emailuser1", "email" : "a@b" }), "/email");
    expect_invalid(J({ "username" : "emailuser1", "email" : "a b@example.com" }), "/email");
    expect_invalid(J({ "username" : "emailuser1", "email" : "a@@example.com" }), "/email");
    expect_invalid(J({ "username" : "emailuser1", "email" : "" }), "/email");
    expect_invalid(J({ "username" : "emailuser1", "email" : ["a@example.com"] }), "/email");
    expect_invalid(J({ "username" : "emailuser1" }), "/email");

    /* 255 characters: one past the limit. */
    char local[64], body[512], dom[300];
    memset(local, 'a', 60);
    local[60] = '\0';
    snprintf(dom, sizeof dom, "%.63s.%.63s.%.63s.com", "b" "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
             "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc",
             "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd");
    snprintf(body, sizeof body, "{\"username\":\"emailuser2\",\"email\":\"%s@%s\"}", local, dom);
    cr_assert_gt(strlen(local) + 1 + strlen(dom), 254);
    expect_invalid(body, "/email");
}

Test(create, every_field_error_is_reported_together)
{
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", J({ "username" : "x", "email" : "nope" }), &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    char buf[64];
    cr_assert_not_null(json_at(r.body, r.len, "/error/details/1/field", buf, sizeof buf), "%s", r.body);
    http_resp_free(&r);
}

Test(create, decode_and_constraint_errors_are_reported_together)
{
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", J({ "username" : "x" }), &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    cr_assert(strstr(r.body, "{\"field\":\"/email\",\"reason\":\"is required\"}") != NULL, "%s", r.body);
    cr_assert(strstr(r.body, "{\"field\":\"/username\",\"reason\":\"must be at least 3 characters\"}") != NULL,
              "%s", r.body);
    http_resp_free(&r);

    cr_assert_eq(http_json("POST", "/users", J({ "username" : 7, "email" : "ok@example.com" }), &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    cr_assert_null(strstr(r.body, "/email"), "%s", r.body);
    cr_assert_null(json_at(r.body, r.len, "/error/details/1", (char[64]){ 0 }, 64),
                   "a wrong type is one error, not two: %s", r.body);
    http_resp_free(&r);
}

Test(create, unknown_fields_are_rejected)
{
    expect_invalid(J({ "username" : "unknownf1", "email" : "u@example.com", "admin" : true }),
                   "/admin");
}

Test(create, sql_metacharacters_in_strings_are_stored_verbatim)
{
    char name[64], body[256], buf[256], want[128];
    unique_name("q", name, sizeof name);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"o'brien%s+x@example.com\"}", name,
             name);
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char id[32], path[64];
    json_at(r.body, r.len, "/id", id, sizeof id);
    http_resp_free(&r);
    snprintf(path, sizeof path, "/users/%s", id);
    cr_assert_eq(http_get(path, &r), 0);
    snprintf(want, sizeof want, "o'brien%s+x@example.com", name);
    cr_assert_str_eq(json_at(r.body, r.len, "/email", buf, sizeof buf), want);
    http_resp_free(&r);
}

/* ---------------------------------------------------------------- hostile bodies */

static void expect_bad_body(const char *body, size_t len, const char *code)
{
    http_resp r;
    cr_assert_eq(http_do("POST", "/users", "application/json", body, len, NULL, &r), 0);
    expect_error(&r, 400, code);
    http_resp_free(&r);
}

Test(hostile, malformed_and_truncated_json)
{
    const char *cases[] = {
        "{",
        "{\"username\":\"abc\",\"email\":\"a@example.com\"",
        "{\"username\":\"abc\",}",
        "{'username':'abc'}",
        "{\"username\":\"abc\" \"email\":\"a@example.com\"}",
        "{\"username\":\"abc\",\"email\":\"a@example.com\"}garbage",
        "{\"username\":\"ab\\x\",\"email\":\"a@example.com\"}",
        "nul",
        "{\"username\":\"abc\",\"email\":\"a@example.com\",\"n\":01}",
        "{\"username\":\"\\ud800\",\"email\":\"a@example.com\"}",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect_bad_body(cases[i], strlen(cases[i]), "BAD_REQUEST");
}

Test(hostile, not_an_object)
{
    expect_bad_body("[]", 2, "VALIDATION_ERROR");
    expect_bad_body("\"user\"", 6, "VALIDATION_ERROR");
    expect_bad_body("null", 4, "VALIDATION_ERROR");
}

Test(hostile, empty_body_is_400)
{
    http_resp r;
    cr_assert_eq(http_do("POST", "/users", "application/json", "", 0, NULL, &r), 0);
    expect_error(&r, 400, "BAD_REQUEST");
    http_resp_free(&r);
}

Test(hostile, invalid_utf8)
{
    const char body[] = "{\"username\":\"abc\xff\xfe\",\"email\":\"a@example.com\"}";
    expect_bad_body(body, sizeof body - 1, "BAD_REQUEST");
    const char overlong[] = "{\"username\":\"ab\xc0\xaf\",\"email\":\"a@example.com\"}";
    expect_bad_body(overlong, sizeof overlong - 1, "BAD_REQUEST");
}

Test(hostile, deep_nesting)
{
    size_t n = 20000; /* 40 kB: under the harness's 64 kB body limit */
    char *b = malloc(2 * n + 64);
    size_t len = (size_t)sprintf(b, "{\"username\":");
    memset(b + len, '[', n);
    len += n;
    memset(b + len, ']', n);
    len += n;
    b[len++] = '}';
    expect_bad_body(b, len, "BAD_REQUEST");
    free(b);
}

Test(hostile, huge_numbers_and_wrong_types)
{
    expect_invalid(J({ "username" : 1e999999, "email" : "a@example.com" }), "/username");
    expect_invalid(J({ "username" : 123456789012345678901234567890, "email" : "a@example.com" }),
                   "/username");
    expect_invalid(J({ "username" : { "a" : 1 }, "email" : "a@example.com" }), "/username");
    expect_invalid(J({ "username" : true, "email" : "a@example.com" }), "/username");
}

Test(hostile, body_past_the_limit_is_413)
{
    /* The harness starts the server with BODY_LIMIT=65536. */
    size_t n = 70000;
    char *b = malloc(n + 64);
    size_t len = (size_t)sprintf(b, "{\"username\":\"");
    memset(b + len, 'a', n);
    len += n;
    len += (size_t)sprintf(b + len, "\",\"email\":\"a@example.com\"}");
    http_resp r;
    cr_assert_eq(http_do("POST", "/users", "application/json", b, len, NULL, &r), 0);
    expect_error(&r, 413, "PAYLOAD_TOO_LARGE");
    http_resp_free(&r);
    free(b);
}

Test(hostile, non_json_content_type_is_415)
{
    http_resp r;
    const char *body = "username=abc&email=a@example.com";
    cr_assert_eq(http_do("POST", "/users", "application/x-www-form-urlencoded", body, strlen(body),
                         NULL, &r),
                 0);
    expect_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    http_resp_free(&r);
    cr_assert_eq(http_do("POST", "/users", "text/plain", "{}", 2, NULL, &r), 0);
    expect_error(&r, 415, "UNSUPPORTED_MEDIA_TYPE");
    http_resp_free(&r);
}

Test(hostile, json_with_charset_is_accepted)
{
    char name[64], body[256];
    unique_name("cs", name, sizeof name);
    snprintf(body, sizeof body, "{\"username\":\"%s\",\"email\":\"%s@example.com\"}", name, name);
    http_resp r;
    cr_assert_eq(http_do("POST", "/users", "application/json; charset=utf-8", body, strlen(body),
                         NULL, &r),
                 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    http_resp_free(&r);
}

Test(hostile, escaped_username_is_decoded_before_validation)
{
    char name[64], body[256];
    unique_name("e", name, sizeof name);
    /* \u0041 is 'A': valid once decoded. */
    snprintf(body, sizeof body, "{\"username\":\"\\u0041%s\",\"email\":\"%s@example.com\"}", name, name);
    http_resp r;
    cr_assert_eq(http_json("POST", "/users", body, &r), 0);
    cr_assert_eq(r.status, 201, "%s", r.body);
    char buf[128], want[80];
    snprintf(want, sizeof want, "A%s", name);
    cr_assert_str_eq(json_at(r.body, r.len, "/username", buf, sizeof buf), want);
    http_resp_free(&r);
}

/* ---------------------------------------------------------------- get */

Test(get, existing_missing_and_bad_ids)
{
    char name[64], path[64], buf[128];
    int64_t id = create_user(name, sizeof name);
    http_resp r;
    snprintf(path, sizeof path, "/users/%" PRId64, id);
    for (int round = 0; round < 2; round++) { /* second round is a cache hit */
        cr_assert_eq(http_get(path, &r), 0);
        cr_assert_eq(r.status, 200, "%s", r.body);
        cr_assert_str_eq(json_at(r.body, r.len, "/username", buf, sizeof buf), name);
        http_resp_free(&r);
    }

    cr_assert_eq(http_get("/users/9223372036854775807", &r), 0);
    expect_error(&r, 404, "NOT_FOUND");
    http_resp_free(&r);

    const char *bad[] = { "/users/abc", "/users/0", "/users/-1", "/users/1.5",
                          "/users/99999999999999999999", "/users/%20", "/users/1e3" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_assert_eq(http_get(bad[i], &r), 0);
        expect_error(&r, 400, "VALIDATION_ERROR");
        expect_field(&r, "path.id");
        http_resp_free(&r);
    }
}

Test(routing, unknown_path_is_404_and_wrong_method_is_405)
{
    http_resp r;
    cr_assert_eq(http_get("/nope", &r), 0);
    expect_error(&r, 404, "NOT_FOUND");
    http_resp_free(&r);
    cr_assert_eq(http_get("/users/1/extra", &r), 0);
    expect_error(&r, 404, "NOT_FOUND");
    http_resp_free(&r);

    char allow[128];
    cr_assert_eq(http_json("PUT", "/users/1", "{}", &r), 0);
    expect_error(&r, 405, "METHOD_NOT_ALLOWED");
    cr_assert_str_eq(http_header(&r, "Allow", allow, sizeof allow), "GET, HEAD, PATCH, DELETE");
    http_resp_free(&r);
    cr_assert_eq(http_do("DELETE", "/users", NULL, NULL, 0, NULL, &r), 0);
    expect_error(&r, 405, "METHOD_NOT_ALLOWED");
    cr_assert_str_eq(http_header(&r, "Allow", allow, sizeof allow), "GET, HEAD, POST");
    http_resp_free(&r);
}

/* ---------------------------------------------------------------- list */

Test(list, keyset_pagination_walks_every_user_once)
{
    int64_t ids[5];
    for (int i = 0; i < 5; i++)
        ids[i] = create_user(NULL, 0);
    /* Start just before our first user; our five are consecutive or
     * interleaved with other tests' users, so walk until we saw all five. */
    int64_t after = ids[0] - 1;
    int seen = 0, pages = 0;
    char path[96], buf[64];
    int64_t prev = after;
    while (pages++ < 1000) {
        snprintf(path, sizeof path, "/users?limit=2&after=%" PRId64, after);
        http_resp r;
        cr_assert_eq(http_get(path, &r), 0);
        cr_assert_eq(r.status, 200, "%s", r.body);
        for (int i = 0; i < 2; i++) {
            char p[32];
            snprintf(p, sizeof p, "/items/%d/id", i);
            if (!json_at(r.body, r.len, p, buf, sizeof buf))
                break;
            int64_t id = strtoll(buf, NULL, 10);
            cr_assert_gt(id, prev, "ids must increase");
            prev = id;
            for (int k = 0; k < 5; k++)
                seen += id == ids[k];
        }
        cr_assert_null(json_at(r.body, r.len, "/items/2", buf, sizeof buf), "limit ignored");
        json_at(r.body, r.len, "/next_after", buf, sizeof buf);
        http_resp_free(&r);
        if (strcmp(buf, "null") == 0 || seen == 5)
            break;
        after = strtoll(buf, NULL, 10);
    }
    cr_assert_eq(seen, 5);
}

Test(list, last_page_has_null_next_after_and_default_limit)
{
    http_resp r;
    cr_assert_eq(http_get("/users?after=9223372036854775806", &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(r.body, "{\"items\":[],\"next_after\":null}");
    http_resp_free(&r);

    for (int i = 0; i < 21; i++)
        create_user(NULL, 0);
    cr_assert_eq(http_get("/users", &r), 0);
    char buf[64];
    cr_assert_not_null(json_at(r.body, r.len, "/items/19/id", buf, sizeof buf));
    cr_assert_null(json_at(r.body, r.len, "/items/20", buf, sizeof buf));
    cr_assert_str_eq(json_at(r.body, r.len, "/next_after", buf, sizeof buf),
                     json_at(r.body, r.len, "/items/19/id", buf + 32, 32));
    http_resp_free(&r);
}

Test(list, bad_parameters_are_400)
{
    const char *bad[] = { "/users?limit=0", "/users?limit=101", "/users?limit=abc",
                          "/users?limit=", "/users?limit=-5", "/users?limit=99999999999999999999",
                          "/users?after=-1", "/users?after=x" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        http_resp r;
        cr_assert_eq(http_get(bad[i], &r), 0);
        expect_error(&r, 400, "VALIDATION_ERROR");
        char buf[64];
        json_at(r.body, r.len, "/error/details/0/field", buf, sizeof buf);
        cr_assert(strncmp(buf, "query.", 6) == 0, "%s: %s", bad[i], r.body);
        http_resp_free(&r);
    }
    http_resp r;
    cr_assert_eq(http_get("/users?limit=100", &r), 0);
    cr_assert_eq(r.status, 200);
    http_resp_free(&r);
}

/* ---------------------------------------------------------------- update */

Test(update, changes_fields_and_updated_at)
{
    char name[64], path[64], body[256], buf[128], before[64], after[64], created[64];
    int64_t id = create_user(name, sizeof name);
    snprintf(path, sizeof path, "/users/%" PRId64, id);
    http_resp r;
    cr_assert_eq(http_get(path, &r), 0); /* fills the cache */
    json_at(r.body, r.len, "/updated_at", before, sizeof before);
    json_at(r.body, r.len, "/created_at", created, sizeof created);
    http_resp_free(&r);

    snprintf(body, sizeof body, "{\"email\":\"new%s@example.org\"}", name);
    cr_assert_eq(http_json("PATCH", path, body, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    json_at(r.body, r.len, "/updated_at", after, sizeof after);
    cr_assert_gt(strcmp(after, before), 0, "updated_at %s not after %s", after, before);
    cr_assert_str_eq(json_at(r.body, r.len, "/created_at", buf, sizeof buf), created);
    cr_assert_str_eq(json_at(r.body, r.len, "/username", buf, sizeof buf), name);
    http_resp_free(&r);

    /* The cached copy was invalidated. */
    cr_assert_eq(http_get(path, &r), 0);
    char want[128];
    snprintf(want, sizeof want, "new%s@example.org", name);
    cr_assert_str_eq(json_at(r.body, r.len, "/email", buf, sizeof buf), want);
    http_resp_free(&r);

    char name2[64];
    unique_name("p", name2, sizeof name2);
    snprintf(body, sizeof body, "{\"username\":\"%s\"}", name2);
    cr_assert_eq(http_json("PATCH", path, body, &r), 0);
    cr_assert_eq(r.status, 200, "%s", r.body);
    cr_assert_str_eq(json_at(r.body, r.len, "/username", buf, sizeof buf), name2);
    cr_assert_str_eq(json_at(r.body, r.len, "/email", buf, sizeof buf), want);
    http_resp_free(&r);
}

Test(update, errors)
{
    char a[64], b[64], path[64], body[256];
    int64_t id = create_user(a, sizeof a);
    create_user(b, sizeof b);
    snprintf(path, sizeof path, "/users/%" PRId64, id);
    http_resp r;

    snprintf(body, sizeof body, "{\"username\":\"%s\"}", b);
    cr_assert_eq(http_json("PATCH", path, body, &r), 0);
    expect_error(&r, 409, "CONFLICT");
    http_resp_free(&r);

    cr_assert_eq(http_json("PATCH", path, "{}", &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    http_resp_free(&r);

    cr_assert_eq(http_json("PATCH", path, "{\"nickname\":\"x\"}", &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    http_resp_free(&r);

    cr_assert_eq(http_json("PATCH", path, "{\"email\":\"broken\"}", &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    expect_field(&r, "/email");
    http_resp_free(&r);

    cr_assert_eq(http_json("PATCH", path, "{\"username\":\"no\"}", &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    expect_field(&r, "/username");
    http_resp_free(&r);

    cr_assert_eq(http_json("PATCH", "/users/9223372036854775807", "{\"username\":\"ghost1\"}", &r), 0);
    expect_error(&r, 404, "NOT_FOUND");
    http_resp_free(&r);

    cr_assert_eq(http_json("PATCH", "/users/abc", "{\"username\":\"ghost1\"}", &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    http_resp_free(&r);

    cr_assert_eq(http_do("PATCH", path, "application/json", "", 0, NULL, &r), 0);
    expect_error(&r, 400, "BAD_REQUEST");
    http_resp_free(&r);
}

/* ---------------------------------------------------------------- delete */

Test(delete, removes_and_then_404)
{
    char path[64];
    int64_t id = create_user(NULL, 0);
    snprintf(path, sizeof path, "/users/%" PRId64, id);
    http_resp r;
    cr_assert_eq(http_get(path, &r), 0); /* cached */
    cr_assert_eq(r.status, 200);
    http_resp_free(&r);

    cr_assert_eq(http_do("DELETE", path, NULL, NULL, 0, NULL, &r), 0);
    cr_assert_eq(r.status, 204, "%s", r.body);
    cr_assert_eq(r.len, 0);
    char rid[256];
    cr_assert_not_null(http_header(&r, "X-Request-ID", rid, sizeof rid));
    http_resp_free(&r);

    cr_assert_eq(http_get(path, &r), 0);
    expect_error(&r, 404, "NOT_FOUND");
    http_resp_free(&r);
    cr_assert_eq(http_do("DELETE", path, NULL, NULL, 0, NULL, &r), 0);
    expect_error(&r, 404, "NOT_FOUND");
    http_resp_free(&r);
    cr_assert_eq(http_do("DELETE", "/users/0", NULL, NULL, 0, NULL, &r), 0);
    expect_error(&r, 400, "VALIDATION_ERROR");
    http_resp_free(&r);
}
