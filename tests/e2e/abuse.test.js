'use strict';
// security: the abuse limits.
// - rateLimit: a connection's events past its burst are not dispatched, an
//   ack they asked for is {error: "rate limit exceeded"}, and events flow
//   again once the bucket refills; disconnectAfter cuts a client that keeps on.
// - maxConnectionsPerAddress: the next handshake from that address is refused
//   as engine.io refuses one (polling: 403 {"code":4,"message":"Forbidden"};
//   WebSocket: 400 "Forbidden"); a session that ends, however it ends, makes
//   room; a polling session upgraded to WebSocket counts once.
// - allow: only the listed addresses may connect.
// - mistakes in the block are named at file:line:col by --check; a reload
//   applies new limits.
// Each refusal is logged. No timing is asserted: waits are bounded loops.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const WebSocket = require('ws');
const h = require('./helpers');

const T = { timeout: 30000 };
const RATE_ERROR = { error: 'rate limit exceeded' };
test.afterEach(() => h.closeAll());

/* A raw polling handshake from `localAddress`: {status, type, body}. */
function handshakeFrom(url, localAddress = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const req = http.get(`${url}/socket.io/?EIO=4&transport=polling`, { localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body }));
    });
    req.setTimeout(5000, () => req.destroy(new Error('handshake: no answer within 5 s')));
    req.on('error', reject);
  });
}

/* A raw WebSocket handshake from `localAddress`: 'open' (then closed), or
 * the refusal's {status, type, body}. */
