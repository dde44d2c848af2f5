"""Round trips of the generated Python client (sdk/python/api_client.py)
against the live server the test suite started ($API_URL), and a server
without a database ($API_URL_NODB) for 503.

    API_URL=http://127.0.0.1:8080 API_URL_NODB=... python3 -m unittest tests/sdk/test_python_sdk.py
"""

import datetime
import http.server
import os
import threading
import random
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "sdk", "python"))
sys.dont_write_bytecode = True

import api_client as sdk  # noqa: E402

RUN = "%x%x" % (int(time.time()) % 0xFFFFFF, random.randrange(0xFFFF))
_serial = [0]


def unique():
    _serial[0] += 1
    return "py%s%d" % (RUN, _serial[0])


def new_user(name=None):
    name = name or unique()
    return sdk.NewUser(username=name, email=name + "@example.com")


class Base(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        url = os.environ.get("API_URL")
        if not url:
            raise RuntimeError("API_URL is not set: run through scripts/test.d/50-sdk.sh")
        cls.client = sdk.Client(url)
        cls.raw = sdk.Client(url, validate=False)


class RoundTrip(Base):
    def test_create_get_update_delete(self):
        nu = new_user()
        created = self.client.create_user(nu)
        self.assertEqual(created.status, 201)
        u = created.body
        self.assertIsInstance(u, sdk.User)
        self.assertEqual((u.username, u.email), (nu.username, nu.email))
        self.assertGreater(u.id, 0)
        self.assertEqual(created.location, "/users/%d" % u.id)
        self.assertIsInstance(u.created_at, datetime.datetime)
        self.assertEqual(u.created_at.tzinfo, datetime.timezone.utc)
        self.assertTrue(created.request_id)

        got = self.client.get_user(u.id)
        self.assertEqual(got.body, u)

        upd = self.client.update_user(u.id, sdk.UserPatch(email=nu.username + "@example.org"))
        self.assertEqual(upd.body.email, nu.username + "@example.org")
        self.assertEqual(upd.body.username, nu.username)
        self.assertGreaterEqual(upd.body.updated_at, u.updated_at)
        # A mapping works as a body too, checked the same way.
        upd2 = self.client.update_user(u.id, {"username": nu.username + "b"})
        self.assertEqual(upd2.body.username, nu.username + "b")

        gone = self.client.delete_user(u.id)
        self.assertEqual((gone.status, gone.body), (204, None))
        with self.assertRaises(sdk.NotFound) as cm:
            self.client.get_user(u.id)
        self.assertEqual(cm.exception.status, 404)
        self.assertEqual(cm.exception.code, "NOT_FOUND")
        self.assertIsInstance(cm.exception.envelope, sdk.Error)
        self.assertEqual(cm.exception.envelope.error.code, sdk.ErrorErrorCode.NOT_FOUND)
        with self.assertRaises(sdk.NotFound):
            self.client.delete_user(u.id)

    def test_list_pagination(self):
        ids = [self.client.create_user(new_user()).body.id for _ in range(5)]
        seen, after, pages = [], ids[0] - 1, 0
        while after is not None and pages < 50 and len([i for i in seen if i in ids]) < 5:
            page = self.client.list_users(limit=2, after=after).body
            self.assertIsInstance(page, sdk.UserList)
            self.assertLessEqual(len(page.items), 2)
            self.assertTrue(all(x.id > after for x in page.items))
            seen += [x.id for x in page.items]
            after = page.next_after
            pages += 1
        self.assertEqual([i for i in seen if i in ids], ids)
        self.assertGreaterEqual(pages, 3)
        default = self.client.list_users().body
        self.assertLessEqual(len(default.items), 20)
        for i in ids:
            self.client.delete_user(i)

    def test_request_id_is_sent(self):
        c = sdk.Client(self.client.base_url, request_id="py-sdk-trace-1")
        self.assertEqual(c.get_healthz().request_id, "py-sdk-trace-1")
        with self.assertRaises(sdk.NotFound) as cm:
            c.get_user(2**62)
        self.assertEqual(cm.exception.request_id, "py-sdk-trace-1")
        self.assertEqual(cm.exception.envelope.error.request_id, "py-sdk-trace-1")

    def test_health(self):
        self.assertEqual(self.client.get_healthz().body.status, sdk.HealthStatus.OK)
        self.assertEqual(self.client.get_readyz().body.status, sdk.HealthStatus.OK)


class ClientValidation(Base):
    """The client's checks are the server's: same fields, same reasons, and
    nothing is sent when they fail."""

    BAD_BODIES = [
        {"username": "x!", "email": "bad", "extra": 1},
        {"username": 5},
        {"username": "a" * 33, "email": "a@b"},
        {"username": "abc", "email": "a@" + "b" * 250 + ".com"},
        {"email": "ok@example.com", "username": "\u00e9\u00e9\u00e9"},
    ]

    def test_same_findings_as_the_server(self):
        for body in self.BAD_BODIES:
            with self.subTest(body=body):
                with self.assertRaises(sdk.ValidationError) as local:
                    self.client.create_user(body)
                with self.assertRaises(sdk.BadRequest) as remote:
                    self.raw.create_user(body)
                self.assertEqual(remote.exception.code, "VALIDATION_ERROR")
                self.assertEqual(local.exception.details, remote.exception.details)

    def test_patch_needs_a_field(self):
        with self.assertRaises(sdk.ValidationError) as local:
            self.client.update_user(1, sdk.UserPatch())
        with self.assertRaises(sdk.BadRequest) as remote:
            self.raw.update_user(1, sdk.UserPatch())
        self.assertEqual(local.exception.details, remote.exception.details)
        self.assertEqual(local.exception.details, [sdk.FieldError("", "must have at least 1 property")])

    def test_parameters(self):
        for call, field in ((lambda c: c.get_user(0), "path.id"),
                            (lambda c: c.list_users(limit=101), "query.limit"),
                            (lambda c: c.list_users(after=-1), "query.after")):
            with self.subTest(field=field):
                with self.assertRaises(sdk.ValidationError) as local:
                    call(self.client)
                with self.assertRaises(sdk.BadRequest) as remote:
                    call(self.raw)
                self.assertEqual([d.field for d in local.exception.details], [field])
                self.assertEqual(local.exception.details, remote.exception.details)

    def test_dataclass_types_are_checked(self):
        with self.assertRaises(sdk.ValidationError) as cm:
            self.client.create_user(sdk.NewUser(username=123, email=None))
        self.assertEqual(cm.exception.details, [sdk.FieldError("/username", "must be a string"),
                                                sdk.FieldError("/email", "is required")])


class ErrorStatuses(Base):
    def test_400_bad_username_bypassing_client_checks(self):
        with self.assertRaises(sdk.BadRequest) as cm:
            self.raw.create_user(sdk.NewUser(username="no", email="no@example.com"))
        e = cm.exception
        self.assertEqual((e.status, e.code), (400, "VALIDATION_ERROR"))
        self.assertEqual(e.details, [sdk.FieldError("/username", "must be at least 3 characters")])

    def test_400_malformed_json(self):
        with self.assertRaises(sdk.BadRequest) as cm:
            self.client.request("POST", "/users", b'{"username":', "application/json")
        self.assertEqual(cm.exception.code, "BAD_REQUEST")

    def test_404(self):
        with self.assertRaises(sdk.NotFound) as cm:
            self.client.get_user(2**63 - 1)
        self.assertEqual(cm.exception.code, "NOT_FOUND")

    def test_409_duplicate_username(self):
        u = self.client.create_user(new_user()).body
        with self.assertRaises(sdk.Conflict) as cm:
            self.client.create_user(sdk.NewUser(username=u.username.upper(), email="x" + u.email))
        self.assertEqual(cm.exception.code, "CONFLICT")
        self.client.delete_user(u.id)

    def test_413_body_past_the_limit(self):
        with self.assertRaises(sdk.PayloadTooLarge) as cm:
            self.raw.create_user(sdk.NewUser(username="a" * 70000, email="big@example.com"))
        self.assertEqual(cm.exception.code, "PAYLOAD_TOO_LARGE")

    def test_415_and_405_through_request(self):
        with self.assertRaises(sdk.UnsupportedMediaType) as cm:
            self.client.request("POST", "/users", b"username=abc", "application/x-www-form-urlencoded")
        self.assertEqual(cm.exception.code, "UNSUPPORTED_MEDIA_TYPE")
        with self.assertRaises(sdk.MethodNotAllowed) as cm:
            self.client.request("PUT", "/users/1", b"{}")
        self.assertEqual(cm.exception.code, "METHOD_NOT_ALLOWED")
        self.assertIn("PATCH", cm.exception.headers.get("Allow", ""))

    def test_503_database_unreachable(self):
        down = sdk.Client(os.environ["API_URL_NODB"])
        with self.assertRaises(sdk.ServiceUnavailable) as cm:
            down.get_readyz()
        self.assertEqual(cm.exception.code, "UNAVAILABLE")
        with self.assertRaises(sdk.ServiceUnavailable):
            down.create_user(new_user())
        self.assertEqual(down.get_healthz().status, 200)

    def test_transport_error(self):
        with self.assertRaises(sdk.TransportError):
            sdk.Client("http://127.0.0.1:9", timeout=2).get_healthz()


class _Canned(http.server.BaseHTTPRequestHandler):
    """Answers every request with the server's canned (status, type, body)."""

    def do_GET(self):
        status, ctype, body = self.server.canned
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Protocol(unittest.TestCase):
    """Answers that break the spec, from a loopback server that plays one
    (ours never does): they raise ProtocolError with what is wrong."""

    @classmethod
    def setUpClass(cls):
        cls.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Canned)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.client = sdk.Client("http://127.0.0.1:%d" % cls.server.server_address[1], timeout=10)

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def answer(self, status, ctype, body):
        self.server.canned = (status, ctype, body.encode("utf-8") if isinstance(body, str) else body)
        return self.client.get_user(1)

    def test_body_that_breaks_the_schema(self):
        with self.assertRaises(sdk.ProtocolError) as cm:
            self.answer(200, "application/json", '{"id":0,"username":"ab","created_at":"yesterday"}')
        d = cm.exception.details
        self.assertIn(sdk.FieldError("/email", "is required"), d)
        self.assertIn(sdk.FieldError("/created_at", "must be an RFC 3339 date-time"), d)
        self.assertIn(sdk.FieldError("/username", "must be at least 3 characters"), d)
        self.assertIn(sdk.FieldError("/id", "must be >= 1"), d)
        self.assertNotIn(sdk.FieldError("/created_at", "is required"), d)

    def test_not_json(self):
        with self.assertRaisesRegex(sdk.ProtocolError, "not JSON"):
            self.answer(200, "text/html", "<p/>")
        with self.assertRaisesRegex(sdk.ProtocolError, "not valid JSON"):
            self.answer(200, "application/json", '{"id":')

    def test_undeclared_statuses(self):
        with self.assertRaisesRegex(sdk.ProtocolError, "undeclared status 203"):
            self.answer(203, "application/json", "{}")
        with self.assertRaises(sdk.InternalServerError) as cm:
            self.answer(500, "application/json",
                        '{"error":{"code":"INTERNAL","message":"boom","details":[],"request_id":"abc"}}')
        self.assertEqual(cm.exception.envelope.error.code, sdk.ErrorErrorCode.INTERNAL)
        with self.assertRaises(sdk.HttpError) as cm:
            self.answer(418, "text/plain", "tea")
        self.assertIs(type(cm.exception), sdk.HttpError)
        self.assertIsNone(cm.exception.envelope)
        self.assertEqual(cm.exception.body, "tea")

    def test_tolerant_reading(self):
        u = self.answer(200, "application/json",
                        '{"id":7,"username":"alice42","email":"a@example.com",'
                        '"created_at":"2026-11-23T10:00:00.000000Z",'
                        '"updated_at":"2026-11-23T10:00:00.000000Z","nick":[1,{}]}').body
        self.assertEqual((u.id, u.username), (7, "alice42"))


if __name__ == "__main__":
    unittest.main()
