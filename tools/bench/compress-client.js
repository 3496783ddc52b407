#!/usr/bin/env node
'use strict';
/*
 * compress-client.js - the load side of tools/bench/compress: N clients,
 * each with one `ack` event of a 4 KB JSON payload in flight, answered by
 * an ack carrying the same payload (the bench plugin's and server.js's
 * `ack`).  Engine.IO v4 + Socket.IO v5 spoken by hand, over WebSocket
 * (the `ws` package, offering permessage-deflate or not) or HTTP
 * long-polling (keep-alive, Accept-Encoding: gzip, responses gunzipped).
 *
 *   node compress-client.js --port P --server-pid PID --mode MODE
 *        [--clients 50] [--warmup 1] [--duration 5]
 *   MODE: ws | ws-deflate | polling
 *
 *   node compress-client.js --port P --server-pid PID --mode memory [--clients 1000]
 *
 * Prints one line: RESULT mode=… events=… rate=… srv_us_per_event=…
 * wire_b_per_event=… (bytes read + written on the client's sockets,
 * headers and framing included, per acked event) errors=…; memory mode:
 * RESULT mode=memory rss_idle_b_per_conn=… rss_active_b_per_conn=…
 * (server VmRSS growth per connection after the handshake, and after each
 * connection exchanged one compressed 4 KB event).
 *
 *   node compress-client.js --report RAWFILE
 *
 * The markdown table of a file of RESULT lines, each followed by
 * server=plugio|node case=…: median (min-max) of the runs and ratios.
 */
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const zlib = require('node:zlib');
const WebSocket = require(path.join(__dirname, 'node', 'node_modules', 'ws'));

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const port = Number(args.port);
const pid = Number(args['server-pid']);
const mode = args.mode;
const clients = Number(args.clients || (mode === 'memory' ? 1000 : 50));
const warmup = Number(args.warmup || 1) * 1000;
const duration = Number(args.duration || 5) * 1000;

/* ~4 KB of JSON records: 64 variants (same keys, other values), the same
 * every run, sent in turn, so that a compressor that keeps its window
 * across messages (Node's ws does) finds no copy of the whole event in it. */
function payload(seed) {
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const words = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
  const rows = [];
  while (JSON.stringify(rows).length < 4000) {
    const id = rows.length;
    rows.push({
      id, user: `user${Math.floor(rnd() * 100000)}`, email: `u${Math.floor(rnd() * 1e6)}@example.com`,
      score: Math.round(rnd() * 10000) / 100, active: rnd() > 0.5,
      tags: [words[Math.floor(rnd() * 8)], words[Math.floor(rnd() * 8)]],
    });
  }
  return JSON.stringify(rows);
}
const DATAS = Array.from({ length: 64 }, (_, i) => payload(i + 1));
let nextData = 0;
const takeData = () => DATAS[nextData++ % DATAS.length];

function cpuTicks() {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime
}
function rss() {
  return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) * 1024;
}
const TICK_US = 1e6 / 100; // USER_HZ
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let errors = 0;
let acked = 0;
const sockets = new Set(); // net.Socket of every client connection
const wireBytes = () => [...sockets].reduce((n, s) => n + s.bytesRead + s.bytesWritten, 0);

/* ---- WebSocket ----------------------------------------------------------- */

function wsClient(deflate) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket`,
      { perMessageDeflate: deflate ? { threshold: 1024 } : false });
    const c = { ws, id: 0, pending: null, ready: false };
    ws.on('error', reject);
    ws.on('upgrade', (res) => sockets.add(res.socket));
    ws.on('message', (m) => {
      const s = m.toString();
      if (s[0] === '0') ws.send('40');
      else if (s === '2') ws.send('3');
      else if (s.startsWith('40')) { c.ready = true; resolve(c); }
      else if (s.startsWith('43') && c.pending) {
        const [id, body] = [Number(/^43(\d+)/.exec(s)[1]), s.slice(s.indexOf('['))];
        if (id !== c.id || body.length !== c.data.length + 2) errors++;
        const p = c.pending;
        c.pending = null;
        p();
      }
    });
  });
}

function wsAck(c) {
  return new Promise((resolve) => {
    c.id++;
    c.pending = resolve;
    c.data = takeData();
    c.ws.send(`42${c.id}["ack",${c.data}]`);
  });
}

/* ---- polling -------------------------------------------------------------- */

function request(agent, method, url, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method, agent,
      headers: { 'accept-encoding': 'gzip', ...(body ? { 'content-type': 'text/plain;charset=UTF-8', 'content-length': Buffer.byteLength(body) } : {}) },
    }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        let b = Buffer.concat(chunks);
        if (res.headers['content-encoding'] === 'gzip') b = zlib.gunzipSync(b);
        resolve({ status: res.statusCode, text: b.toString() });
      });
    });
    req.on('socket', (s) => sockets.add(s));
    req.on('error', reject);
    req.end(body);
  });
}

async function pollClient() {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
  const base = `http://127.0.0.1:${port}/socket.io/?EIO=4&transport=polling`;
  const open = await request(agent, 'GET', base);
  const sid = JSON.parse(open.text.slice(1)).sid;
  const c = { agent, url: `${base}&sid=${sid}`, id: 0 };
  await request(agent, 'POST', c.url, '40');
  await pollUntil(c, (p) => p.startsWith('40'));
  return c;
}

async function pollUntil(c, pred) {
  for (;;) {
    const r = await request(c.agent, 'GET', c.url);
    if (r.status !== 200) throw new Error(`GET ${r.status}`);
    for (const p of r.text.split('\x1e')) {
      if (p === '2') await request(c.agent, 'POST', c.url, '3');
      if (pred(p)) return p;
    }
  }
}

