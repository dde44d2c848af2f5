#!/usr/bin/env node
// /docs over HTTP, header by header, against the running server (and, given a
// prefixed --base, through a reverse proxy that mounts it under a prefix):
// the relative redirect, the index and every asset it links (resolved
// against the index's URL, as a browser does), Content-Type per file,
// caching (immutable only for versioned links), ETag and 304, gzip that
// decodes to exactly the pinned package's bytes, HEAD, 404 and 405 in the
// error envelope, no source maps, and a spec whose server URL keeps "Try it
// out" on the page's own origin and prefix.
'use strict';
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const { root, parseArgs, usageExit, Checks, assert, assertEq } = require('./lib.js');

const USAGE = 'http_test.js --base URL';
const args = parseArgs(process.argv.slice(2), USAGE);
if (typeof args.base !== 'string') usageExit(USAGE, '--base is required');
const base = args.base.replace(/\/+$/, '');
const dist = path.join(root, 'tools', 'node_modules', 'swagger-ui-dist');
const TIMEOUT_MS = 10000;
const checks = new Checks();

// One raw request: no redirect following, no decompression, and the path
// sent exactly as written (a URL object would fold "..", "%2e%2e").
function request(method, url, headers = {}) {
  const u = new URL(url);
  const rawPath = url.slice(u.origin.length) || '/';
  return new Promise((resolve, reject) => {
    const opts = { host: u.hostname, port: u.port, path: rawPath, method, headers, timeout: TIMEOUT_MS };
    const req = http.request(opts, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

function expectHeader(r, name, want) {
  assertEq(r.headers[name.toLowerCase()], want, name);
}

function envelope(r, code) {
  const e = JSON.parse(r.body.toString());
  assertEq(e.error && e.error.code, code, 'error code');
  assert(typeof e.error.request_id === 'string' && e.error.request_id === r.headers['x-request-id'],
    'request_id matches X-Request-ID');
}

const TYPES = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.png': 'image/png',
};

async function main() {
  const indexUrl = `${base}/docs/`;
  let index = null;

  await checks.check('GET /docs redirects to the relative "docs/"', async () => {
    for (const m of ['GET', 'HEAD']) {
      const r = await request(m, `${base}/docs`);
      assertEq(r.status, 301, `${m} status`);
      expectHeader(r, 'location', 'docs/');
      assertEq(new URL(r.headers.location, `${base}/docs`).href, indexUrl, 'resolved Location');
    }
  });

  await checks.check('GET /docs/ is the HTML index, revalidated on every use', async () => {
    const r = await request('GET', indexUrl);
    assertEq(r.status, 200, 'status');
    expectHeader(r, 'content-type', 'text/html; charset=utf-8');
    expectHeader(r, 'cache-control', 'no-cache');
    expectHeader(r, 'x-content-type-options', 'nosniff');
    assert(/^"[0-9a-f]{16}"$/.test(r.headers.etag || ''), `ETag ${r.headers.etag}`);
    index = r;
  });
  if (!index) return;
  const html = index.body.toString();
  const links = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);

  await checks.check('the index links only relative URLs (prefix-safe)', async () => {
    assert(links.length >= 4, `only ${links.length} links`);
    for (const l of links) assert(!/^[a-z]+:|^\//i.test(l), `absolute link ${l}`);
  });

  const assets = links.filter((l) => /\?v=[0-9a-f]{16}$/.test(l));
  await checks.check('the index links the bundle, the stylesheet and the start-up script by version', async () => {
    for (const want of ['swagger-ui-bundle.js', 'swagger-ui.css', 'docs.js']) {
      assert(assets.some((l) => l.startsWith(`${want}?v=`)), `no versioned link to ${want}`);
    }
  });

  for (const link of assets) {
    const url = new URL(link, indexUrl).href;
    const name = link.replace(/\?.*/, '');
    await checks.check(`${name}: served under the prefix, typed, cached for good, identical to the package`, async () => {
      assert(url.startsWith(`${base}/docs/`), `${link} resolves to ${url}`);
      const r = await request('GET', url);
      assertEq(r.status, 200, 'status');
      expectHeader(r, 'content-type', TYPES[path.extname(name)]);
      expectHeader(r, 'cache-control', 'public, max-age=31536000, immutable');
      expectHeader(r, 'x-content-type-options', 'nosniff');
      assert(r.headers['content-encoding'] === undefined, 'not encoded unless asked');
      const pkgFile = path.join(dist, name);
      if (fs.existsSync(pkgFile)) assert(r.body.equals(fs.readFileSync(pkgFile)), `bytes differ from ${pkgFile}`);
      else assertEq(r.body.toString(), fs.readFileSync(path.join(root, 'src', 'runtime', name)).toString(), 'bytes');

      // unversioned: same bytes, but must be revalidated
      const plain = await request('GET', url.replace(/\?.*/, ''));
      expectHeader(plain, 'cache-control', 'no-cache');
      assert(plain.body.equals(r.body), 'unversioned bytes differ');

      // conditional request
      const nm = await request('GET', url, { 'if-none-match': r.headers.etag });
      assertEq(nm.status, 304, 'If-None-Match status');
      assertEq(nm.body.length, 0, '304 body length');
      expectHeader(nm, 'etag', r.headers.etag);

      // HEAD: the headers of GET, no body
      const h = await request('HEAD', url);
      assertEq(h.status, 200, 'HEAD status');
      assertEq(h.headers['content-length'], String(r.body.length), 'HEAD Content-Length');
      assertEq(h.body.length, 0, 'HEAD body');
      expectHeader(h, 'content-type', TYPES[path.extname(name)]);

      // gzip when accepted (text files), decoding to the same bytes
      if (!name.endsWith('.png')) {
        const z = await request('GET', url, { 'accept-encoding': 'gzip, deflate' });
        expectHeader(z, 'content-encoding', 'gzip');
        expectHeader(z, 'vary', 'Accept-Encoding');
        assert(z.headers.etag !== r.headers.etag, 'the gzip representation has its own ETag');
        assert(zlib.gunzipSync(z.body).equals(r.body), 'gunzipped bytes differ');
        const no = await request('GET', url, { 'accept-encoding': 'gzip;q=0, deflate' });
        assert(no.headers['content-encoding'] === undefined, 'gzip;q=0 still gzipped');
      }
    });
  }

  await checks.check('the licence texts of the embedded package are served', async () => {
    for (const f of ['LICENSE', 'NOTICE']) {
      const r = await request('GET', `${base}/docs/${f}`);
      assertEq(r.status, 200, `${f} status`);
      expectHeader(r, 'content-type', 'text/plain; charset=utf-8');
      assert(r.body.equals(fs.readFileSync(path.join(dist, f))), `${f} bytes`);
    }
  });

  await checks.check('unknown files, source maps and traversal get the 404 envelope', async () => {
    for (const p of ['nope.js', 'swagger-ui-bundle.js.map', 'swagger-ui.css.map', 'index.html',
      'swagger-ui-standalone-preset.js', '../openapi.json', '%2e%2e/openapi.json', 'docs.js/']) {
      const r = await request('GET', `${base}/docs/${p}`);
      assertEq(r.status, 404, `${p} status`);
      expectHeader(r, 'content-type', 'application/json');
      envelope(r, 'NOT_FOUND');
    }
  });

  await checks.check('methods other than GET and HEAD get 405 with Allow', async () => {
    for (const m of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      for (const p of ['/docs', '/docs/', '/docs/swagger-ui.css']) {
        const r = await request(m, `${base}${p}`);
        assertEq(r.status, 405, `${m} ${p} status`);
        expectHeader(r, 'allow', 'GET, HEAD');
        envelope(r, 'METHOD_NOT_ALLOWED');
      }
    }
  });

  await checks.check("the spec's server URL resolves to this service (Try it out stays on the origin and prefix)", async () => {
    const specUrl = new URL('../openapi.json', indexUrl).href;
    assertEq(specUrl, `${base}/openapi.json`, 'spec URL as the page computes it');
    const r = await request('GET', specUrl);
    assertEq(r.status, 200, 'spec status');
    const spec = JSON.parse(r.body.toString());
    const server = new URL(spec.servers[0].url, specUrl).href.replace(/\/$/, '');
    assertEq(server, base, 'servers[0] resolved against the spec URL');
    const health = await request('GET', `${server}/healthz`);
    assertEq(health.status, 200, `${server}/healthz`);
  });
}

main()
  .catch((e) => checks.fail('docs http test', e && e.stack ? e.stack : String(e)))
  .finally(() => { process.exitCode = checks.summary() ? 0 : 1; });
