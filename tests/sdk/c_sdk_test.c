/*
 * c_sdk_test.c - the generated C client (sdk/c/api_client.gen.c) against the
 * live server the test suite started ($API_URL), and a server without a
 * database ($API_URL_NODB) for 503. Every call goes through the server's own
 * generated encoders, decoders and validators.
 */
#include "api_client.gen.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *env_url(const char *name)
{
    const char *v = getenv(name);

    cr_assert(v != NULL && *v, "%s is not set: run through scripts/test.d/50-sdk.sh", name);
    return v;
}

static api_client *client(void)
{
    api_client *c = api_client_new(env_url("API_URL"));

    cr_assert_not_null(c);
    return c;
}

/* Letters and digits, unique per process and call. */
static rt_str unique(char *buf, size_t n)
{
    static unsigned serial;
    int len = snprintf(buf, n, "c%lx%x%u", (unsigned long)time(NULL) & 0xffffff, (unsigned)getpid(), serial++);

    return (rt_str){ buf, (size_t)len };
}

static rt_str email_of(rt_str name, const char *domain, char *buf, size_t n)
{
    int len = snprintf(buf, n, "%.*s@%s", (int)name.len, name.ptr, domain);

    return (rt_str){ buf, (size_t)len };
}

static bool str_is(rt_str s, const char *want)
{
    return s.ptr != NULL && rt_str_eq_cstr(s, want);
}

static int64_t create(api_client *c, rt_str name)
{
    char mail[96];
    api_new_user nu = { .username = name, .email = email_of(name, "example.com", mail, sizeof mail) };
    api_client_create_user_response out;
    api_client_rc rc = api_client_create_user(c, &nu, &out);

    cr_assert_eq(rc, API_CLIENT_OK, "create: %s (%s)", api_client_rc_name(rc), api_client_message(c));
    cr_assert_eq(out.status, 201);
    return out.body_201.id;
}

static void delete(api_client *c, int64_t id)
{
    api_client_delete_user_response out;

    cr_assert_eq(api_client_delete_user(c, id, &out), API_CLIENT_OK, "%s", api_client_message(c));
    cr_assert_eq(out.status, 204);
}

Test(sdk_c, round_trip)
{
    api_client *c = client();
    char name[64], mail[96], mail2[96], loc[64];
    rt_str n = unique(name, sizeof name);
    api_new_user nu = { .username = n, .email = email_of(n, "example.com", mail, sizeof mail) };
    api_client_create_user_response cr;
    api_client_get_user_response gr;
    api_client_update_user_response ur;
    api_client_delete_user_response dr;
    api_user_patch patch = { .has_email = true, .email = email_of(n, "example.org", mail2, sizeof mail2) };

    cr_assert_eq(api_client_create_user(c, &nu, &cr), API_CLIENT_OK, "%s", api_client_message(c));
    cr_assert_eq(cr.status, 201);
    cr_assert(rt_str_eq(cr.body_201.username, n));
    cr_assert(rt_str_eq(cr.body_201.email, nu.email));
    cr_assert_gt(cr.body_201.id, 0);
    cr_assert_gt(cr.body_201.created_at, 0);
    snprintf(loc, sizeof loc, "/users/%lld", (long long)cr.body_201.id);
    cr_assert(str_is(cr.header_location, loc), "Location %.*s", (int)cr.header_location.len,
              cr.header_location.ptr);
    cr_assert_gt(cr.request_id.len, 0);

    cr_assert_eq(api_client_get_user(c, cr.body_201.id, &gr), API_CLIENT_OK, "%s", api_client_message(c));
    cr_assert_eq(gr.body_200.id, cr.body_201.id);
    cr_assert(rt_str_eq(gr.body_200.username, n));
    cr_assert_eq(gr.body_200.created_at, cr.body_201.created_at);

    cr_assert_eq(api_client_update_user(c, cr.body_201.id, &patch, &ur), API_CLIENT_OK, "%s",
                 api_client_message(c));
    cr_assert(rt_str_eq(ur.body_200.email, patch.email));
    cr_assert(rt_str_eq(ur.body_200.username, n));
    cr_assert_geq(ur.body_200.updated_at, cr.body_201.updated_at);
    /* Results of earlier calls stay valid until the reset. */
    cr_assert(rt_str_eq(cr.body_201.email, nu.email));

    cr_assert_eq(api_client_delete_user(c, cr.body_201.id, &dr), API_CLIENT_OK);
    cr_assert_eq(dr.status, 204);
    cr_assert_eq(api_client_get_user(c, cr.body_201.id, &gr), API_CLIENT_E_STATUS);
    cr_assert_eq(gr.status, 404);
    cr_assert_eq(gr.error.error.code, API_ERROR_ERROR_CODE_NOT_FOUND);
    cr_assert(rt_str_eq(gr.error.error.request_id, gr.request_id));
    cr_assert_eq(api_client_delete_user(c, cr.body_201.id, &dr), API_CLIENT_E_STATUS);
    cr_assert_eq(dr.error.error.code, API_ERROR_ERROR_CODE_NOT_FOUND);

    /* One connection for the whole conversation: the handle keeps it alive. */
    cr_assert_eq(api_client_connections(c), 1, "connections: %ld", api_client_connections(c));
    api_client_reset(c);
    api_client_free(c);
}

