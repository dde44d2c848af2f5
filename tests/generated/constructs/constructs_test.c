/*
 * constructs_test.c - the code generated from tests/generated/constructs/
 * spec.yaml (unions with and without a discriminator, nullable vs absent,
 * maps, recursion, defaults, int32 overflow, raw JSON, arrays of arrays,
 * PCRE2 patterns, formats, uniqueItems, boxed bodies), against the real
 * runtime. mk/generate.mk generates the spec into build/<cfg>/constructs-gen.
 */
#include <criterion/criterion.h>

#include <string.h>

#include "api.gen.h"
#include "json.h"
#include "rt.h"

static rt_arena *arena;
static rt_errs errs;
static char text_buf[8192];

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

/* Decode a copy of json, finish, validate (findings merged as the router
 * does); the decoder's result. */
#define DEFINE_PARSE(T)                                                      \
    static int parse_##T(const char *json, api_##T *out)                     \
    {                                                                        \
        rt_json_dec d;                                                       \
        rt_path p;                                                           \
        size_t n = strlen(json);                                             \
        int rc;                                                              \
        cr_assert_lt(n, sizeof text_buf);                                    \
        memcpy(text_buf, json, n);                                           \
        rt_json_dec_init(&d, text_buf, n, RT_JSON_DEFAULT_DEPTH);            \
        rt_path_init(&p);                                                    \
        rc = api_##T##_decode(&d, arena, &p, &errs, out);                    \
        if (rc == 0)                                                         \
            rc = rt_json_finish(&d);                                         \
        if (rc == 0) {                                                       \
            rt_errs more;                                                    \
            rt_errs_init(&more);                                             \
            api_##T##_validate(out, &p, &more);                              \
            rt_errs_merge(&errs, &more);                                     \
        }                                                                    \
        cr_assert_eq(p.len, 0, "pointer not unwound: %s", p.buf);            \
        return rc;                                                           \
    }                                                                        \
    static const char *encode_##T(const api_##T *v)                          \
    {                                                                        \
        static char out[8192];                                               \
        rt_buf b;                                                            \
        rt_buf_init(&b);                                                     \
        api_##T##_encode(v, &b);                                             \
        cr_assert(!b.oom);                                                   \
        cr_assert_lt(b.len, sizeof out);                                     \
        memcpy(out, b.data, b.len);                                          \
        out[b.len] = '\0';                                                   \
        rt_buf_free(&b);                                                     \
        return out;                                                          \
    }

DEFINE_PARSE(pet)
DEFINE_PARSE(scalar)
DEFINE_PARSE(loose)
DEFINE_PARSE(tree)
DEFINE_PARSE(put_pets_id_body)

/* errs holds exactly one error, at field, saying reason. */
static void expect_one(const char *field, const char *reason)
{
    cr_assert_eq(errs.n, 1, "expected 1 error (%s: %s), got %u%s%s", field, reason, errs.n,
                 errs.n ? ", first: " : "", errs.n ? errs.e[0].field : "");
    cr_assert_str_eq(errs.e[0].field, field);
    cr_assert_str_eq(errs.e[0].reason, reason);
}

static void expect_none(void)
{
    cr_assert_eq(errs.n, 0, "unexpected error %s: %s", errs.n ? errs.e[0].field : "",
                 errs.n ? errs.e[0].reason : "");
}

TestSuite(constructs, .init = setup, .fini = teardown);

/* ---------------------------------------------------------------- discriminator */

