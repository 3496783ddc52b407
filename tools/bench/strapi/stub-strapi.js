#!/usr/bin/env node
'use strict';
/*
 * stub-strapi.js - a stand-in for Strapi's users API, for the Strapi bridge
 * benchmark (tools/bench/strapi/run): the one request the bridge makes of
 * Strapi, GET /api/users/:id?populate=role with the API token as a Bearer
 * token, answered after a fixed latency (a real Strapi's database round
 * trip) so that both bridges wait on it alike.  Even ids are role
 * "authenticated", odd ids "viewer"; any other path is a 404, a wrong token
 * a 401.  GET /stats answers how many look-ups it has served and how many
 * TCP connections carried them, so that the benchmark can say how many
 * each bridge made (caching, coalescing, keep-alive).
 *
 *   node stub-strapi.js [--latency-ms 2] [--token TOKEN]
 *
 * Listens on 127.0.0.1 (a port the system picks) and prints
 * "listening on 127.0.0.1:PORT" on stderr; SIGTERM exits 0.
 */
const http = require('node:http');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const latency = Number(arg('--latency-ms', '2'));
const token = arg('--token', 'bench-api-token');
let lookups = 0;
let connections = 0; // TCP connections that carried look-ups

const server = http.createServer((req, res) => {
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  if (req.url === '/stats') return send(200, { lookups, connections });
  if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: { status: 401 } });
  const m = /^\/api\/users\/(\d+)\?populate=role$/.exec(req.url);
  if (!m) return send(404, { data: null, error: { status: 404, name: 'NotFoundError' } });
  lookups++;
  if (!req.socket.lookedUp) {
    req.socket.lookedUp = true;
    connections++;
  }
  const id = Number(m[1]);
  const role = id % 2 === 0
    ? { id: 1, name: 'Authenticated', type: 'authenticated' }
    : { id: 3, name: 'Viewer', type: 'viewer' };
  const user = { id, documentId: `u${id}`, username: `user${id}`, email: `u${id}@x.test`,
    provider: 'local', confirmed: true, blocked: false, role };
  setTimeout(() => send(200, user), latency);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  process.stderr.write(`listening on 127.0.0.1:${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