Test(sdk_c, list_pagination)
{
    api_client *c = client();
    char names[5][64];
    int64_t ids[5];
    int64_t seen[5];
    size_t nseen = 0;
    int pages = 0;
    api_client_list_users_params q = { .has_limit = true, .limit = 2, .has_after = true };
    api_client_list_users_response lr;

    for (int i = 0; i < 5; i++)
        ids[i] = create(c, unique(names[i], sizeof names[i]));
    q.after = ids[0] - 1;
    while (nseen < 5 && pages < 50) {
        cr_assert_eq(api_client_list_users(c, &q, &lr), API_CLIENT_OK, "%s", api_client_message(c));
        cr_assert_leq(lr.body_200.items_len, 2);
        for (size_t i = 0; i < lr.body_200.items_len; i++) {
            int64_t id = lr.body_200.items[i].id;

            cr_assert_gt(id, q.after);
            for (int k = 0; k < 5; k++)
                if (ids[k] == id)
                    seen[nseen++] = id;
        }
        pages++;
        if (lr.body_200.next_after_is_null)
            break;
        q.after = lr.body_200.next_after;
        api_client_reset(c); /* the pages read so far are freed at once */
    }
    cr_assert_eq(nseen, 5);
    for (int k = 0; k < 5; k++)
        cr_assert_eq(seen[k], ids[k], "in id order");
    cr_assert_geq(pages, 3);
    cr_assert_eq(api_client_list_users(c, NULL, &lr), API_CLIENT_OK, "defaults: %s", api_client_message(c));
    cr_assert_leq(lr.body_200.items_len, 20);
    for (int k = 0; k < 5; k++)
        delete(c, ids[k]);
    api_client_free(c);
}

/* The client refuses what the server would refuse, with the same finding,
 * and sends nothing. */
Test(sdk_c, client_side_validation)
{
    api_client *c = client();
    api_new_user bad = { .username = RT_STR("x!"), .email = RT_STR("not-an-email") };
    api_client_create_user_response cr;
    api_client_get_user_response gr;
    api_client_list_users_response lr;
    api_client_list_users_params q = { .has_limit = true, .limit = 101 };
    const rt_errs *e = api_client_errors(c);
    api_user_patch empty = { 0 };
    api_client_update_user_response ur;

    cr_assert_eq(api_client_create_user(c, &bad, &cr), API_CLIENT_E_INVALID);
    cr_assert_eq(cr.status, 0, "nothing was sent");
    cr_assert_eq(e->n, 3);
    cr_assert_str_eq(e->e[0].field, "/username");
    cr_assert_str_eq(e->e[0].reason, "must be at least 3 characters");
    cr_assert_str_eq(e->e[1].reason, "must contain only letters and digits");
    cr_assert_str_eq(e->e[2].field, "/email");
    cr_assert_str_eq(e->e[2].reason, "must be a valid email address");

    cr_assert_eq(api_client_get_user(c, 0, &gr), API_CLIENT_E_INVALID);
    cr_assert_str_eq(e->e[0].field, "path.id");
    cr_assert_eq(api_client_list_users(c, &q, &lr), API_CLIENT_E_INVALID);
    cr_assert_str_eq(e->e[0].field, "query.limit");
    cr_assert_str_eq(e->e[0].reason, "must be between 1 and 100");
    cr_assert_eq(api_client_update_user(c, 1, &empty, &ur), API_CLIENT_E_INVALID);
    cr_assert_str_eq(e->e[0].field, "");
    cr_assert_str_eq(e->e[0].reason, "must have at least 1 property");
    cr_assert_eq(api_client_create_user(c, NULL, &cr), API_CLIENT_E_INVALID);
    cr_assert_eq(api_client_connections(c), 0, "no call reached the network");
    api_client_free(c);
}