Test(constructs, discriminator_picks_by_mapping_and_applies_defaults)
{
    api_pet v;

    cr_assert_eq(parse_pet("{\"name\":\"Tom\",\"kind\":\"cat\"}", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_PET_CAT);
    cr_assert_eq(v.cat.name.len, 3);
    cr_assert(v.cat.has_lives, "the default is applied when lives is absent");
    cr_assert_eq(v.cat.lives, 9);
    cr_assert_str_eq(encode_pet(&v), "{\"kind\":\"cat\",\"name\":\"Tom\",\"lives\":9}");

    /* mapping to a bare component name; an escaped discriminator value */
    cr_assert_eq(parse_pet("{\"kind\":\"d\\u006fg\",\"bark\":\"soft\"}", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_PET_DOG);
    cr_assert_eq(v.dog.bark, API_DOG_BARK_SOFT);
}

Test(constructs, discriminator_errors)
{
    api_pet v;

    cr_assert_eq(parse_pet("{\"kind\":\"cow\"}", &v), 0);
    expect_one("/kind", "must be one of: cat, dog");
    rt_errs_init(&errs);
    cr_assert_eq(parse_pet("{\"name\":\"x\"}", &v), 0);
    expect_one("/kind", "is required");
    rt_errs_init(&errs);
    cr_assert_eq(parse_pet("{\"kind\":\"dog\"}", &v), 0);
    expect_one("/bark", "is required");
    rt_errs_init(&errs);
    cr_assert_eq(parse_pet("[1]", &v), 0);
    expect_one("", "must be an object");
    rt_errs_init(&errs);
    /* the chosen alternative's own constraints still apply */
    cr_assert_eq(parse_pet("{\"kind\":\"cat\",\"name\":\"\",\"lives\":10}", &v), 0);
    cr_assert_eq(errs.n, 2);
    /* int32 overflow in an alternative */
    rt_errs_init(&errs);
    cr_assert_eq(parse_pet("{\"kind\":\"cat\",\"name\":\"a\",\"lives\":3000000000}", &v), 0);
    expect_one("/lives", "out of range");
    /* malformed JSON is malformed, whatever the union */
    rt_errs_init(&errs);
    cr_assert_lt(parse_pet("{\"kind\":\"cat\",", &v), 0);
}

/* ---------------------------------------------------------------- trying alternatives */

Test(constructs, one_of_without_discriminator_tries_each_and_reports_ambiguity)
{
    api_scalar v;

    cr_assert_eq(parse_scalar("12", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_SCALAR_INTEGER);
    cr_assert_eq(v.integer, 12);
    cr_assert_str_eq(encode_scalar(&v), "12");

    cr_assert_eq(parse_scalar("\"abcd\"", &v), 0); /* too long for the first */
    expect_none();
    cr_assert_eq(v.which, API_SCALAR_STRING_2);

    cr_assert_eq(parse_scalar("\"AB1\"", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_SCALAR_STRING);
    cr_assert_eq(v.string.len, 3);

    cr_assert_eq(parse_scalar("\"ab\"", &v), 0); /* both string alternatives */
    expect_one("", "matches more than one of: string, integer, string (ambiguous)");
    rt_errs_init(&errs);
    cr_assert_eq(parse_scalar("true", &v), 0);
    expect_one("", "must match exactly one of: string, integer, string");
    cr_assert_eq(v.which, API_SCALAR_NONE);
}

Test(constructs, any_of_takes_the_first_match)
{
    api_loose v;

    cr_assert_eq(parse_loose("3", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_LOOSE_INTEGER);
    cr_assert_eq(parse_loose("3.5", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_LOOSE_NUMBER);
    cr_assert_str_eq(encode_loose(&v), "3.5");
    cr_assert_eq(parse_loose("\"x\"", &v), 0);
    expect_one("", "must match at least one of: integer, number");
}

/* ---------------------------------------------------------------- allOf, nullable, recursion */

Test(constructs, all_of_merges_and_nullable_is_not_absent)
{
    api_tree v;

    cr_assert_eq(parse_tree("{\"id\":1,\"label\":null}", &v), 0);
    expect_none();
    cr_assert_eq(v.id, 1);
    cr_assert(v.has_label && v.label_is_null);
    cr_assert_eq(parse_tree("{\"id\":1}", &v), 0);
    cr_assert(!v.has_label && !v.label_is_null);
    cr_assert_eq(parse_tree("{\"id\":1,\"label\":\"abcd\"}", &v), 0);
    expect_none();
    cr_assert(v.has_label && !v.label_is_null && v.label.len == 4);
    cr_assert_eq(parse_tree("{\"label\":\"abc\"}", &v), 0); /* the base's required id, PCRE2 */
    cr_assert_eq(errs.n, 2);
    cr_assert_str_eq(errs.e[0].field, "/id");
    cr_assert_str_eq(errs.e[1].field, "/label");
    cr_assert_str_eq(errs.e[1].reason, "must match pattern ^(ab|cd)+$");
}

Test(constructs, recursion_by_value_goes_through_the_arena)
{
    api_tree v;
    const char *in = "{\"id\":1,\"parent\":{\"id\":2,\"parent\":{\"id\":3,\"label\":\"x\"}},"
                     "\"kids\":[{\"id\":4}]}";

    cr_assert_eq(parse_tree(in, &v), 0);
    cr_assert(v.has_parent && v.parent != NULL && v.parent->parent != NULL);
    cr_assert_eq(v.parent->parent->id, 3);
    /* the nested pattern error carries the nested pointer */
    expect_one("/parent/parent/label", "must match pattern ^(ab|cd)+$");
    cr_assert_eq(v.kids_len, 1);
    cr_assert_eq(v.kids[0].id, 4);
    cr_assert_str_eq(encode_tree(&v), "{\"id\":1,\"parent\":{\"id\":2,\"parent\":{\"id\":3,"
                                      "\"label\":\"x\"}},\"kids\":[{\"id\":4}]}");
}

/* ---------------------------------------------------------------- maps, raw JSON, lists */

Test(constructs, maps_keep_every_key_and_check_each_value)
{
    api_tree v;

    cr_assert_eq(parse_tree("{\"id\":1,\"attrs\":{\"a\":1,\"b\\/c\":20}}", &v), 0);
    expect_one("/attrs/b~1c", "must be <= 10");
    cr_assert_eq(v.attrs.additional_properties_len, 2);
    cr_assert_eq(v.attrs.additional_properties[1].key.len, 3);
    cr_assert_eq(v.attrs.additional_properties[1].value, 20);
    rt_errs_init(&errs);
    cr_assert_eq(parse_tree("{\"id\":1,\"attrs\":{\"a\":1,\"b\":2,\"c\":3}}", &v), 0);
    expect_one("/attrs", "must have at most 2 properties");
    rt_errs_init(&errs);
    cr_assert_eq(parse_tree("{\"id\":1,\"attrs\":{\"a\":1,\"a\":2}}", &v), 0);
    expect_one("/attrs/a", "duplicate field");
    rt_errs_init(&errs);
    cr_assert_eq(parse_tree("{\"id\":1,\"attrs\":{\"a\":1}}", &v), 0);
    cr_assert_str_eq(encode_tree(&v), "{\"id\":1,\"attrs\":{\"a\":1}}");
}

Test(constructs, free_form_values_stay_raw_and_untouched)
{
    api_tree v;

    cr_assert_eq(parse_tree("{\"id\":1,\"extra\":[1,{\"x\":\"a\\nb\"}],\"meta\":{\"k\":null}}", &v), 0);
    expect_none();
    cr_assert_eq(v.extra.len, strlen("[1,{\"x\":\"a\\nb\"}]"));
    cr_assert_eq(memcmp(v.extra.ptr, "[1,{\"x\":\"a\\nb\"}]", v.extra.len), 0,
                 "escapes are kept as written");
    cr_assert_str_eq(encode_tree(&v), "{\"id\":1,\"extra\":[1,{\"x\":\"a\\nb\"}],\"meta\":{\"k\":null}}");
    cr_assert_eq(parse_tree("{\"id\":1,\"meta\":1}", &v), 0);
    expect_one("/meta", "must be an object");
    rt_errs_init(&errs);
    cr_assert_lt(parse_tree("{\"id\":1,\"extra\":[1,]}", &v), 0, "raw values are syntax-checked");
}

Test(constructs, arrays_of_arrays)
{
    api_tree v;

    cr_assert_eq(parse_tree("{\"id\":1,\"grid\":[[1,2],[3]]}", &v), 0);
    expect_none();
    cr_assert_eq(v.grid_len, 2);
    cr_assert_eq(v.grid[0].items_len, 2);
    cr_assert_eq(v.grid[1].items[0], 3);
    cr_assert_str_eq(encode_tree(&v), "{\"id\":1,\"grid\":[[1,2],[3]]}");
    cr_assert_eq(parse_tree("{\"id\":1,\"grid\":[[1],[]]}", &v), 0);
    expect_one("/grid/1", "must have at least 1 item");
}

/* ---------------------------------------------------------------- formats and numbers */

Test(constructs, formats_unique_items_and_multiple_of)
{
    api_tree v;

    cr_assert_eq(parse_tree("{\"id\":1,\"tags\":[\"a\",\"b\"],\"ip\":\"::ffff:10.0.0.1\","
                            "\"data\":\"aGk=\",\"ratio\":0.3,\"when\":\"2026-01-02T03:04:05Z\"}", &v), 0);
    expect_none();
    cr_assert_eq(parse_tree("{\"id\":1,\"tags\":[\"a\",\"a\"]}", &v), 0);
    expect_one("/tags", "must not contain the same item twice");
    rt_errs_init(&errs);
    cr_assert_eq(parse_tree("{\"id\":1,\"ip\":\"1::2::3\"}", &v), 0);
    expect_one("/ip", "must be an IPv6 address");
    rt_errs_init(&errs);
    cr_assert_eq(parse_tree("{\"id\":1,\"data\":\"aGk\"}", &v), 0);
    expect_one("/data", "must be base64");
    rt_errs_init(&errs);
    cr_assert_eq(parse_tree("{\"id\":1,\"ratio\":0.35}", &v), 0);
    expect_one("/ratio", "must be a multiple of 0.1");
    rt_errs_init(&errs);
    cr_assert_eq(parse_tree("{\"id\":9223372036854775808}", &v), 0);
    expect_one("/id", "out of range");
}

Test(constructs, unions_inside_objects)
{
    api_tree v;

    cr_assert_eq(parse_tree("{\"id\":1,\"pet\":{\"kind\":\"dog\",\"bark\":\"loud\"},\"shape\":7}", &v), 0);
    expect_none();
    cr_assert_eq(v.pet.which, API_PET_DOG);
    cr_assert_eq(v.shape.which, API_SCALAR_INTEGER);
    cr_assert_str_eq(encode_tree(&v),
                     "{\"id\":1,\"shape\":7,\"pet\":{\"kind\":\"dog\",\"bark\":\"loud\"}}");
    cr_assert_eq(parse_tree("{\"id\":1,\"pet\":{\"kind\":\"dog\",\"bark\":\"meow\"}}", &v), 0);
    expect_one("/pet/bark", "must be one of: loud, soft");
}

Test(constructs, boxed_array_body)
{
    api_put_pets_id_body v;

    cr_assert_eq(parse_put_pets_id_body("[{\"kind\":\"cat\",\"name\":\"a\"},{\"kind\":\"dog\",\"bark\":\"soft\"}]", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_PUT_PETS_ID_BODY_VALUE);
    cr_assert_eq(v.value_len, 2);
    cr_assert_eq(v.value[1].which, API_PET_DOG);
    cr_assert_str_eq(encode_put_pets_id_body(&v),
                     "[{\"kind\":\"cat\",\"name\":\"a\",\"lives\":9},{\"kind\":\"dog\",\"bark\":\"soft\"}]");
    cr_assert_eq(parse_put_pets_id_body("[{\"kind\":\"cat\"}]", &v), 0);
    expect_one("/0/name", "is required");
}

/* ---------------------------------------------------------------- form bodies, through api_dispatch */

/* A request built by hand (priv NULL: no query, headers or cookies); the
 * scaffold's stub handlers answer 501 once everything decoded. */
static struct {
    rt_req req;
    rt_resp resp;
    char body[1024];
    char out[4096];
} cur;

static const char *post(const char *path, const char *body)
{
    memset(&cur.req, 0, sizeof cur.req);
    cur.req.arena = arena;
    cur.req.request_id = RT_STR("t");
    cur.req.method = RT_STR("POST");
    cur.req.path = (rt_str){ path, strlen(path) };
    cur.req.body_len = strlen(body);
    memcpy(cur.body, body, cur.req.body_len);
    cur.req.body = cur.body;
    cur.req.media = RT_MEDIA_FORM;
    rt_errs_init(&cur.req.errs);
    rt_buf_init(&cur.resp.body);
    cur.resp.status = 200;
    api_dispatch(&cur.req, &cur.resp);
    cr_assert_lt(cur.resp.body.len, sizeof cur.out);
    memcpy(cur.out, cur.resp.body.data, cur.resp.body.len);
    cur.out[cur.resp.body.len] = '\0';
    rt_buf_free(&cur.resp.body);
    return cur.out;
}

Test(constructs, form_body_decodes_percent_escapes_and_arrays)
{
    post("/filters", "role=admin&tags=ab&tags=c%20d&name=J+D");
    cr_assert_eq(cur.resp.status, 501, "%s", cur.out); /* decoded, valid: the stub answers */
    cr_assert(strstr(cur.out, "NOT_IMPLEMENTED") != NULL);
}

Test(constructs, form_body_errors_name_the_field)
{
    post("/filters", "role=root&age=x&tags=a&bogus=1&age=2");
    cr_assert_eq(cur.resp.status, 400, "%s", cur.out);
    cr_assert(strstr(cur.out, "{\"field\":\"/role\",\"reason\":\"must be one of: admin, user\"}"), "%s", cur.out);
    cr_assert(strstr(cur.out, "{\"field\":\"/age\",\"reason\":\"must be an integer\"}"), "%s", cur.out);
    cr_assert(strstr(cur.out, "{\"field\":\"/tags\",\"reason\":\"must be at least 2 characters\"}"), "%s", cur.out);
    cr_assert(strstr(cur.out, "{\"field\":\"/bogus\",\"reason\":\"unknown field\"}"), "%s", cur.out);
    post("/filters", "age=1");
    cr_assert(strstr(cur.out, "{\"field\":\"/role\",\"reason\":\"is required\"}"), "%s", cur.out);
    post("/filters", "role=admin&name=%zz");
    cr_assert_eq(cur.resp.status, 400);
    cr_assert(strstr(cur.out, "BAD_REQUEST") != NULL, "%s", cur.out);
    post("/filters", "role=admin&name=%ff%fe");
    cr_assert_eq(cur.resp.status, 400);
    cr_assert(strstr(cur.out, "not UTF-8") != NULL, "%s", cur.out);
}

/* ---------------------------------------------------------------- nested trials are bounded */

DEFINE_PARSE(expr)

Test(constructs, nested_one_of_trials_are_bounded)
{
    api_expr v;
    char deep[200];
    size_t k = 0;

    /* [[[[...1...]]]]: every level is ambiguous between the two array
     * alternatives, so an unbounded decoder would try 2^40 times. */
    for (int i = 0; i < 40; i++)
        deep[k++] = '[';
    deep[k++] = '1';
    for (int i = 0; i < 40; i++)
        deep[k++] = ']';
    deep[k] = '\0';
    cr_assert_eq(parse_expr(deep, &v), 0);
    cr_assert_gt(errs.n, 0, "ambiguous or over budget: an error, in bounded time");
    rt_errs_init(&errs);
    cr_assert_eq(parse_expr("7", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_EXPR_INTEGER);
    (void)encode_expr;
}

Test(constructs, nullable_array_elements)
{
    api_tree v;

    cr_assert_eq(parse_tree("{\"id\":1,\"scores\":[1,null,7]}", &v), 0);
    expect_one("/scores/2", "must be <= 5");
    cr_assert_eq(v.scores_len, 3);
    cr_assert(!v.scores[0].is_null && v.scores[0].value == 1);
    cr_assert(v.scores[1].is_null);
    cr_assert_str_eq(encode_tree(&v), "{\"id\":1,\"scores\":[1,null,7]}");
}

/* ---------------------------------------------------------------- properties beside oneOf */

DEFINE_PARSE(shared)

Test(constructs, shared_properties_beside_one_of_hold_for_every_alternative)
{
    api_shared v;

    cr_assert_eq(parse_shared("{\"kind\":\"dog\",\"bark\":\"loud\",\"id\":4}", &v), 0);
    expect_none();
    cr_assert_eq(v.which, API_SHARED_DOG);
    cr_assert_eq(v.dog.id, 4);
    cr_assert_str_eq(encode_shared(&v), "{\"kind\":\"dog\",\"bark\":\"loud\",\"id\":4}");
    cr_assert_eq(parse_shared("{\"kind\":\"cat\",\"name\":\"x\"}", &v), 0);
    expect_one("/id", "is required");
}

DEFINE_PARSE(stamp)

Test(constructs, read_only_is_not_required_in_requests_write_only_is_not_encoded)
{
    api_stamp v;

    cr_assert_eq(parse_stamp("{\"id\":1,\"secret\":\"pw\"}", &v), 0);
    expect_none(); /* created is required, but readOnly: responses only */
    cr_assert(v.has_secret);
    v.created = RT_STR("now");
    cr_assert_str_eq(encode_stamp(&v), "{\"id\":1,\"created\":\"now\"}");
    cr_assert_eq(parse_stamp("{\"id\":1,\"f32\":1e39}", &v), 0);
    expect_one("/f32", "out of range for a float");
}