async function pollAck(c) {
  c.id++;
  const data = takeData();
  await request(c.agent, 'POST', c.url, `42${c.id}["ack",${data}]`);
  const p = await pollUntil(c, (x) => x.startsWith(`43${c.id}[`));
  if (p.length !== `43${c.id}`.length + data.length + 2) errors++;
}

/* ---- the run --------------------------------------------------------------- */

async function throughput() {
  const ws = mode !== 'polling';
  const conns = [];
  for (let i = 0; i < clients; i++) conns.push(ws ? await wsClient(mode === 'ws-deflate') : await pollClient());
  const negotiated = ws ? conns[0].ws.extensions || 'none' : 'n/a';
  let stop = false;
  const loops = conns.map(async (c) => {
    while (!stop) {
      await (ws ? wsAck(c) : pollAck(c));
      acked++;
    }
  });
  await sleep(warmup);
  const t0 = process.hrtime.bigint(), a0 = acked, c0 = cpuTicks(), w0 = wireBytes();
  await sleep(duration);
  const t1 = process.hrtime.bigint(), a1 = acked, c1 = cpuTicks(), w1 = wireBytes();
  stop = true;
  await Promise.race([Promise.all(loops), sleep(2000)]);
  const events = a1 - a0, secs = Number(t1 - t0) / 1e9;
  console.log(`RESULT mode=${mode} clients=${clients} events=${events} rate=${(events / secs).toFixed(0)}` +
    ` srv_us_per_event=${((c1 - c0) * TICK_US / events).toFixed(2)}` +
    ` srv_cpu_pct=${((c1 - c0) * TICK_US / 1e4 / secs).toFixed(0)}` +
    ` wire_b_per_event=${((w1 - w0) / events).toFixed(0)} payload_b=${DATAS[0].length}` +
    ` extensions="${negotiated}" errors=${errors}`);
  for (const c of conns) ws ? c.ws.terminate() : c.agent.destroy();
}

async function memory() {
  await sleep(300);
  const r0 = rss();
  const conns = [];
  for (let i = 0; i < clients; i += 50) {
    const batch = [];
    for (let j = i; j < Math.min(clients, i + 50); j++) batch.push(wsClient(true));
    conns.push(...await Promise.all(batch));
  }
  await sleep(1000);
  const r1 = rss();
  await Promise.all(conns.map((c) => wsAck(c)));
  await sleep(1000);
  const r2 = rss();
  console.log(`RESULT mode=memory clients=${clients} rss_before_b=${r0}` +
    ` rss_idle_b_per_conn=${((r1 - r0) / clients).toFixed(0)}` +
    ` rss_active_b_per_conn=${((r2 - r0) / clients).toFixed(0)}` +
    ` extensions="${conns[0].ws.extensions || 'none'}" errors=${errors}`);
  for (const c of conns) c.ws.terminate();
}

/* ---- the report -------------------------------------------------------- */

function report(file) {
  const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('RESULT '))
    .map((l) => Object.fromEntries([...l.matchAll(/(\w+)=("[^"]*"|\S+)/g)].map((m) => [m[1], m[2].replace(/"/g, '')])));
  const med = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const fmt = (x) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
  const get = (server, kase, key) => rows.filter((r) => r.server === server && r.case === kase).map((r) => Number(r[key]));
  const cell = (xs) => (xs.length ? `${fmt(med(xs))}${xs.length > 1 ? ` (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})` : ''}` : '—');
  const ratio = (a, b) => (a.length && b.length ? `${(med(a) / med(b)).toFixed(2)}×` : '—');
  const figures = [['rate', 'acked events/s'], ['srv_us_per_event', 'server CPU µs/event'], ['wire_b_per_event', 'bytes on the wire/event']];
  const cases = [['ws', 'WebSocket, perMessageDeflate off', null], ['ws-deflate', 'WebSocket, perMessageDeflate on', 'ws'],
    ['polling', 'polling, httpCompression off', null], ['polling-gzip', 'polling, httpCompression on (gzip)', 'polling']];
  const out = ['| case | figure | plugio | Node socket.io | plugio/Node | plugio on/off | Node on/off |', '| --- | --- | --- | --- | --- | --- | --- |'];
  for (const [kase, title, base] of cases) {
    figures.forEach(([key, name], i) => {
      const p = get('plugio', kase, key), n = get('node', kase, key);
      const onOff = (srv) => (base ? ratio(get(srv, kase, key), get(srv, base, key)) : '');
      out.push(`| ${i ? '' : `**${title}**`} | ${name} | ${cell(p)} | ${cell(n)} | ${ratio(p, n)} | ${onOff('plugio')} | ${onOff('node')} |`);
    });
  }
  for (const [kase, title] of [['memory-off', 'memory, perMessageDeflate off'], ['memory', 'memory, perMessageDeflate on']]) {
    [['rss_idle_b_per_conn', 'server RSS per connection after the handshake (B)'],
      ['rss_active_b_per_conn', 'server RSS per connection after one 4 KB event each way (B)']].forEach(([key, name], i) => {
      const p = get('plugio', kase, key), n = get('node', kase, key);
      if (p.length || n.length) out.push(`| ${i ? '' : `**${title}**`} | ${name} | ${cell(p)} | ${cell(n)} | ${ratio(p, n)} | | |`);
    });
  }
  console.log(out.join('\n'));
}

if (args.report) {
  report(args.report);
  process.exit(0);
}

(mode === 'memory' ? memory() : throughput()).then(() => process.exit(errors ? 1 : 0), (e) => {
  console.error(`compress-client: ${e.stack || e}`);
  process.exit(2);
});