/* 400 from the server itself: validation off, the same bad input is sent and
 * the envelope's details say what the client would have said. */
Test(sdk_c, status_400_from_the_server)
{
    api_client *c = client();
    api_new_user bad = { .username = RT_STR("x!"), .email = RT_STR("not-an-email") };
    api_client_create_user_response cr;
    api_client_list_users_params q = { .has_limit = true, .limit = 0 };
    api_client_list_users_response lr;

    api_client_set_validation(c, false);
    cr_assert_eq(api_client_create_user(c, &bad, &cr), API_CLIENT_E_STATUS, "%s", api_client_message(c));
    cr_assert_eq(cr.status, 400);
    cr_assert_eq(cr.error.error.code, API_ERROR_ERROR_CODE_VALIDATION_ERROR);
    cr_assert_eq(cr.error.error.details_len, 3);
    cr_assert(str_is(cr.error.error.details[0].field, "/username"));
    cr_assert(str_is(cr.error.error.details[0].reason, "must be at least 3 characters"));
    cr_assert(str_is(cr.error.error.details[2].field, "/email"));

    cr_assert_eq(api_client_list_users(c, &q, &lr), API_CLIENT_E_STATUS);
    cr_assert_eq(lr.status, 400);
    cr_assert(str_is(lr.error.error.details[0].field, "query.limit"));
    api_client_free(c);
}

Test(sdk_c, status_404_and_request_id)
{
    api_client *c = client();
    api_client_get_user_response gr;

    cr_assert(api_client_set_request_id(c, "c-sdk-trace-1"));
    cr_assert_eq(api_client_get_user(c, INT64_MAX, &gr), API_CLIENT_E_STATUS);
    cr_assert_eq(gr.status, 404);
    cr_assert_eq(gr.error.error.code, API_ERROR_ERROR_CODE_NOT_FOUND);
    cr_assert(str_is(gr.request_id, "c-sdk-trace-1"));
    cr_assert(str_is(gr.error.error.request_id, "c-sdk-trace-1"));
    api_client_free(c);
}

Test(sdk_c, status_409_duplicate_username)
{
    api_client *c = client();
    char name[64], upper[64], mail[96];
    rt_str n = unique(name, sizeof name);
    int64_t id = create(c, n);
    api_client_create_user_response cr;
    api_new_user dup;

    for (size_t i = 0; i <= n.len; i++)
        upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ? name[i] - 32 : name[i]);
    dup.username = (rt_str){ upper, n.len };
    dup.email = email_of(n, "other.example.com", mail, sizeof mail);
    cr_assert_eq(api_client_create_user(c, &dup, &cr), API_CLIENT_E_STATUS);
    cr_assert_eq(cr.status, 409);
    cr_assert_eq(cr.error.error.code, API_ERROR_ERROR_CODE_CONFLICT);
    delete(c, id);
    api_client_free(c);
}

Test(sdk_c, status_413_body_past_the_limit)
{
    api_client *c = client();
    size_t big = 70000;
    char *name = malloc(big);
    api_client_create_user_response cr;
    api_new_user nu;

    cr_assert_not_null(name);
    memset(name, 'a', big);
    nu.username = (rt_str){ name, big };
    nu.email = RT_STR("big@example.com");
    api_client_set_validation(c, false);
    cr_assert_eq(api_client_create_user(c, &nu, &cr), API_CLIENT_E_STATUS, "%s", api_client_message(c));
    cr_assert_eq(cr.status, 413);
    cr_assert_eq(cr.error.error.code, API_ERROR_ERROR_CODE_PAYLOAD_TOO_LARGE);
    free(name);
    api_client_free(c);
}

/* What no operation sends (another media type, another method) goes through
 * api_client_raw, whose error answers decode into the same envelope. */
Test(sdk_c, status_415_and_405_raw)
{
    api_client *c = client();
    api_client_raw_response r;

    cr_assert_eq(api_client_raw(c, "POST", "/users", "text/plain", "x", 1, &r), API_CLIENT_E_STATUS);
    cr_assert_eq(r.status, 415);
    cr_assert_eq(r.error.error.code, API_ERROR_ERROR_CODE_UNSUPPORTED_MEDIA_TYPE);
    cr_assert_eq(api_client_raw(c, "PUT", "/users/1", "application/json", "{}", 2, &r), API_CLIENT_E_STATUS);
    cr_assert_eq(r.status, 405);
    cr_assert_eq(r.error.error.code, API_ERROR_ERROR_CODE_METHOD_NOT_ALLOWED);
    cr_assert_eq(api_client_raw(c, "POST", "/users", "application/json", "{\"username\":", 12, &r),
                 API_CLIENT_E_STATUS);
    cr_assert_eq(r.status, 400);
    cr_assert_eq(r.error.error.code, API_ERROR_ERROR_CODE_BAD_REQUEST);
    cr_assert_eq(api_client_raw(c, "GET", "/healthz", NULL, NULL, 0, &r), API_CLIENT_OK);
    cr_assert(str_is(r.body, "{\"status\":\"ok\"}"));
    api_client_free(c);
}

