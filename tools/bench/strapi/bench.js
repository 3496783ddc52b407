#!/usr/bin/env node
'use strict';
/*
 * bench.js - the load generator of the Strapi bridge benchmark
 * (tools/bench/strapi/run): one server (plugio with plugins/strapi, or
 * node-bridge.js), freshly started, taken through four phases in turn:
 *
 *   handshake-cold  --clients users (ids 1..N, a JWT each, both claim
 *                   shapes) connect over WebSocket, --concurrency at a time:
 *                   every one a role look-up at the stub
 *   handshake-warm  all disconnect; the same users connect again (the role
 *                   cache answers)
 *   webhook-fanout  with those connections open (even ids are role
 *                   authenticated, which receives article events; odd ids
 *                   viewer, which does not), entry.update webhooks are
 *                   POSTed over keep-alive, --inflight at a time, for
 *                   --warmup + --duration seconds, each with a new
 *                   documentId; --sample permitted clients time each event
 *                   from its POST (the generator's clock on both ends)
 *   rss             the server's VmRSS and VmHWM after the fan-out
 *
 * Prints one RESULT line per phase on stdout.  The server's, the stub's
 * and this process's CPU time over each phase (/proc/PID/stat, and
 * process.cpuUsage) come with it, as percent of one core, to say which
 * process limited the phase.
 *
 *   node bench.js --url URL --server-pid PID --stub URL --stub-pid PID
 *                 [--clients 2000] [--concurrency 200] [--inflight 4]
 *                 [--warmup 1] [--duration 8] [--sample 50] [--pinned]
 *                 [--client raw|socket.io]
 *
 * --pinned: the server runs on core 0, this process and the stub on core 1
 * (taskset), so that the other processes' CPU is told per core.
 *
 * Secrets from the environment, as the servers take them: STRAPI_JWT_SECRET,
 * STRAPI_WEBHOOK_SECRET.  Every wait is bounded; a phase that times out is
 * reported with errors=.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const { io: ioClient } = require(path.join(__dirname, '..', 'node_modules', 'socket.io-client'));
const WebSocket = require(path.join(__dirname, '..', 'node_modules', 'ws'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const URL_ = arg('--url');
const SERVER_PID = Number(arg('--server-pid'));
const STUB = arg('--stub');
const STUB_PID = Number(arg('--stub-pid'));
const CLIENTS = Number(arg('--clients', '2000'));
const CONCURRENCY = Number(arg('--concurrency', '200'));
const INFLIGHT = Number(arg('--inflight', '4'));
const WARMUP = Number(arg('--warmup', '1'));
const DURATION = Number(arg('--duration', '8'));
const SAMPLE = Number(arg('--sample', '50'));
const PINNED = process.argv.includes('--pinned');
const CLIENT = arg('--client', 'raw');
if (CLIENT !== 'raw' && CLIENT !== 'socket.io') {
  process.stderr.write('bench.js: --client raw or socket.io\n');
  process.exit(2);
}
const JWT_SECRET = process.env.STRAPI_JWT_SECRET;
const HOOK_SECRET = process.env.STRAPI_WEBHOOK_SECRET;
if (!URL_ || !SERVER_PID || !STUB || !STUB_PID || !JWT_SECRET || !HOOK_SECRET) {
  process.stderr.write('bench.js: --url --server-pid --stub --stub-pid and the secrets are required\n');
  process.exit(2);
}
const TICK = 100; // USER_HZ: /proc/PID/stat counts in 1/100 s on Linux
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- measuring -----------------------------------------------------------------

function procTicks(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime
}
// Busy ticks of each core (/proc/stat: all but idle and iowait; steal
// included, as time the core was not ours).
function coreTicks() {
  const busy = [];
  for (const line of fs.readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = /^cpu(\d+) (.*)/.exec(line);
    if (!m) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    busy[Number(m[1])] = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
  }
  return busy;
}
function cpuStart() {
  return { t: performance.now(), srv: procTicks(SERVER_PID), stub: procTicks(STUB_PID), gen: process.cpuUsage(),
    cores: coreTicks() };
}
// Each process's CPU over the phase, percent of one core; and the other
// processes' (other sessions' on a shared machine): with --pinned, on the
// server's core 0 and on core 1 (the generator's and the stub's), else on
// all cores together.
function cpuEnd(c) {
  const secs = (performance.now() - c.t) / 1000;
  const g = process.cpuUsage(c.gen);
  const srv = (procTicks(SERVER_PID) - c.srv) / TICK;
  const stub = (procTicks(STUB_PID) - c.stub) / TICK;
  const gen = (g.user + g.system) / 1e6;
  const cores = coreTicks().map((x, i) => (x - c.cores[i]) / TICK);
  const pct = (x) => Math.max(0, (100 * x) / secs).toFixed(1);
  const others = PINNED
    ? `other_c0=${pct(cores[0] - srv)} other_c1=${pct(cores[1] - stub - gen)}`
    : `other_all=${pct(cores.reduce((a, x) => a + x, 0) - srv - stub - gen)}`;
  return `srv_cpu=${pct(srv)} stub_cpu=${pct(stub)} gen_cpu=${pct(gen)} ${others}`;
}
const pctl = (xs, p) => {
  if (!xs.length) return -1;
  const s = Float64Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
// The stub's counters: {lookups, connections (that carried look-ups)}.
async function stubStats() {
  const res = await fetch(`${STUB}/stats`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}
function status(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(s) || [])[1]);
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

// ---- tokens --------------------------------------------------------------------------

const b64url = (x) => Buffer.from(JSON.stringify(x)).toString('base64url');
function jwt(id) {
  const now = Math.floor(Date.now() / 1000);
  // Both shapes Strapi issues: legacy {id} and Strapi 5's {userId, type: "access"}.
  const claims = (id >> 1) % 2 ? { id } : { userId: String(id), type: 'access' };
  const body = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ iat: now, exp: now + 3600, ...claims })}`;
  return `${body}.${crypto.createHmac('sha256', JWT_SECRET).update(body).digest('base64url')}`;
}
const tokens = Array.from({ length: CLIENTS }, (_, i) => jwt(i + 1));

// ---- handshakes -------------------------------------------------------------------------

// Two clients.  "raw" (the default): Engine.IO v4 + Socket.IO v5 spoken
// by hand over ws, as tools/bench/loadgen.c does (open packet, "40{auth}",
// "40{sid}" or "44{error}", "2" -> "3"); an event is counted from its
// first bytes and parsed only at the sampled clients, so that the
// generator costs little next to the servers.  "socket.io":
// socket.io-client 4.8.4 as an application would use it, which costs the
// generator more than either server (BENCHMARKS.md).
//
// open(i, done(err), onEvent(timed)) -> {close()}; onEvent is called with
// the event's sentAt at a timed client, with undefined elsewhere.
const EVENT = Buffer.from('42["article:update"');

function openRaw(i, done) {
  const ws = new WebSocket(`${URL_.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`,
    { perMessageDeflate: false, handshakeTimeout: 30000 });
  const c = { onEvent: null, timed: false, close: () => ws.terminate(), connected: false };
  let settled = false;
  const settle = (err) => {
    if (settled) return;
    settled = true;
    done(err);
  };
  ws.on('message', (buf) => {
    if (c.connected) {
      if (buf.length === 1 && buf[0] === 0x32) return ws.send('3');
      if (c.onEvent && buf.length > EVENT.length && buf.compare(EVENT, 0, EVENT.length, 0, EVENT.length) === 0) {
        c.onEvent(c.timed ? JSON.parse(buf.toString('utf8', 2))[1].data.sentAt : undefined);
      }
      return;
    }
    const text = buf.toString();
    if (text[0] === '0') ws.send(`40${JSON.stringify({ strategy: 'jwt', token: tokens[i] })}`);
    else if (text.startsWith('40')) {
      c.connected = true;
      settle(null);
    } else if (text.startsWith('44')) {
      settle(new Error(JSON.parse(text.slice(2)).message));
      ws.terminate();
    }
  });
  ws.on('error', (e) => settle(e));
  ws.on('close', () => {
    c.connected = false;
    settle(new Error('closed before the handshake'));
  });
  return c;
}

function openSocketIo(i, done) {
  const s = ioClient(URL_, {
    transports: ['websocket'], forceNew: true, reconnection: false, timeout: 30000,
    auth: { strategy: 'jwt', token: tokens[i] },
  });
  const c = { onEvent: null, timed: false, close: () => s.disconnect(), get connected() { return s.connected; } };
  s.once('connect', () => done(null));
  s.once('connect_error', (e) => done(e));
  s.on('article:update', (msg) => c.onEvent && c.onEvent(c.timed ? msg.data.sentAt : undefined));
  return c;
}
const open = CLIENT === 'raw' ? openRaw : openSocketIo;

// connectAll() -> {sockets, lat (ms each), errors, secs}: every user once,
// CONCURRENCY handshakes in flight; a handshake not done in 30 s is an error.
function connectAll() {
  return new Promise((resolve) => {
    const sockets = new Array(CLIENTS);
    const lat = [];
    let next = 0;
    let done = 0;
    let errors = 0;
    let firstError = '';
    const t0 = performance.now();
    const start = () => {
      if (next >= CLIENTS) return;
      const i = next++;
      const t = performance.now();
      const timer = setTimeout(() => finish(new Error('no answer in 30 s')), 30000);
      let over = false;
      function finish(err) {
        if (over) return;
        over = true;
        clearTimeout(timer);
        if (err) {
          errors++;
          firstError ||= err.message;
        } else lat.push(performance.now() - t);
        if (++done === CLIENTS) resolve({ sockets, lat, errors, firstError, secs: (performance.now() - t0) / 1000 });
        else start();
      }
      sockets[i] = open(i, finish);
    };
    for (let k = 0; k < Math.min(CONCURRENCY, CLIENTS); k++) start();
  });
}

async function handshake(name) {
  const before = await stubStats();
  const cpu = cpuStart();
  const r = await connectAll();
  let line = `RESULT case=${name} conn_rate=${((CLIENTS - r.errors) / r.secs).toFixed(0)}` +
    ` p50_ms=${pctl(r.lat, 50).toFixed(2)} p99_ms=${pctl(r.lat, 99).toFixed(2)} clients=${CLIENTS}` +
    ` errors=${r.errors} ${cpuEnd(cpu)}`;
  const after = await stubStats();
  line += ` lookups=${after.lookups - before.lookups} stub_conns=${after.connections - before.connections}`;
  if (r.firstError) process.stderr.write(`bench.js: ${name}: ${r.errors} refused, first: ${r.firstError}\n`);
  console.log(line);
  return r.sockets;
}

// ---- webhooks ----------------------------------------------------------------------------

async function fanout(sockets) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: INFLIGHT });
  const u = new URL('/strapi/webhook', URL_);
  let measuring = false;
  let delivered = 0; // in the window
  let deliveredAll = 0;
  const lat = [];
  const permitted = [];
  sockets.forEach((s, i) => {
    if (!s.connected) return;
    const even = (i + 1) % 2 === 0;
    if (even) permitted.push(s);
    s.timed = even && permitted.length <= SAMPLE;
    s.onEvent = (sentAt) => {
      deliveredAll++;
      if (!measuring) return;
      delivered++;
      if (sentAt !== undefined) lat.push(performance.now() - sentAt);
    };
  });

  let seq = 0;
  let accepted = 0; // in the window
  let acceptedAll = 0;
  let errors = 0;
  let firstError = '';
  const post = () => new Promise((resolve) => {
    seq++;
    const entry = {
      id: seq, documentId: `doc-${process.pid}-${seq}`, title: `title ${seq}`, body: 'x'.repeat(200),
      createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', publishedAt: null, locale: null,
      createdBy: { id: 1, firstname: 'Admin', email: 'admin@x.test', password: 'hash' },
      author: { id: 2, username: 'user2', password: 'hash', resetPasswordToken: 'r', role: { type: 'authenticated' } },
      tags: [{ name: 'a' }, { name: 'b', updatedBy: { id: 1 } }],
      sentAt: performance.now(),
    };
    const body = JSON.stringify({ event: 'entry.update', createdAt: new Date().toISOString(), model: 'article',
      uid: 'api::article.article', entry });
    const req = http.request(u, {
      method: 'POST', agent, timeout: 10000,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body),
        authorization: HOOK_SECRET, 'x-strapi-event': 'entry.update' },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        if (res.statusCode === 200 && text.includes('"article:update"')) {
          acceptedAll++;
          if (measuring) accepted++;
        } else {
          errors++;
          firstError ||= `${res.statusCode} ${text}`;
        }
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (e) => {
      errors++;
      firstError ||= e.message;
      resolve();
    });
    req.end(body);
  });

  let stop = false;
  const loop = async () => {
    while (!stop) await post();
  };
  const loops = Array.from({ length: INFLIGHT }, loop);
  await sleep(WARMUP * 1000);
  const cpu = cpuStart();
  measuring = true;
  const t0 = performance.now();
  await sleep(DURATION * 1000);
  measuring = false;
  const secs = (performance.now() - t0) / 1000;
  const cpuLine = cpuEnd(cpu);
  stop = true;
  await Promise.all(loops);
  // Every accepted webhook owes each permitted client one event: wait (10 s at most) for the stragglers.
  const owed = () => acceptedAll * permitted.length;
  for (let k = 0; k < 100 && deliveredAll < owed(); k++) await sleep(100);
  agent.destroy();
  if (firstError) process.stderr.write(`bench.js: webhook-fanout: ${errors} failed, first: ${firstError}\n`);
  console.log(`RESULT case=webhook-fanout hook_rate=${(accepted / secs).toFixed(0)}` +
    ` deliv_rate=${(delivered / secs).toFixed(0)} p50_ms=${pctl(lat, 50).toFixed(2)} p99_ms=${pctl(lat, 99).toFixed(2)}` +
    ` receivers=${permitted.length} errors=${errors} lost=${Math.max(0, owed() - deliveredAll)} ${cpuLine}`);
}

async function main() {
  const cold = await handshake('handshake-cold');
  for (const s of cold) s.close();
  await sleep(500);
  const warm = await handshake('handshake-warm');
  await fanout(warm);
  const { rss, hwm } = status(SERVER_PID);
  console.log(`RESULT case=rss rss_kb=${rss} hwm_kb=${hwm} connections=${warm.filter((s) => s.connected).length}`);
  for (const s of warm) s.close();
}
main().then(() => process.exit(0), (e) => {
  process.stderr.write(`bench.js: ${e.stack || e}\n`);
  process.exit(1);
});
