#!/usr/bin/env node
// A minimal reverse proxy for the tests: serves the upstream service under a
// path prefix, the way a front proxy mounts it (e.g. nginx's
// `location /api/ { proxy_pass http://upstream/; }`):
//   <prefix>/x  ->  upstream /x     (method, headers and body passed through)
//   anything else -> 404 from the proxy itself
// Response headers are passed through untouched, so a Location the service
// sends must already be right for the client: only a relative one is.
//   prefix_proxy.js --port N --prefix /api --upstream http://127.0.0.1:M [--max-seconds S]
// Prints "listening <port>" when ready; stops on SIGTERM/SIGINT, and on its
// own after --max-seconds (default 600) so a forgotten proxy cannot linger.
'use strict';
const http = require('node:http');
const { parseArgs, usageExit } = require('./lib.js');

const USAGE = 'prefix_proxy.js --port N --prefix /api --upstream URL [--max-seconds S]';
const a = parseArgs(process.argv.slice(2), USAGE);
if (!a.port || typeof a.prefix !== 'string' || typeof a.upstream !== 'string') usageExit(USAGE, 'missing argument');
const prefix = a.prefix.replace(/\/+$/, '');
const up = new URL(a.upstream);

const server = http.createServer((req, res) => {
  const u = req.url;
  if (!(u === prefix || u.startsWith(`${prefix}/`) || u.startsWith(`${prefix}?`))) {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end(`proxy: ${u} is not under ${prefix}\n`);
    return;
  }
  const rest = u.slice(prefix.length);
  const headers = { ...req.headers, host: up.host, 'x-forwarded-prefix': prefix };
  const out = http.request({
    host: up.hostname, port: up.port, method: req.method, path: rest.startsWith('/') ? rest : `/${rest}`,
    headers, timeout: 15000,
  }, (r) => {
    res.writeHead(r.statusCode, r.rawHeaders);
    r.pipe(res);
  });
  out.on('timeout', () => out.destroy(new Error('upstream timeout')));
  out.on('error', (e) => {
    if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
    res.end(`proxy: ${e.message}\n`);
  });
  req.pipe(out);
});
server.keepAliveTimeout = 2000;
server.listen(Number(a.port), '127.0.0.1', () => console.log(`listening ${a.port}`));
setTimeout(() => process.exit(0), 1000 * Number(a['max-seconds'] || 600)).unref();
for (const s of ['SIGTERM', 'SIGINT']) process.on(s, () => { server.close(); server.closeAllConnections(); process.exit(0); });