Test(sdk_c, status_503_database_unreachable)
{
    api_client *c = api_client_new(env_url("API_URL_NODB"));
    api_client_get_readyz_response rr;
    api_client_get_healthz_response hr;
    api_client_create_user_response cr;
    api_new_user nu = { .username = RT_STR("nodb1"), .email = RT_STR("nodb1@example.com") };

    cr_assert_not_null(c);
    cr_assert_eq(api_client_get_readyz(c, &rr), API_CLIENT_E_STATUS);
    cr_assert_eq(rr.status, 503);
    cr_assert_eq(rr.error.error.code, API_ERROR_ERROR_CODE_UNAVAILABLE);
    cr_assert_eq(api_client_create_user(c, &nu, &cr), API_CLIENT_E_STATUS);
    cr_assert_eq(cr.status, 503);
    cr_assert_eq(api_client_get_healthz(c, &hr), API_CLIENT_OK);
    cr_assert_eq(hr.body_200.status, API_HEALTH_STATUS_OK);
    api_client_free(c);
}

Test(sdk_c, transport_error)
{
    api_client *c = api_client_new("http://127.0.0.1:9/");
    api_client_get_healthz_response hr;

    cr_assert_not_null(c);
    api_client_set_timeout_ms(c, 2000);
    cr_assert_eq(api_client_get_healthz(c, &hr), API_CLIENT_E_TRANSPORT);
    cr_assert_eq(hr.status, 0);
    cr_assert_gt(strlen(api_client_message(c)), 0);
    api_client_free(c);
}

/* ---------------------------------------------------------------- answers that break the spec */

/* A one-connection HTTP server on a loopback port that answers whatever
 * request arrives with canned bytes (or nothing) and closes: it plays a
 * server that breaks the spec, which ours never does. */

typedef struct fake_server {
    int fd;
    int port;
    const char *reply; /* NULL: close without answering */
    pthread_t th;
} fake_server;

