'use strict';
// server.metrics and /healthz.  Every scrape is checked by Prometheus' own
// `promtool check metrics` (Debian's prometheus package) and its values
// are read with the official Prometheus Python client's parser (Debian's
// python3-prometheus-client), never by matching strings: a known
// sequence of connections, events, an ack left pending, a refused request,
// reloads that work and one that fails, and a plugin fault must show as
// exactly those numbers.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 90000 };
const crashBuild = (id) => path.join(h.BUILD, 'tests', 'plugins', 'crash', `libcrash_${id}.so`);
const PROM_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/* GET (or another method) a path; {status, headers, body}. */
async function get(srv, p, init = {}) {
  const res = await fetch(`${srv.url}${p}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}

/* Run `cmd` with `input` on its stdin: {status, stdout, stderr, error}.
 * Asynchronous, so the clients of a test go on meanwhile. */
function run(cmd, args, input) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const r = { status: null, stdout: '', stderr: '', error: undefined };
    child.stdout.setEncoding('utf8').on('data', (d) => { r.stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { r.stderr += d; });
    child.on('error', (err) => { r.error = err; });
    child.on('close', (code) => { r.status = code; resolve(r); });
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/* promtool's verdict on a scrape: it must exit 0 and say nothing (a lint
 * problem is printed and exits non-zero). */
async function promtool(text) {
  const r = await run('promtool', ['check', 'metrics'], text);
  assert.equal(r.error, undefined, `promtool: ${r.error} (is Debian's prometheus installed?)`);
  assert.equal(r.status, 0, `promtool check metrics: exit ${r.status}\n${r.stdout}${r.stderr}\n--- scrape:\n${text}`);
  assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool reports no problem');
}

/* The official Prometheus Python client's parser (Debian's
 * python3-prometheus-client), run by Debian's python3: the samples of a
 * scrape as JSON, values as strings (+Inf is not JSON). */
const PARSER = `
import json, sys
from prometheus_client.parser import text_string_to_metric_families
out = []
for f in text_string_to_metric_families(sys.stdin.read()):
    for s in f.samples:
        out.append({"family": f.name, "type": f.type, "name": s.name, "labels": s.labels, "value": repr(s.value)})
print(json.dumps(out))
`;

async function parse(text) {
  const r = await run('/usr/bin/python3', ['-c', PARSER], text);
  assert.equal(r.status, 0, `the Prometheus parser refused the scrape: ${r.stderr}\n--- scrape:\n${text}`);
  const samples = new Map();
  for (const s of JSON.parse(r.stdout)) {
    if (!samples.has(s.name)) samples.set(s.name, []);
    samples.get(s.name).push({ ...s, value: s.value === 'inf' ? Infinity : Number(s.value) });
  }
  return samples;
}

/* One scrape: checked by promtool, parsed into sample name -> samples. */
async function scrape(srv) {
  const r = await get(srv, '/metrics');
  assert.equal(r.status, 200, r.body);
  assert.equal(r.headers.get('content-type'), PROM_TYPE);
  await promtool(r.body);
  return parse(r.body);
}

const same = (a = {}, b = {}) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);

/* The value of sample `name` with exactly `labels`. */
function value(fams, name, labels = {}) {
  const list = fams.get(name);
  assert.ok(list, `no sample ${name}`);
  const m = list.find((x) => same(x.labels, labels));
  assert.ok(m, `${name}${JSON.stringify(labels)} missing; have ${JSON.stringify(list.map((x) => x.labels))}`);
  return m.value;
}

/* The label sets sample `name` has. */
const labelSets = (fams, name) => (fams.get(name) || []).map((x) => x.labels);

/* A histogram's series with `labels`: its buckets must be cumulative, in
 * ascending `le`, ending at +Inf, which is its count. */
function histogram(fams, name, labels = {}) {
  const buckets = (fams.get(`${name}_bucket`) || []).filter((x) => {
    const { le, ...rest } = x.labels;
    return le !== undefined && same(rest, labels);
  });
  assert.ok(buckets.length > 1, `${name}${JSON.stringify(labels)}: no buckets`);
  assert.equal(buckets[0].type, 'histogram');
  let lastLe = -Infinity;
  let last = 0;
  for (const b of buckets) {
    const le = b.labels.le === '+Inf' ? Infinity : Number(b.labels.le);
    assert.ok(le > lastLe, `${name}: le ${b.labels.le} not ascending`);
    assert.ok(b.value >= last, `${name} bucket le=${b.labels.le} (${b.value}) below the one before (${last})`);
    lastLe = le;
    last = b.value;
  }
  assert.equal(buckets[buckets.length - 1].labels.le, '+Inf');
  const count = value(fams, `${name}_count`, labels);
  assert.equal(last, count, `${name}: the +Inf bucket is the count`);
  return { count, sum: value(fams, `${name}_sum`, labels), buckets };
}

/* Scrape until want(families) holds (a bounded wait). */
async function scrapeUntil(srv, want, what, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const fams = await scrape(srv);
    if (want(fams)) return fams;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${ms} ms\n${srv.stderr()}`);
    await h.sleep(25);
  }
}

function rewrite(srv, doc) {
  const tmp = `${srv.yamlFile}.tmp`;
  fs.writeFileSync(tmp, h.toYaml(doc));
  fs.renameSync(tmp, srv.yamlFile);
}

/* A raw request whose head is `size` bytes of one header: over
 * server.maxHeaderSize (16384), within lws' slack, so it is answered 431. */
function bigHeadRequest(port, size) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    sock.setEncoding('latin1');
    sock.on('data', (d) => { data += d; });
    sock.on('error', reject);
    sock.on('close', () => resolve(data));
    sock.write(`GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nUser-Agent: ${'a'.repeat(size)}\r\n\r\n`);
  });
}

test('a known sequence shows as exactly its numbers, parsed and checked by promtool', T, async () => {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'plugio-metrics-'));
  const live = path.join(dir, 'libcrash.so');
  fs.copyFileSync(crashBuild('a'), live);
  const srv = await h.startServer({
    server: { metrics: { enabled: true, path: '/metrics' } },
    plugins: { crash: { path: live, timeoutMs: 600 } },
    extraEvents: [
      { name: 'build', handler: 'crash:build' },
      { name: 'null', handler: 'crash:null_deref' },
      { name: 'build', namespace: '/gated', handler: 'crash:build' },
    ],
    middleware: [{ handler: 'crash:gate', namespace: '/gated' }],
  });
  try {
    const before = await scrape(srv);
    const opened0 = value(before, 'plugio_engineio_sessions_opened_total');
    const in0 = value(before, 'plugio_engineio_received_bytes_total');
    const out0 = value(before, 'plugio_engineio_sent_bytes_total');
    assert.equal(value(before, 'plugio_socketio_sockets', { namespace: '/', transport: 'websocket' }), 0);
    assert.equal(value(before, 'plugio_socketio_events_received_total', { event: 'echo' }), 0,
      'a configured name is there before it is first sent');

    // 3 + 2 sockets on "/", 1 + 2 on "/custom", 1 on "/gated" (through its middleware).
    const ws = { transports: ['websocket'] };
    const poll = { transports: ['polling'] };
    const root = await Promise.all([ws, ws, ws, poll, poll].map((o) => h.connect(srv.url, o)));
    const custom = await Promise.all([ws, poll, poll].map((o) => h.connect(`${srv.url}/custom`, o)));
    const gated = await h.connect(`${srv.url}/gated`, ws);

    // 8 echo events, one event no handler takes, an ask whose ack never comes.
    for (let i = 0; i < 5; i++) assert.deepEqual(await h.ackAll(root[0], 'echo', i), [i]);
    for (let i = 0; i < 2; i++) await h.ackAll(custom[1], 'echo', i);
    root[1].emit('nosuch', 1);
    await h.ackAll(root[1], 'echo', 'after'); /* in order: nosuch was dispatched */
    root[2].on('question', () => {}); /* never answers */
    assert.deepEqual(await h.ackAll(root[2], 'ask', { timeout: 60000 }), ['sent']);

    // A request head over server.maxHeaderSize.
    assert.match(await bigHeadRequest(srv.port, 20000), /^HTTP\/1\.1 431/);

    // A reload that works: the faulty build, whose events fault.
    h.installByRename(crashBuild('b'), srv.live = live);
    await scrapeUntil(srv, (f) => value(f, 'plugio_reloads_total', { result: 'ok' }) === 1, 'reload ok');
    // A fault: it costs the socket and the version, rolled back to the one before.
    const victim = await h.connect(srv.url, ws);
    const gone = h.next(victim, 'disconnect');
    victim.emit('null');
    await gone;
    await scrapeUntil(srv, (f) => value(f, 'plugio_reloads_total', { result: 'rollback' }) === 1, 'rollback');
    // A reload that fails (an unknown key), then one that works again.
    rewrite(srv, { ...srv.doc, server: { ...srv.doc.server, bogus: 1 } });
    await scrapeUntil(srv, (f) => value(f, 'plugio_reloads_total', { result: 'failed' }) === 1, 'failed reload');
    rewrite(srv, srv.doc);
    await scrapeUntil(srv, (f) => value(f, 'plugio_reloads_total', { result: 'ok' }) === 2, 'second reload');
    assert.equal(await h.ackAll(gated, 'build').then((a) => a[0]), 'a', 'rolled back to build a');

    const f = await scrape(srv);
    const sockets = (namespace, transport) => value(f, 'plugio_socketio_sockets', { namespace, transport });
    assert.equal(sockets('/', 'websocket'), 3);
    assert.equal(sockets('/', 'polling'), 2);
    assert.equal(sockets('/custom', 'websocket'), 1);
    assert.equal(sockets('/custom', 'polling'), 2);
    assert.equal(sockets('/gated', 'websocket'), 1);
    assert.equal(sockets('/gated', 'polling'), 0);
    assert.equal(value(f, 'plugio_engineio_sessions', { transport: 'websocket' }), 5);
    assert.equal(value(f, 'plugio_engineio_sessions', { transport: 'polling' }), 4);
    assert.equal(value(f, 'plugio_engineio_sessions_opened_total') - opened0, 10, '9 clients and the victim');

    const received = (event) => value(f, 'plugio_socketio_events_received_total', { event });
    assert.equal(received('echo'), 8);
    assert.equal(received('ask'), 1);
    assert.equal(received('null'), 1);
    assert.equal(received('build'), 1);
    assert.equal(received('_other'), 1, 'nosuch, not in events:, folds into _other');
    assert.equal(received('connect'), 10);
    assert.equal(received('disconnect'), 1, 'the victim');
    const names = labelSets(f, 'plugio_socketio_events_received_total').map((l) => l.event);
    assert.ok(!names.includes('nosuch'), 'an unconfigured name gets no series of its own');
    // welcome on each connection to "/" and "/custom" (9), question (1): not configured.
    assert.equal(value(f, 'plugio_socketio_events_emitted_total', { event: '_other' }), 10);
    assert.equal(value(f, 'plugio_socketio_acks_pending'), 1);

    assert.equal(value(f, 'plugio_connections_refused_total', { reason: 'head_too_large' }), 1);
    for (const reason of ['over_capacity', 'not_allowed', 'too_many_per_address', 'timeout']) {
      assert.equal(value(f, 'plugio_connections_refused_total', { reason }), 0, reason);
    }
    assert.equal(value(f, 'plugio_reloads_total', { result: 'ok' }), 2);
    assert.equal(value(f, 'plugio_reloads_total', { result: 'failed' }), 1);
    assert.equal(value(f, 'plugio_reloads_total', { result: 'rollback' }), 1);
    assert.equal(value(f, 'plugio_reloads_total', { result: 'disabled' }), 0);
    assert.equal(histogram(f, 'plugio_reload_duration_seconds').count, 2, 'the reloads that switched');
    assert.equal(value(f, 'plugio_plugin_faults_total'), 1);

    // e2e's handlers: 9 connection, 8 echo, 1 ask, 1 disconnect.
    const e2e = histogram(f, 'plugio_plugin_handler_duration_seconds', { plugin: 'e2e' });
    assert.equal(e2e.count, 19);
    assert.ok(e2e.sum > 0 && e2e.sum < 60, `sum ${e2e.sum}`);
    assert.equal(histogram(f, 'plugio_plugin_handler_duration_seconds', { plugin: 'crash' }).count, 2, 'null (faulted) and build');
    assert.equal(histogram(f, 'plugio_plugin_middleware_duration_seconds', { plugin: 'crash' }).count, 1);
    assert.equal(histogram(f, 'plugio_plugin_middleware_duration_seconds', { plugin: 'e2e' }).count, 0);
    assert.ok(histogram(f, 'plugio_loop_iteration_seconds').count > 0);

    assert.ok(value(f, 'plugio_engineio_received_bytes_total') > in0 + 8 * 10, 'bytes in grew');
    assert.ok(value(f, 'plugio_engineio_sent_bytes_total') > out0 + 8 * 10, 'bytes out grew');
    assert.equal(value(f, 'plugio_engineio_queued_bytes'), 0, 'every client reads');
    assert.equal(value(f, 'plugio_socketio_broadcast_deliveries_total'), 0);

    const now = Date.now() / 1000;
    const start = value(f, 'process_start_time_seconds');
    assert.ok(start > now - 600 && start <= now + 1, `process_start_time_seconds ${start}, now ${now}`);
    assert.ok(value(f, 'process_resident_memory_bytes') > 1 << 20);
    assert.ok(value(f, 'process_open_fds') >= 10 + 3, 'the clients, the listener, inotify, the signalfd');
    assert.ok(value(f, 'process_max_fds') >= value(f, 'process_open_fds'));
    assert.ok(value(f, 'process_cpu_seconds_total') > 0);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('broadcasts count once as emitted and once per recipient; a volatile one left out counts as dropped', T, async () => {
  const io = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');
  const srv = await h.startServer({
    server: { metrics: true },
    plugins: { io },
    events: [
      { name: 'bcast', handler: 'io:io_bcast' },
      { name: 'join', handler: 'io:io_join' },
      /* Configured (in a namespace no one joins), so it has its own label:
       * the io plugin's timer broadcasts "beat" into _other meanwhile. */
      { name: 'news', namespace: '/elsewhere', handler: 'io:io_build' },
    ],
  });
  const call = (socket, event, ...args) => socket.timeout(10000).emitWithAck(event, ...args);
  try {
    const clients = await Promise.all([0, 1, 2].map(() => h.connect(srv.url, { transports: ['websocket'] })));
    const f0 = await scrape(srv);
    const counts = await call(clients[0], 'bcast', { event: 'news', repeat: 4 });
    assert.deepEqual(counts, [3, 3, 3, 3]);
    await call(clients[0], 'bcast', { event: 'join', args: ['a configured name'] });
    const f1 = await scrape(srv);
    const delta = (name, labels) => value(f1, name, labels) - value(f0, name, labels);
    assert.equal(delta('plugio_socketio_broadcast_deliveries_total'), 15);
    assert.equal(delta('plugio_socketio_events_emitted_total', { event: 'news' }), 4, '4 broadcasts, 3 recipients each');
    assert.equal(delta('plugio_socketio_events_emitted_total', { event: 'join' }), 1);
    assert.equal(delta('plugio_socketio_events_received_total', { event: 'bcast' }), 2);

    // A member of room "slow" that stops reading: volatile broadcasts to it
    // are either delivered or dropped, each one exactly once.
    const raw = new h.RawWs(srv.url);
    await raw.connectSio();
    raw.send(`420${JSON.stringify(['join', 'slow'])}`);
    await raw.take((m) => typeof m === 'string' && m.startsWith('430'));
    raw.ws.pause();
    let delivered = 0;
    const SENT = 200;
    for (let r = 0; r < 5; r++) {
      const c = await call(clients[0], 'bcast', { sel: { rooms: ['slow'], volatile: true }, event: 'v', repeat: SENT / 5, size: 64 * 1024 });
      delivered += c.reduce((a, b) => a + b, 0);
      await h.sleep(20);
    }
    const f2 = await scrape(srv);
    const dropped = value(f2, 'plugio_socketio_volatile_dropped_total') - value(f1, 'plugio_socketio_volatile_dropped_total');
    assert.ok(dropped > 0, `a paused client dropped nothing (${delivered} delivered)`);
    assert.equal(dropped + delivered, SENT);
    assert.equal(value(f2, 'plugio_socketio_broadcast_deliveries_total') - value(f1, 'plugio_socketio_broadcast_deliveries_total'), delivered);

    // Without the flag, the same traffic waits in its queue, and leaves it
    // once the client reads again.
    for (let r = 0; r < 4; r++) {
      await call(clients[0], 'bcast', { sel: { rooms: ['slow'] }, event: 'v', repeat: 50, size: 64 * 1024 });
    }
    await scrapeUntil(srv, (f) => value(f, 'plugio_engineio_queued_bytes') > 1 << 20, 'bytes queued for the paused client');
    raw.ws.resume();
    await scrapeUntil(srv, (f) => value(f, 'plugio_engineio_queued_bytes') === 0, 'the queue drained', 20000);
    raw.close();
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

/* A polling handshake from `localAddress`: its status. */
function handshakeFrom(srv, localAddress) {
  return new Promise((resolve, reject) => {
    const req = http.get(`${srv.url}/socket.io/?EIO=4&transport=polling`, { localAddress, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.setTimeout(5000, () => req.destroy(new Error('handshake: no answer within 5 s')));
    req.on('error', reject);
  });
}

test('each kind of refusal is counted under its own reason', T, async () => {
  const srv = await h.startServer({
    server: { metrics: true, headersTimeout: 300 },
    security: { allow: ['127.0.0.1'], maxConnectionsPerAddress: 1 },
  });
  try {
    const kept = await h.connect(srv.url, { transports: ['websocket'] });
    assert.equal(await handshakeFrom(srv, '127.0.0.1'), 403, 'a second session from 127.0.0.1');
    assert.equal(await handshakeFrom(srv, '127.0.0.2'), 403, 'not in security.allow');
    assert.equal(await handshakeFrom(srv, '127.0.0.2'), 403);
    // A head that never ends: cut at headersTimeout with 408.
    const slow = h.rawConn(srv.port);
    await slow.connected;
    slow.sock.write('GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\n');
    await slow.closed;
    assert.match(slow.data, /^HTTP\/1\.1 408/);
    const f = await scrape(srv);
    const refused = (reason) => value(f, 'plugio_connections_refused_total', { reason });
    assert.equal(refused('too_many_per_address'), 1);
    assert.equal(refused('not_allowed'), 2);
    assert.equal(refused('timeout'), 1);
    assert.equal(refused('head_too_large'), 0);
    assert.equal(refused('over_capacity'), 0);
    kept.close();
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
  // Past server.maxConnections a new session is refused with 503 (a
  // scrape starts none, so it is still served).
  const full = await h.startServer({ server: { metrics: true, maxConnections: 1 } });
  try {
    await h.connect(full.url, { transports: ['websocket'] });
    assert.equal(await handshakeFrom(full, '127.0.0.1'), 503);
    const f = await scrape(full);
    assert.equal(value(f, 'plugio_connections_refused_total', { reason: 'over_capacity' }), 1);
    assert.equal(value(f, 'plugio_engineio_sessions', { transport: 'websocket' }), 1);
  } finally {
    h.closeAll();
    await h.stopChecked(full);
  }
});

test('metrics are off unless enabled (404), at their own path when given; GET and HEAD only', T, async () => {
  const off = await h.startServer({});
  try {
    assert.equal((await get(off, '/metrics')).status, 404);
    const health = await get(off, '/healthz');
    assert.equal(health.status, 200, 'the health check is always on');
    assert.equal(health.headers.get('content-type'), 'application/json');
    assert.equal(JSON.parse(health.body).status, 'ok');
  } finally {
    await h.stopChecked(off);
  }
  const on = await h.startServer({ server: { metrics: { path: '/internal/prom' } } });
  try {
    assert.equal((await get(on, '/metrics')).status, 404, 'only at its path');
    const full = await get(on, '/internal/prom');
    assert.equal(full.status, 200);
    await promtool(full.body);
    const head = await get(on, '/internal/prom', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('content-type'), PROM_TYPE);
    assert.ok(Number(head.headers.get('content-length')) > 1000, 'HEAD gives the length of a GET');
    assert.equal(head.body, '');
    const post = await get(on, '/internal/prom', { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    const hhead = await get(on, '/healthz', { method: 'HEAD' });
    assert.equal(hhead.status, 200);
    assert.equal(hhead.body, '');
    assert.equal((await get(on, '/healthz', { method: 'DELETE' })).status, 405);
    // Socket.IO is served as before beside them.
    const s = await h.connect(on.url, { transports: ['polling'] });
    assert.deepEqual(await h.ackAll(s, 'echo', 1), [1]);
    s.close();
  } finally {
    h.closeAll();
    await h.stopChecked(on);
  }
});

test('/healthz answers 503 while the server stops', T, async () => {
  const srv = await h.startServer({});
  // A WebSocket client that stops reading keeps the shutdown flushing
  // (up to half a second), the listener open: the window a load balancer sees.
  const sock = net.connect(srv.port, '127.0.0.1');
  sock.on('error', () => {});
  await new Promise((resolve) => sock.once('connect', resolve));
  sock.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n' +
    'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
  await new Promise((resolve) => sock.once('data', resolve));
  sock.pause();
  assert.equal((await get(srv, '/healthz')).status, 200);
  const stopped = srv.stop();
  const seen = [];
  for (const deadline = Date.now() + 5000; Date.now() < deadline && !srv.exited();) {
    try {
      const r = await get(srv, '/healthz', { headers: { connection: 'close' } });
      seen.push(r.status);
      if (r.status === 503) {
        assert.deepEqual(JSON.parse(r.body), { status: 'unavailable', reason: 'stopping' });
        break;
      }
    } catch {
      break; /* the listener closed */
    }
  }
  sock.destroy();
  const { code } = await stopped;
  assert.equal(code, 0);
  assert.equal(h.sanitizerReport(srv.stderr()), null, srv.stderr());
  assert.ok(seen.includes(503), `saw ${JSON.stringify(seen)}`);
});

test('concurrent scrapes while clients come and go stay well-formed', T, async () => {
  const srv = await h.startServer({ server: { metrics: true } });
  let running = true;
  let churn = [];
  try {
    churn = Array.from({ length: 8 }, async (_, i) => {
      const opts = { transports: [i % 2 ? 'polling' : 'websocket'] };
      const url = i % 3 ? srv.url : `${srv.url}/custom`;
      let cycles = 0;
      while (running && cycles < 200) {
        const s = await h.connect(url, opts);
        await h.ackAll(s, 'echo', cycles);
        s.close();
        cycles++;
      }
      return cycles;
    });
    const scrapers = Array.from({ length: 4 }, async () => {
      let n = 0;
      for (; n < 15; n++) {
        const f = await scrape(srv);
        for (const t of ['websocket', 'polling']) {
          const v = value(f, 'plugio_engineio_sessions', { transport: t });
          assert.ok(v >= 0 && v <= 8, `sessions ${v}`);
        }
        histogram(f, 'plugio_plugin_handler_duration_seconds', { plugin: 'e2e' });
      }
      return n;
    });
    assert.deepEqual(await Promise.all(scrapers), [15, 15, 15, 15]);
    running = false;
    const cycles = (await Promise.all(churn)).reduce((a, b) => a + b, 0);
    assert.ok(cycles >= 8, `${cycles} connect cycles`);
    const f = await scrapeUntil(srv, (x) => value(x, 'plugio_socketio_events_received_total', { event: 'disconnect' }) === cycles, 'every disconnect');
    assert.equal(value(f, 'plugio_socketio_events_received_total', { event: 'connect' }), cycles);
    assert.equal(value(f, 'plugio_socketio_events_received_total', { event: 'echo' }), cycles);
    assert.equal(value(f, 'plugio_engineio_sessions_opened_total'), cycles);
  } finally {
    running = false;
    await Promise.allSettled(churn);
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('the Admin UI\'s own messages are not counted as events plugins emitted', T, async () => {
  const srv = await h.startServer({
    server: { metrics: true },
    admin: { auth: false }, // development: config, all_sockets, server_stats every 2 s
  });
  try {
    const c = await h.connect(srv.url, { transports: ['websocket'] });
    const before = await scrape(srv);
    const emitted = (f) => labelSets(f, 'plugio_socketio_events_emitted_total')
      .reduce((sum, l) => sum + value(f, 'plugio_socketio_events_emitted_total', l), 0);
    const emitted0 = emitted(before);
    const deliveries0 = value(before, 'plugio_socketio_broadcast_deliveries_total');
    // An admin socket for more than 2 s: two server_stats at least, and an
    // emit the UI asks for.
    const admin = h.client(`${srv.url}/admin`, { transports: ['websocket'] });
    const stats = h.collect(admin, 'server_stats', { all: true });
    await h.next(admin, 'config');
    const hello = h.next(c, 'hello');
    admin.emit('emit', '/', '', 'hello', 1);
    await hello;
    const deadline = Date.now() + 10000;
    while (stats.length < 2 && Date.now() < deadline) await h.sleep(50);
    assert.ok(stats.length >= 2, `${stats.length} server_stats`);
    const after = await scrape(srv);
    assert.equal(emitted(after), emitted0, 'events_emitted_total: the host\'s messages left out');
    assert.equal(value(after, 'plugio_socketio_broadcast_deliveries_total'), deliveries0);
    // A plugin's emit still counts: ask emits "question".
    c.on('question', () => {});
    assert.deepEqual(await h.ackAll(c, 'ask', { timeout: 60000 }), ['sent']);
    assert.equal(emitted(await scrape(srv)), emitted0 + 1);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});