function wsFrom(url, localAddress = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`, { localAddress });
    const timer = setTimeout(() => { ws.terminate(); reject(new Error('ws: nothing within 5 s')); }, 5000);
    ws.on('open', () => { clearTimeout(timer); ws.terminate(); resolve('open'); });
    ws.on('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode, type: res.headers['content-type'], connection: res.headers.connection, body });
      });
    });
    ws.on('error', () => {}); // the outcome is one of the above
  });
}

const FORBIDDEN_POLLING = { status: 403, type: 'application/json', body: '{"code":4,"message":"Forbidden"}' };
const FORBIDDEN_WS = { status: 400, type: 'text/html', connection: 'close', body: 'Forbidden' };

/* Retry `fn` every 50 ms until it returns a truthy value (returned), at most `ms`. */
async function eventually(fn, ms = 10000, what = 'condition') {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await h.sleep(50);
  }
}

async function waitForLog(srv, re, ms = 5000) {
  await eventually(() => re.test(srv.stderr()), ms, `a log line matching ${re}\nstderr:\n${srv.stderr()}`);
}

/* emit with an ack: the ack's first argument. */
function ack(socket, event, ...args) {
  return socket.timeout(5000).emitWithAck(event, ...args);
}

/* Rewrite the server's YAML (a reload follows through the watcher). */
function rewrite(srv, doc) {
  const tmp = `${srv.yamlFile}.tmp`;
  fs.writeFileSync(tmp, h.toYaml(doc));
  fs.renameSync(tmp, srv.yamlFile);
}

test.describe('security.rateLimit', () => {
  // One token a second: nothing refills while a burst is being read.
  const srv = h.serverFor(test, { security: { rateLimit: { eventsPerSecond: 1, burst: 10 } } });

  for (const transport of ['websocket', 'polling']) {
    test(`a burst over the limit gets error acks after 'burst' events, and events flow again after a refill (${transport})`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport] });
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => ack(socket, 'echo', i)));
      assert.deepEqual(replies.slice(0, 10), Array.from({ length: 10 }, (_, i) => i), 'the burst is served');
      assert.deepEqual(replies.slice(10), Array(10).fill(RATE_ERROR), 'the rest gets error acks');
      // One token a second: an echo comes back within a bounded wait.
      const again = await eventually(async () => {
        const r = await ack(socket, 'echo', 'again');
        return r === 'again' ? r : null;
      }, 10000, 'an echo after the refill');
      assert.equal(again, 'again');
      assert.equal(socket.connected, true, 'refusals do not disconnect without disconnectAfter');
      await waitForLog(srv(), new RegExp(`refused an event from socket \\S+ \\(127\\.0\\.0\\.1\\): over security\\.rateLimit \\(1 a second, burst 10\\)`));
    });
  }

  test('an event over the limit is not dispatched, with or without an ack', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    for (let i = 0; i < 15; i++) socket.emit('record', i); // no ack: 10 pass, 5 do not
    const replayed = await eventually(async () => {
      const r = await ack(socket, 'replay');
      return Array.isArray(r) ? r : null;
    }, 10000, 'a replay after the refill');
    assert.deepEqual(replayed, Array.from({ length: 10 }, (_, i) => i));
  });

  test('one bucket per connection, whatever the namespace', T, async () => {
    const main = await h.connect(srv().url, { transports: ['websocket'] });
    const custom = main.io.socket('/custom');
    await new Promise((resolve, reject) => { custom.once('connect', resolve); custom.once('connect_error', reject); });
    const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => ack(main, 'echo', i)));
    assert.deepEqual(replies, Array.from({ length: 10 }, (_, i) => i));
    assert.deepEqual(await ack(custom, 'echo', 'x'), RATE_ERROR, '/custom draws on the same bucket');
    const other = await h.connect(srv().url, { transports: ['websocket'] });
    assert.equal(await ack(other, 'echo', 'y'), 'y', 'another connection has a bucket of its own');
    custom.close();
  });
});

test.describe('security.rateLimit.disconnectAfter', () => {
  const srv = h.serverFor(test, { security: { rateLimit: { eventsPerSecond: 1, burst: 3, disconnectAfter: 5 } } });

  test('a client that keeps sending over the limit is disconnected (io server disconnect); others go on', T, async () => {
    const bystander = await h.connect(srv().url, { transports: ['websocket'] });
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    const gone = h.next(socket, 'disconnect', 10000);
    // One at a time, each answered before the next goes: 3 pass, then refusals.
    const acks = [];
    for (let i = 0; i < 8 && socket.connected; i++) {
      acks.push(await ack(socket, 'echo', i).catch((e) => e.message));
    }
    const [reason] = await gone;
    assert.equal(reason, 'io server disconnect', 'told, so socket.io-client does not reconnect');
    assert.deepEqual(acks, [0, 1, 2, ...Array(5).fill(RATE_ERROR)], 'the 5th refusal in a row is acked, then disconnected');
    await waitForLog(srv(), /disconnected socket \S+ \(127\.0\.0\.1\): 5 events in a row over security\.rateLimit, its disconnectAfter/);
    assert.equal(await ack(bystander, 'echo', 'fine'), 'fine');
  });
});

/* A server of its own for one test, stopped after it: exit 0 on SIGTERM, no sanitizer report. */
async function withServer(opts, fn) {
  const srv = await h.startServer(opts);
  try {
    await fn(srv);
  } finally {
    h.closeAll();
    const { code, killedAfterMs } = await srv.stop();
    assert.equal(h.sanitizerReport(srv.stderr()), null, srv.stderr());
    assert.ok(!killedAfterMs && code === 0, `plugio exited with ${code} on SIGTERM\n${srv.stderr()}`);
  }
}

test.describe('security.maxConnectionsPerAddress', () => {
  const LIMIT2 = { security: { maxConnectionsPerAddress: 2 } };

  test('the next handshake from the address is refused as engine.io refuses one, on either transport; another address is not', T, () => withServer(LIMIT2, async (srv) => {
    const a = await h.connect(srv.url, { transports: ['websocket'] });
    const b = await h.connect(srv.url, { transports: ['polling'] });
    assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING);
    assert.deepEqual(await wsFrom(srv.url), FORBIDDEN_WS);
    const err = await h.connectError(h.client(srv.url, { transports: ['websocket'] }));
    assert.ok(err, 'socket.io-client sees a connect_error');
    // 127.0.0.2 is another address (the whole of 127/8 reaches the loopback).
    assert.equal((await handshakeFrom(srv.url, '127.0.0.2')).status, 200);
    await waitForLog(srv, /refused a new session from 127\.0\.0\.1: 2 open from it, security\.maxConnectionsPerAddress is 2 \(1 in all\)/);
    assert.equal(await ack(a, 'echo', 'a'), 'a', 'open sessions are served');
    assert.equal(await ack(b, 'echo', 'b'), 'b');
    // A session that closes makes room, for one.
    b.close();
    const c = await eventually(() => h.connect(srv.url, { transports: ['websocket'] }).catch(() => null), 10000, 'a place after a close');
    assert.equal(await ack(c, 'echo', 'c'), 'c');
    assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING);
  }));

  test('a polling session upgraded to WebSocket counts once', T, () => withServer(LIMIT2, async (srv) => {
    const upgraded = await h.connect(srv.url, { transports: ['polling', 'websocket'] });
    await eventually(() => upgraded.io.engine.transport.name === 'websocket', 10000, 'the upgrade');
    const second = await h.connect(srv.url, { transports: ['websocket'] });
    assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING, 'two sessions: a third refused');
    assert.equal(await ack(upgraded, 'echo', 'up'), 'up');
    assert.equal(await ack(second, 'echo', '2'), '2');
    upgraded.close();
    const third = await eventually(() => h.connect(srv.url, { transports: ['websocket'] }).catch(() => null), 10000, 'room after the upgraded one closed');
    assert.equal(await ack(third, 'echo', '3'), '3');
    assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING, 'and room for one only');
  }));

  test('a session that ends by ping timeout, or is closed by the server, makes room', T, () => withServer(
    { ...LIMIT2, serverOptions: { pingInterval: 300, pingTimeout: 300 } }, async (srv) => {
      const live = await h.connect(srv.url, { transports: ['websocket'] });
      // A raw polling session that never answers a ping.
      const silent = await handshakeFrom(srv.url);
      assert.equal(silent.status, 200);
      assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING);
      // pingInterval + pingTimeout later it is gone, and its place free.
      const next = await eventually(async () => {
        const got = await handshakeFrom(srv.url);
        return got.status === 200 && got;
      }, 10000, 'room after a ping timeout');
      assert.equal(next.body[0], '0');
      // That one times out too; then the server kicks a connected client.
      const kicked = await eventually(() => h.connect(srv.url, { transports: ['websocket'] }).catch(() => null), 10000, 'room again');
      assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING);
      const gone = h.next(kicked, 'disconnect');
      kicked.emit('kick', { close: true });
      await gone;
      const last = await eventually(() => h.connect(srv.url, { transports: ['polling'] }).catch(() => null), 10000, 'room after a kick');
      assert.equal(await ack(last, 'echo', 'k'), 'k');
      assert.equal(await ack(live, 'echo', 'l'), 'l');
    }));
});

test.describe('security.allow', () => {
  test('only the listed addresses may connect', T, async () => {
    const srv = await h.startServer({ security: { allow: ['127.0.0.1', '10.0.0.0/8', '::1'] } });
    try {
      const socket = await h.connect(srv.url, { transports: ['websocket'] });
      assert.equal(await ack(socket, 'echo', 'in'), 'in');
      assert.equal((await handshakeFrom(srv.url)).status, 200);
      assert.deepEqual(await handshakeFrom(srv.url, '127.0.0.2'), FORBIDDEN_POLLING);
      assert.deepEqual(await wsFrom(srv.url, '127.0.0.2'), FORBIDDEN_WS);
      await waitForLog(srv, /refused a new session from 127\.0\.0\.2: not in security\.allow \(1 in all\)/);
      socket.close();
    } finally {
      await srv.stop();
    }
  });

  test('a list without the client\'s address refuses it; a block that holds it admits it', T, async () => {
    const srv = await h.startServer({ security: { allow: ['10.0.0.0/8', '127.0.0.2'] } });
    try {
      const err = await h.connectError(h.client(srv.url, { transports: ['polling'] }));
      assert.ok(err, 'socket.io-client sees a connect_error');
      assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING);
      assert.deepEqual(await wsFrom(srv.url), FORBIDDEN_WS);
      assert.equal((await handshakeFrom(srv.url, '127.0.0.2')).status, 200);
      assert.equal(await wsFrom(srv.url, '127.0.0.2'), 'open');
    } finally {
      await srv.stop();
    }
    const block = await h.startServer({ security: { allow: ['127.0.0.0/8'] } });
    try {
      assert.equal((await handshakeFrom(block.url, '127.0.0.3')).status, 200);
    } finally {
      await block.stop();
    }
  });

  test('IPv6: a client on ::1 is admitted by ::1, counted, and refused by IPv4 blocks (0.0.0.0/0 too)', T, async () => {
    await withServer({ server: { host: '::1' }, security: { allow: ['::1/128'], maxConnectionsPerAddress: 1 } }, async (srv) => {
      const socket = await h.connect(srv.url, { transports: ['websocket'] });
      assert.equal(await ack(socket, 'echo', 'v6'), 'v6');
      assert.deepEqual(await handshakeFrom(srv.url, '::1'), FORBIDDEN_POLLING);
      await waitForLog(srv, /refused a new session from ::1: 1 open from it, security\.maxConnectionsPerAddress is 1/);
    });
    await withServer({ server: { host: '::1' }, security: { allow: ['127.0.0.0/8', '0.0.0.0/0'] } }, async (srv) => {
      assert.deepEqual(await handshakeFrom(srv.url, '::1'), FORBIDDEN_POLLING);
      assert.deepEqual(await wsFrom(srv.url, '::1'), FORBIDDEN_WS);
      await waitForLog(srv, /refused a new session from ::1: not in security\.allow/);
    });
  });

  test('a server on :: (both families) sees an IPv4 client, ::ffff:127.0.0.1, as 127.0.0.1', T, async () => {
    await withServer({ server: { host: '::' }, security: { allow: ['127.0.0.1'], maxConnectionsPerAddress: 1 } }, async (srv) => {
      const socket = await h.connect(srv.url, { transports: ['websocket'] });
      assert.equal(await ack(socket, 'echo', 'v4'), 'v4');
      assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING);
      await waitForLog(srv, /refused a new session from 127\.0\.0\.1: 1 open from it/);
      assert.deepEqual(await handshakeFrom(srv.url, '127.0.0.2'), FORBIDDEN_POLLING);
      await waitForLog(srv, /refused a new session from 127\.0\.0\.2: not in security\.allow/);
    });
  });
});

test.describe('security: mistakes and reloads', () => {
  function check(text) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-abuse-'));
    const file = path.join(dir, 'plugio.yaml');
    fs.writeFileSync(file, text);
    return { file, r: spawnSync(h.PLUGIO, ['--check', file], { encoding: 'utf8', timeout: 10000 }) };
  }

  test('--check names a bad CIDR block and a negative rate at file:line:col', T, () => {
    const { file, r } = check([
      'server: {host: 127.0.0.1, port: 0}',
      'security:',
      '  rateLimit:',
      '    eventsPerSecond: -5',
      '  allow:',
      '    - 127.0.0.1',
      '    - 10.0.0.0/33',
      '    - 192.168.1.1/24',
      '',
    ].join('\n'));
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`^${file}:4:22: eventsPerSecond: -5 is out of range \\(more than 0, at most 1000000\\)$`, 'm'));
    assert.match(r.stderr, new RegExp(`^${file}:7:7: allow: the prefix '33' is not a number from 0 to 32`, 'm'));
    assert.match(r.stderr, new RegExp(`^${file}:8:7: allow: 192\\.168\\.1\\.1/24 has bits set past its prefix: 192\\.168\\.1\\.0/24\\?`, 'm'));
    assert.match(r.stderr, /3 errors/);
  });

  test('--check accepts a good security block', T, () => {
    const { r } = check('security:\n  rateLimit: {eventsPerSecond: 50, burst: 100}\n  maxConnectionsPerAddress: 20\n  allow: [127.0.0.1, 10.0.0.0/8, "::1"]\n');
    assert.equal(r.status, 0, r.stderr);
  });

  test('a reload applies new limits: the rate to connected clients, the others to new handshakes', T, async () => {
    const srv = await h.startServer({ security: { rateLimit: { eventsPerSecond: 1, burst: 2 } } });
    try {
      const socket = await h.connect(srv.url, { transports: ['websocket'] });
      const before = await Promise.all([1, 2, 3].map((i) => ack(socket, 'echo', i)));
      assert.deepEqual(before, [1, 2, RATE_ERROR]);

      // Lift the rate limit, cap sessions per address at the one open.
      const lifted = structuredClone(srv.doc);
      lifted.security = { maxConnectionsPerAddress: 1 };
      rewrite(srv, lifted);
      await waitForLog(srv, /reload #1 done/);
      const after = await Promise.all(Array.from({ length: 20 }, (_, i) => ack(socket, 'echo', i)));
      assert.deepEqual(after, Array.from({ length: 20 }, (_, i) => i), 'the connected client is no longer limited');
      assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING, 'the new cap counts the session already open');

      // An invalid edit changes nothing.
      const broken = structuredClone(srv.doc);
      broken.security = { allow: ['not-an-address'] };
      rewrite(srv, broken);
      await waitForLog(srv, /reload failed/);
      assert.match(srv.stderr(), /plugio\.yaml:\d+:\d+: allow: 'not-an-address' is not an IPv4 or IPv6 address/);
      assert.deepEqual(await handshakeFrom(srv.url), FORBIDDEN_POLLING);

      // An allow-list without the client's address: new handshakes refused, the open session kept.
      const walled = structuredClone(srv.doc);
      walled.security = { allow: ['10.0.0.0/8'] };
      rewrite(srv, walled);
      await waitForLog(srv, /reload #2 done/);
      assert.deepEqual(await handshakeFrom(srv.url, '127.0.0.2'), FORBIDDEN_POLLING);
      assert.equal(await ack(socket, 'echo', 'still'), 'still');
      socket.close();
    } finally {
      await srv.stop();
    }
  });
});