static void *fake_run(void *arg)
{
    fake_server *f = arg;
    struct timeval tv = { 5, 0 };
    char buf[4096];
    size_t got = 0;
    int conn = accept(f->fd, NULL, NULL);

    if (conn < 0)
        return NULL;
    setsockopt(conn, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (got < sizeof buf - 1) {
        ssize_t n = recv(conn, buf + got, sizeof buf - 1 - got, 0);

        if (n <= 0)
            break;
        got += (size_t)n;
        buf[got] = '\0';
        if (strstr(buf, "\r\n\r\n") != NULL)
            break;
    }
    if (f->reply != NULL) {
        size_t len = strlen(f->reply), off = 0;

        while (off < len) {
            ssize_t n = send(conn, f->reply + off, len - off, MSG_NOSIGNAL);

            if (n <= 0)
                break;
            off += (size_t)n;
        }
    }
    close(conn);
    return NULL;
}

static void fake_start(fake_server *f, const char *reply)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof a;

    f->reply = reply;
    f->fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_geq(f->fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(f->fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(f->fd, 1), 0);
    cr_assert_eq(getsockname(f->fd, (struct sockaddr *)&a, &alen), 0);
    f->port = ntohs(a.sin_port);
    cr_assert_eq(pthread_create(&f->th, NULL, fake_run, f), 0);
}

static void fake_stop(fake_server *f)
{
    pthread_join(f->th, NULL);
    close(f->fd);
}

/* getUser against a server answering `status` with `body` as `ctype`
 * (status NULL: closing without an answer); returns the rc. */
static api_client_rc get_user_from(const char *status, const char *ctype, const char *body,
                                   api_client_get_user_response *out, char *msg, size_t n, rt_errs *errs)
{
    fake_server f;
    char url[64], reply[1024];
    api_client *c;
    api_client_rc rc;

    snprintf(reply, sizeof reply, "HTTP/1.1 %s\r\nContent-Type: %s\r\nConnection: close\r\n"
             "Content-Length: %zu\r\n\r\n%s", status ? status : "", ctype, strlen(body), body);
    fake_start(&f, status ? reply : NULL);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", f.port);
    c = api_client_new(url);
    cr_assert_not_null(c);
    api_client_set_timeout_ms(c, 5000);
    rc = api_client_get_user(c, 1, out);
    snprintf(msg, n, "%s", api_client_message(c));
    *errs = *api_client_errors(c);
    /* out's views live in the client's arena: look at them before it goes. */
    if (rc == API_CLIENT_E_STATUS)
        cr_assert_eq(out->error.error.code, API_ERROR_ERROR_CODE_INTERNAL);
    if (rc == API_CLIENT_OK)
        cr_assert(str_is(out->body_200.username, "alice42"));
    api_client_free(c);
    fake_stop(&f);
    return rc;
}

#define JSON "application/json"

static bool has_err(const rt_errs *e, const char *field, const char *reason)
{
    for (unsigned i = 0; i < e->n; i++)
        if (strcmp(e->e[i].field, field) == 0 && strcmp(e->e[i].reason, reason) == 0)
            return true;
    return false;
}

Test(sdk_c_protocol, body_that_breaks_the_schema)
{
    api_client_get_user_response out;
    char msg[256];
    rt_errs e;

    cr_assert_eq(get_user_from("200 OK", JSON, "{\"id\":0,\"username\":\"ab\"}", &out, msg, sizeof msg, &e),
                 API_CLIENT_E_PROTOCOL, "%s", msg);
    cr_assert(has_err(&e, "/email", "is required"));
    cr_assert(has_err(&e, "/created_at", "is required"));
    cr_assert(has_err(&e, "/username", "must be at least 3 characters"));
    cr_assert(has_err(&e, "/id", "must be >= 1"));
    cr_assert_eq(out.status, 200);
}

Test(sdk_c_protocol, not_json)
{
    api_client_get_user_response out;
    char msg[256];
    rt_errs e;

    cr_assert_eq(get_user_from("200 OK", "text/html", "<p/>", &out, msg, sizeof msg, &e), API_CLIENT_E_PROTOCOL);
    cr_assert(strstr(msg, "not JSON") != NULL, "%s", msg);
    cr_assert_eq(get_user_from("200 OK", JSON, "{\"id\":", &out, msg, sizeof msg, &e), API_CLIENT_E_PROTOCOL);
    cr_assert(strstr(msg, "not valid JSON") != NULL, "%s", msg);
    cr_assert_eq(get_user_from("200 OK", JSON, "{\"username\":\"\xff\"}", &out, msg, sizeof msg, &e),
                 API_CLIENT_E_PROTOCOL);
    cr_assert(strstr(msg, "not valid JSON") != NULL, "invalid UTF-8: %s", msg);
}

Test(sdk_c_protocol, undeclared_statuses)
{
    api_client_get_user_response out;
    char msg[256];
    rt_errs e;

    cr_assert_eq(get_user_from("302 Found", JSON, "", &out, msg, sizeof msg, &e), API_CLIENT_E_PROTOCOL);
    cr_assert_str_eq(msg, "undeclared status 302");
    /* An undeclared error status with the envelope still decodes it. */
    cr_assert_eq(get_user_from("500 Internal Server Error", JSON,
                               "{\"error\":{\"code\":\"INTERNAL\",\"message\":\"boom\",\"details\":[],\"request_id\":\"abc\"}}",
                               &out, msg, sizeof msg, &e),
                 API_CLIENT_E_STATUS, "%s", msg);
    cr_assert_eq(out.status, 500);
    cr_assert_eq(get_user_from("418 I'm a teapot", "text/plain", "tea", &out, msg, sizeof msg, &e),
                 API_CLIENT_E_PROTOCOL);
    cr_assert(strstr(msg, "418") != NULL, "%s", msg);
}

Test(sdk_c_protocol, no_answer_and_tolerant_reading)
{
    api_client_get_user_response out;
    char msg[256];
    rt_errs e;

    cr_assert_eq(get_user_from(NULL, JSON, "", &out, msg, sizeof msg, &e), API_CLIENT_E_TRANSPORT);
    cr_assert_eq(out.status, 0);
    /* User allows more properties: an extra field is skipped, not an error. */
    cr_assert_eq(get_user_from("200 OK", JSON,
                               "{\"id\":7,\"username\":\"alice42\",\"email\":\"a@example.com\","
                               "\"created_at\":\"2026-11-23T10:00:00.000000Z\","
                               "\"updated_at\":\"2026-11-23T10:00:00.000000Z\",\"nick\":[1,{}]}",
                               &out, msg, sizeof msg, &e),
                 API_CLIENT_OK, "%s", msg);
}
