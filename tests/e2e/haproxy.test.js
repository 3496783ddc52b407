'use strict';
// Two plugio nodes behind a real HAProxy (Debian's), as socket.io's
// documentation deploys several nodes: sticky sessions by cookie
// (`cookie SERVERID insert`), because a long-polling session makes many
// requests and each must reach the node that has it.  socket.io-client
// keeps the cookie with `withCredentials: true` (its cookie jar in Node),
// polls through the proxy, then upgrades to a WebSocket through it.  The
// nodes are joined through a real redis-server by the Redis adapter
// plugin, so a broadcast on one reaches the clients of both.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const h = require('./helpers');
const { startRedis } = require('./cluster/redis');

const T = { timeout: 60000 };
const HAPROXY = '/usr/sbin/haproxy';

const REDIS_ADAPTER = path.join(h.BUILD, 'plugins', 'redis-adapter', 'libredis-adapter.so');
const ADAPTER = path.join(h.BUILD, 'tests', 'plugins', 'adapter', 'libadapter.so');

const nodes = [];
let redis = null;
let proxy = null;
let proxyUrl = '';

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function listening(port, ms = 10000) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const up = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.once('error', () => resolve(false));
    });
    if (up) return;
    await h.sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

test.before(async () => {
  assert.ok(fs.existsSync(HAPROXY), 'haproxy is installed by tools/test');
  redis = await startRedis();
  for (let i = 0; i < 2; i++) {
    nodes.push(await h.startServer({
      plugins: {
        redis: { path: REDIS_ADAPTER, config: { host: '127.0.0.1', port: redis.port } },
        adapter: ADAPTER, /* for its broadcast event only: its adapter is not installed */
      },
      extraEvents: [{ name: 'bcast', handler: 'adapter:adapter_bcast' }],
      hooks: { init: 'redis:init' },
    }));
  }
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'plugio-haproxy-'));
  const cfg = path.join(dir, 'haproxy.cfg');
  fs.writeFileSync(cfg, [
    'defaults',
    '  mode http',
    '  timeout connect 5s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  timeout tunnel 60s',
    'frontend socketio',
    `  bind 127.0.0.1:${port}`,
    '  default_backend plugio',
    'backend plugio',
    '  balance roundrobin',
    '  cookie SERVERID insert indirect nocache',
    ...nodes.map((n, i) => `  server n${i + 1} 127.0.0.1:${n.port} cookie n${i + 1}`),
    '',
  ].join('\n'));
  proxy = spawn(HAPROXY, ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proxy.stderr.on('data', (d) => { err += d; });
  proxy.once('exit', (code) => { if (code) console.error(`haproxy exited ${code}: ${err}`); });
  await listening(port);
  proxyUrl = `http://127.0.0.1:${port}`;
});

test.after(async () => {
  h.closeAll();
  if (proxy) proxy.kill('SIGTERM');
  for (const n of nodes) {
    const { code } = await n.stop();
    assert.equal(h.sanitizerReport(n.stderr()), null, n.stderr());
    assert.equal(code, 0);
  }
  if (redis) await redis.close();
});

/* Which node served these socket ids: each node's e2e plugin writes the
 * ids it saw leave to its own reasons file. */
async function servedBy(ids) {
  const where = {};
  for (let i = 0; i < nodes.length; i++)
    for (const id of ids) if (await nodes[i].waitForReason(id, 200).catch(() => null)) where[id] = i;
  return where;
}

test('through HAProxy with cookie stickiness: polling, then the upgrade, on one node each', T, async () => {
  const sockets = [];
  for (let i = 0; i < 6; i++) {
    const s = await h.connect(proxyUrl, { withCredentials: true });
    const welcome = await s.welcome;
    assert.equal(welcome.transport, 'polling', 'connected over polling first');
    sockets.push(s);
  }
  for (const s of sockets) {
    if (s.io.engine.transport.name !== 'websocket')
      await new Promise((resolve) => s.io.engine.once('upgrade', resolve));
    assert.equal(s.io.engine.transport.name, 'websocket', 'upgraded through the proxy');
    assert.deepEqual(await h.ackAll(s, 'echo', 'hello', { n: 1 }), ['hello', { n: 1 }]);
  }
  const ids = sockets.map((s) => s.id);
  for (const s of sockets) s.disconnect();
  const where = await servedBy(ids);
  assert.equal(Object.keys(where).length, ids.length, 'each socket was on one node');
  assert.deepEqual(new Set(Object.values(where)), new Set([0, 1]), 'round robin used both nodes');
});

test('long-polling only through HAProxy: every request of a session reaches its node', T, async () => {
  const s = await h.connect(proxyUrl, { withCredentials: true, transports: ['polling'] });
  // seq acks [argument, its node's running count of seq calls]: one node
  // answering them all counts up by one each time.
  const counts = [];
  for (let i = 0; i < 20; i++) {
    const [[arg, count]] = await h.ackAll(s, 'seq', i); /* one argument: [arg, count] */
    assert.equal(arg, i);
    counts.push(count);
  }
  assert.deepEqual(counts, counts.map((_, i) => counts[0] + i));
  assert.equal(s.io.engine.transport.name, 'polling');
  s.disconnect();
});

test('without the cookie, round robin sends a polling session\'s requests to the wrong node', T, async () => {
  // The reason stickiness is needed: a client without a cookie jar.
  const s = h.client(proxyUrl, { transports: ['polling'] });
  const outcome = await Promise.race([
    h.next(s, 'connect', 5000).then(() => 'connect'),
    h.connectError(s, 5000).then((e) => `connect_error: ${e.message}`),
    h.next(s, 'disconnect', 5000).then(([why]) => `disconnect: ${why}`),
  ]).catch((e) => `nothing: ${e.message}`);
  s.close();
  // The handshake lands on one node, the next poll on the other, which
  // answers 400 "Session ID unknown": the client gives up.
  assert.match(outcome, /^(connect_error|disconnect)/, outcome);
});

test('a broadcast on one node reaches the clients of both, once each, through the Redis adapter', T, async () => {
  const sockets = [];
  for (let i = 0; i < 4; i++) sockets.push(await h.connect(proxyUrl, { withCredentials: true }));
  /* Both nodes subscribed: each counts the other on the request channel. */
  for (let i = 0; i < 100 && Number((await redis.numsub('socket.io-request#/#'))) < 2; i++) await h.sleep(20);
  const got = sockets.map((s) => h.collect(s, 'news'));
  const [here] = await h.ackAll(sockets[0], 'bcast', {}, 'to everyone');
  assert.ok(here >= 1 && here < 4, `round robin put some clients on the other node (${here} here)`);
  for (let i = 0; i < 100 && got.some((g) => g.length < 1); i++) await h.sleep(20);
  await h.sleep(100); /* nothing more comes */
  assert.deepEqual(got, sockets.map(() => ['to everyone']));
  for (const s of sockets) s.disconnect();
});
