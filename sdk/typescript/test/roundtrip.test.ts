/*
 * Round trips of the TypeScript client against the live server the test
 * suite started ($API_URL), and a server without a database
 * ($API_URL_NODB) for 503. Usernames are unique per run.
 */
import assert from "node:assert/strict";
import { test } from "node:test";

import {
    ApiError,
    BadRequestError,
    ConflictError,
    MethodNotAllowedError,
    NotFoundError,
    PayloadTooLargeError,
    ServiceUnavailableError,
    UnsupportedMediaTypeError,
    createApiClient,
    errorFromResponse,
    unwrap,
} from "../src/index.js";
import type { Schemas } from "../src/index.js";

function env(name: string): string {
    const v = process.env[name];
    if (!v) throw new Error(`${name} is not set: run through scripts/test.d/50-sdk.sh`);
    return v;
}

const base = env("API_URL");
const api = createApiClient(base);
const run = (Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36)).slice(-10);
let serial = 0;
const uniqueName = (): string => `ts${run}${serial++}`;

async function rejectsWith<E extends ApiError>(p: Promise<unknown>, kind: new (...a: never[]) => E): Promise<E> {
    try {
        await p;
    } catch (e) {
        assert.ok(e instanceof kind, `expected ${kind.name}, got ${String(e)}`);
        return e;
    }
    assert.fail(`expected ${kind.name}, the call succeeded`);
}

test("create, get, update, delete round trip", async () => {
    const name = uniqueName();
    const created = await unwrap(api.POST("/users", { body: { username: name, email: `${name}@example.com` } }));
    assert.equal(created.username, name);
    assert.equal(created.email, `${name}@example.com`);
    assert.ok(created.id > 0);
    assert.match(created.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

    const got = await unwrap(api.GET("/users/{id}", { params: { path: { id: created.id } } }));
    assert.deepEqual(got, created);

    const updated = await unwrap(api.PATCH("/users/{id}", {
        params: { path: { id: created.id } },
        body: { email: `${name}@example.org` },
    }));
    assert.equal(updated.email, `${name}@example.org`);
    assert.equal(updated.username, name);
    assert.ok(updated.updated_at >= created.updated_at);

    const gone = await unwrap(api.DELETE("/users/{id}", { params: { path: { id: created.id } } }));
    assert.equal(gone, undefined);
    const nf = await rejectsWith(api.GET("/users/{id}", { params: { path: { id: created.id } } }).then(unwrapNow), NotFoundError);
    assert.equal(nf.status, 404);
    assert.equal(nf.code, "NOT_FOUND");
    assert.ok(nf.requestId && nf.requestId.length > 0);
    await rejectsWith(unwrap(api.DELETE("/users/{id}", { params: { path: { id: created.id } } })), NotFoundError);
});

// unwrap() of an answer already awaited.
function unwrapNow<D>(a: { data?: D; error?: unknown; response: Response }): Promise<D> {
    return unwrap(Promise.resolve(a));
}

test("list pages through keyset pagination", async () => {
    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
        const n = uniqueName();
        const u = await unwrap(api.POST("/users", { body: { username: n, email: `${n}@example.com` } }));
        ids.push(u.id);
    }
    const first = ids[0]!;
    const seen: Schemas["User"][] = [];
    let after: number | null = first - 1;
    let pages = 0;
    while (after !== null && pages < 50 && seen.filter((u) => ids.includes(u.id)).length < ids.length) {
        const page: Schemas["UserList"] = await unwrap(api.GET("/users", { params: { query: { limit: 2, after } } }));
        assert.ok(page.items.length <= 2);
        for (const u of page.items) assert.ok(u.id > after);
        seen.push(...page.items);
        after = page.next_after;
        pages++;
    }
    const ours = seen.filter((u) => ids.includes(u.id)).map((u) => u.id);
    assert.deepEqual(ours, ids, "every created user, in id order");
    assert.ok(pages >= 3, "five users at two per page take at least three pages");
    for (const id of ids) await unwrap(api.DELETE("/users/{id}", { params: { path: { id } } }));
});

test("400: a username the spec forbids comes back as BadRequestError with details", async () => {
    const e = await rejectsWith(unwrap(api.POST("/users", { body: { username: "no!", email: "not-an-email" } })), BadRequestError);
    assert.equal(e.status, 400);
    assert.equal(e.code, "VALIDATION_ERROR");
    const fields = e.details.map((d) => d.field).sort();
    assert.deepEqual(fields, ["/email", "/username"]);
});

test("400: a query parameter out of range", async () => {
    const e = await rejectsWith(unwrap(api.GET("/users", { params: { query: { limit: 1000 } } })), BadRequestError);
    assert.equal(e.details[0]?.field, "query.limit");
});

test("404: an id nobody has", async () => {
    const e = await rejectsWith(unwrap(api.GET("/users/{id}", { params: { path: { id: 9007199254740991 } } })), NotFoundError);
    assert.equal(e.code, "NOT_FOUND");
});

test("409: a duplicate username", async () => {
    const n = uniqueName();
    const u = await unwrap(api.POST("/users", { body: { username: n, email: `${n}@example.com` } }));
    const e = await rejectsWith(unwrap(api.POST("/users", { body: { username: n.toUpperCase(), email: `other${n}@example.com` } })), ConflictError);
    assert.equal(e.code, "CONFLICT");
    await unwrap(api.DELETE("/users/{id}", { params: { path: { id: u.id } } }));
});

test("413: a body past the server's limit", async () => {
    const e = await rejectsWith(unwrap(api.POST("/users", { body: { username: "a".repeat(70000), email: "big@example.com" } })), PayloadTooLargeError);
    assert.equal(e.code, "PAYLOAD_TOO_LARGE");
});

test("415 and 405 through a raw fetch mapped by errorFromResponse", async () => {
    const r415 = await fetch(`${base}/users`, { method: "POST", headers: { "Content-Type": "text/plain" }, body: "x" });
    const e415 = await errorFromResponse(r415);
    assert.ok(e415 instanceof UnsupportedMediaTypeError);
    assert.equal(e415.code, "UNSUPPORTED_MEDIA_TYPE");
    const r405 = await fetch(`${base}/users`, { method: "PUT" });
    assert.match(r405.headers.get("Allow") ?? "", /POST/);
    const e405 = await errorFromResponse(r405);
    assert.ok(e405 instanceof MethodNotAllowedError);
    assert.equal(e405.code, "METHOD_NOT_ALLOWED");
});

test("503: a server whose database is unreachable", async () => {
    const down = createApiClient(env("API_URL_NODB"));
    const e = await rejectsWith(unwrap(down.GET("/readyz")), ServiceUnavailableError);
    assert.equal(e.code, "UNAVAILABLE");
    const n = uniqueName();
    const e2 = await rejectsWith(unwrap(down.POST("/users", { body: { username: n, email: `${n}@example.com` } })), ServiceUnavailableError);
    assert.equal(e2.status, 503);
    assert.deepEqual(await unwrap(down.GET("/healthz")), { status: "ok" });
});

// Compile-time checks: tsc must reject each of these (strict typing end to end).
export function typeErrors(): void {
    // @ts-expect-error email is required
    void api.POST("/users", { body: { username: "a" } });
    // @ts-expect-error id is a number
    void api.GET("/users/{id}", { params: { path: { id: "1" } } });
    // @ts-expect-error no such path
    void api.GET("/nope");
}
