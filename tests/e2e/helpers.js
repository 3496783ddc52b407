'use strict';
/*
 * helpers.js - what every end-to-end test needs: a plugio server started
 * from a YAML file written for the test, stock socket.io-client sockets,
 * and a few raw Engine.IO / Socket.IO tools for checks the stock client
 * cannot make (wrong requests, garbage, a client that stops answering).
 *
 * The server under test is <build>/host/plugio with the e2e test plugin
 * <build>/tests/plugins/e2e/libe2e.so; <build> is $PLUGIO_BUILD_DIR, or
 * <repo>/build.  Everything listens on 127.0.0.1 with a port the system picks.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { io } = require('socket.io-client');
const WebSocket = require('ws');

const REPO = path.resolve(__dirname, '..', '..');
const BUILD = path.resolve(process.env.PLUGIO_BUILD_DIR || path.join(REPO, 'build'));
const PLUGIO = path.join(BUILD, 'host', 'plugio');
const PLUGIN = path.join(BUILD, 'tests', 'plugins', 'e2e', 'libe2e.so');

/* Handlers of the e2e plugin bound in namespace "/" by default. */
const DEFAULT_EVENTS = [
  { name: 'connection', handler: 'e2e:on_connection' },
  { name: 'disconnect', handler: 'e2e:on_disconnect' },
  { name: 'echo', handler: 'e2e:echo' },
  { name: 'auth', handler: 'e2e:auth' },
  { name: 'handshake', handler: 'e2e:handshake' },
  { name: 'binary', handler: 'e2e:binary' },
  { name: 'ask', handler: 'e2e:ask' },
  { name: 'kick', handler: 'e2e:kick' },
  { name: 'seq', handler: 'e2e:seq' },
  { name: 'record', handler: 'e2e:record' },
  { name: 'replay', handler: 'e2e:replay' },
  { name: 'connection', namespace: '/custom', handler: 'e2e:on_connection' },
  { name: 'disconnect', namespace: '/custom', handler: 'e2e:on_disconnect' },
  { name: 'echo', namespace: '/custom', handler: 'e2e:echo' },
  { name: 'auth', namespace: '/custom', handler: 'e2e:auth' },
];

/* ---- YAML ----------------------------------------------------------- */

function yamlScalar(v) {
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return JSON.stringify(v); // a valid YAML double-quoted scalar
  throw new Error(`cannot write ${typeof v} as YAML`);
}

function yamlLines(v, indent) {
  const pad = ' '.repeat(indent);
  const out = [];
  if (Array.isArray(v)) {
    if (v.length === 0) return null; // caller writes []
    for (const item of v) {
      if (item !== null && typeof item === 'object') {
        const inner = yamlLines(item, indent + 2);
        if (inner === null) {
          out.push(`${pad}- ${Array.isArray(item) ? '[]' : '{}'}`);
        } else {
          out.push(`${pad}- ${inner[0].trimStart()}`, ...inner.slice(1));
        }
      } else {
        out.push(`${pad}- ${yamlScalar(item)}`);
      }
    }
    return out;
  }
  const keys = Object.keys(v);
  if (keys.length === 0) return null;
  for (const k of keys) {
    const item = v[k];
    if (item === undefined) continue;
    if (item !== null && typeof item === 'object') {
      const inner = yamlLines(item, indent + 2);
      if (inner === null) out.push(`${pad}${k}: ${Array.isArray(item) ? '[]' : '{}'}`);
      else out.push(`${pad}${k}:`, ...inner);
    } else {
      out.push(`${pad}${k}: ${yamlScalar(item)}`);
    }
  }
  return out;
}

function toYaml(doc) {
  return yamlLines(doc, 0).join('\n') + '\n';
}

/* ---- The server ----------------------------------------------------- */

const children = new Set();
process.on('exit', () => {
  for (const child of children) {
    try { child.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

/*
 * startServer({server, plugins, serverOptions, events, extraEvents, middleware, security, pluginConfig, startTimeout})
 * -> {port, url, origin, dir, reasonsFile, stop(), stderr(), reasons(), waitForReason(id)}
 *
 * url is "http://127.0.0.1:PORT" (a client adds the namespace), or
 * "http://[::1]:PORT" for a server on server.host ::1.
 */
async function startServer(opts = {}) {
  if (!fs.existsSync(PLUGIO)) throw new Error(`no plugio binary at ${PLUGIO} (build first, or set PLUGIO_BUILD_DIR)`);
  if (!fs.existsSync(PLUGIN)) throw new Error(`no e2e plugin at ${PLUGIN} (build the 'e2e' target)`);

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-e2e-'));
  const reasonsFile = path.join(dir, 'reasons.txt');
  fs.writeFileSync(reasonsFile, '');
  const doc = {
    server: { host: '127.0.0.1', port: 0, ...(opts.server || {}) },
    plugins: {
      e2e: { path: PLUGIN, config: { reasons_file: reasonsFile, ...(opts.pluginConfig || {}) } },
      ...(opts.plugins || {}),
    },
    socket: opts.serverOptions ? { serverOptions: opts.serverOptions } : undefined,
    events: [...(opts.events || DEFAULT_EVENTS), ...(opts.extraEvents || [])],
    middleware: opts.middleware, /* [{handler, namespace}], written only when given */
    serverEvents: opts.serverEvents, /* [{name, handler, namespace}], likewise */
    hooks: opts.hooks, /* {init: 'plugin:symbol'}, likewise */
    security: opts.security, /* {rateLimit, maxConnectionsPerAddress, allow}, likewise */
    admin: opts.admin, /* {namespace, auth, readonly, mode, serverId}, likewise */
  };
  const yamlFile = path.join(dir, 'plugio.yaml');
  fs.writeFileSync(yamlFile, toYaml(doc));

  const child = spawn(PLUGIO, [yamlFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr.setEncoding('utf8');
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d) => { stdout += d; });
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  let exitInfo = null;
  exited.then((info) => { exitInfo = info; });

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`plugio did not log 'listening on' within ${opts.startTimeout || 5000} ms\n` +
        `config:\n${toYaml(doc)}stderr:\n${stderr}`));
    }, opts.startTimeout || 5000);
    const onData = (d) => {
      stderr += d;
      const m = /listening on (?:127\.0\.0\.1|::1|::):(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    child.stderr.on('data', onData);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`plugio exited (code ${code}, signal ${signal}) before listening\n` +
        `config:\n${toYaml(doc)}stderr:\n${stderr}`));
    });
  });

  /* A server on ::1 is reached there; on :: (both families), over IPv4. */
  const url = doc.server.host === '::1' ? `http://[::1]:${port}` : `http://127.0.0.1:${port}`;
  let stopped = null;
  const server = {
    port,
    url,
    dir,
    yamlFile,
    doc, /* the configuration written to yamlFile, to edit and rewrite */
    reasonsFile,
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    exited: () => exitInfo,
    /* SIGTERM, then the exit status ({code, signal}); SIGKILL after `ms`. */
    stop(ms = 5000) {
      if (stopped) return stopped;
      stopped = (async () => {
        if (!exitInfo) child.kill('SIGTERM');
        let killed = false;
        const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, ms);
        const info = await exited;
        clearTimeout(timer);
        return killed ? { ...info, killedAfterMs: ms } : info;
      })();
      return stopped;
    },
    /* Lines the disconnect handler wrote: [{id, reason}]. */
    reasons() {
      return fs.readFileSync(reasonsFile, 'utf8').split('\n').filter(Boolean).map((line) => {
        const i = line.indexOf(' ');
        return { id: line.slice(0, i), reason: line.slice(i + 1) };
      });
    },
    /* The reason the disconnect handler saw for socket `id` (polls the file). */
    async waitForReason(id, ms = 5000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const hit = server.reasons().find((r) => r.id === id);
        if (hit) return hit.reason;
        if (Date.now() > deadline) {
          throw new Error(`no disconnect reason for ${id} within ${ms} ms; file has:\n` +
            fs.readFileSync(reasonsFile, 'utf8') + `\nstderr:\n${stderr}`);
        }
        await sleep(25);
      }
    },
    /* Wait until stderr matches `re`; throws with stderr after `ms`. */
    async waitForLog(re, ms = 10000) {
      const deadline = Date.now() + ms;
      while (!re.test(stderr)) {
        if (Date.now() > deadline) throw new Error(`no log line matching ${re} within ${ms} ms; stderr:\n${stderr}`);
        await sleep(20);
      }
    },
  };
  return server;
}

/* The first AddressSanitizer / UndefinedBehaviorSanitizer line in `text`,
 * or null: a server built with PLUGIO_SANITIZE=ON must stay silent. */
function sanitizerReport(text) {
  const m = /^.*(ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:).*$/m.exec(text);
  return m ? m[0] : null;
}

/* Stop srv with SIGTERM and check it exits 0, in time, with no sanitizer
 * report (what every test that starts its own server ends with). */
async function stopChecked(srv) {
  const assert = require('node:assert/strict');
  const { code, signal, killedAfterMs } = await srv.stop();
  assert.equal(killedAfterMs, undefined, `plugio did not exit on SIGTERM\n${srv.stderr()}`);
  assert.equal(sanitizerReport(srv.stderr()), null, srv.stderr());
  assert.equal(code, 0, `exit ${code} ${signal}\n${srv.stderr()}`);
}

/* Put the file src at dest the way a build system installs one: written
 * aside, renamed over (a hot reload sees one complete new file). */
function installByRename(src, dest) {
  const tmp = `${dest}.tmp`;
  fs.copyFileSync(src, tmp);
  fs.renameSync(tmp, dest);
}

/* One request through Node's http module (agent: a given one, or the
 * global agent, which keeps connections alive in Node >= 19):
 * {status, headers, text, socket, port (the client's local port)}. */
function nodeRequest(url, { method = 'GET', headers = {}, body, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text,
        socket: req.socket, port: req.socket.localPort }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timed out')));
    req.end(body);
  });
}

/* Raw bytes over a fresh TCP connection: resolves with what came back
 * within `ms` and whether the server closed the connection by then. */
function rawRequest(port, text, ms = 3000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    const timer = setTimeout(() => { sock.destroy(); resolve({ data, closed: false }); }, ms);
    sock.setEncoding('latin1');
    sock.on('data', (d) => { data += d; });
    sock.on('end', () => { clearTimeout(timer); sock.destroy(); resolve({ data, closed: true }); });
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.write(text);
  });
}

/* Start a server for the tests of one file, stop it after them, and check
 * it exits 0 on SIGTERM.  Returns a getter: call it inside a test. */
function serverFor(hooks, opts) {
  let srv = null;
  hooks.before(async () => { srv = await startServer(opts); });
  hooks.after(async () => {
    if (!srv) return;
    const { code, signal, killedAfterMs } = await srv.stop();
    const report = sanitizerReport(srv.stderr());
    if (report) throw new Error(`plugio's stderr has a sanitizer report:\n${srv.stderr()}`);
    if (killedAfterMs) {
      throw new Error(`plugio did not exit within ${killedAfterMs} ms of SIGTERM (killed)\nstderr:\n${srv.stderr()}`);
    }
    if (code !== 0) {
      throw new Error(`plugio exited with code ${code}, signal ${signal} on SIGTERM\nstderr:\n${srv.stderr()}`);
    }
  });
  return () => srv;
}

/* ---- Clients -------------------------------------------------------- */

const open = new Set();

/* A socket.io-client socket that is not connected yet (never reconnects,
 * never shares a Manager).  `socket.welcome` resolves with the payload of
 * the "welcome" event the plugin emits on connection. */
function client(url, opts = {}) {
  const socket = io(url, { forceNew: true, reconnection: false, timeout: 5000, ...opts });
  socket.welcome = new Promise((resolve) => socket.once('welcome', resolve));
  socket.welcome.catch(() => {});
  open.add(socket);
  socket.on('disconnect', () => open.delete(socket));
  return socket;
}

/* The same, connected: resolves on 'connect', rejects on 'connect_error'. */
async function connect(url, opts = {}, ms = 5000) {
  const socket = client(url, opts);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect to ${url} within ${ms} ms`)), ms);
    socket.once('connect', () => { clearTimeout(timer); resolve(); });
    socket.once('connect_error', (err) => { clearTimeout(timer); reject(err); });
  }).catch((err) => { socket.close(); throw err; });
  return socket;
}

/* Resolves with the first 'connect_error' (rejects on 'connect'). */
function connectError(socket, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect_error within ${ms} ms`)), ms);
    socket.once('connect_error', (err) => { clearTimeout(timer); resolve(err); });
    socket.once('connect', () => { clearTimeout(timer); reject(new Error('connected, expected connect_error')); });
  });
}

/* Resolves with the arguments of the next `event` on `emitter`. */
function next(emitter, event, ms = 5000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

/* emit with an ack; resolves with every argument of the ack. */
function ackAll(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    socket.timeout(5000).emit(event, ...args, (err, ...reply) => (err ? reject(err) : resolve(reply)));
  });
}

/* Every `event` that arrives on `emitter` from now on: an array of the
 * first arguments (or of all arguments with {all: true}). */
function collect(emitter, event, { all = false } = {}) {
  const got = [];
  emitter.on(event, (...args) => got.push(all ? args : args[0]));
  return got;
}

/* n connected clients, connected `batch` at a time (each a client() with
 * `opts`, or opts(i) when opts is a function). */
async function connectMany(url, n, opts = {}, batch = 100, ms = 20000) {
  const sockets = [];
  for (let i = 0; i < n; i += batch) {
    const group = [];
    for (let j = i; j < Math.min(n, i + batch); j++) {
      group.push(connect(url, typeof opts === 'function' ? opts(j) : opts, ms));
    }
    sockets.push(...await Promise.all(group));
  }
  return sockets;
}

function closeAll() {
  for (const s of open) s.close();
  open.clear();
}

/* A raw TCP connection to the server: `data` is everything received,
 * `closed` resolves when the server ends it (or rejects after `ms`). */
function rawConn(port, ms = 10000) {
  const sock = net.connect(port, '127.0.0.1');
  const conn = { sock, data: '', ended: false };
  sock.setEncoding('latin1');
  sock.on('data', (d) => { conn.data += d; });
  sock.on('error', () => {});
  conn.connected = new Promise((resolve) => sock.once('connect', resolve));
  conn.closed = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not closed within ${ms} ms; got: ${conn.data}`)), ms);
    sock.once('close', () => { clearTimeout(timer); conn.ended = true; resolve(); });
  });
  return conn;
}

/* Write `text` one byte every `gap` ms until done or the server closes;
 * resolves with how many bytes were written. */
async function trickle(conn, text, gap = 200) {
  let i = 0;
  for (; i < text.length && !conn.ended; i++) {
    conn.sock.write(text[i]);
    await sleep(gap);
  }
  return i;
}

/* Echoes of `size` bytes from `raw` (a RawWs that stopped reading) until
 * the server gives up on it (the disconnect reason of `sid` is
 * 'transport error'), while `good` keeps being answered; resolves with how
 * many echoes were sent. */
async function floodUntilDropped(srv, raw, sid, good, size = 60000, ms = 20000) {
  const assert = require('node:assert/strict');
  const gone = srv.waitForReason(sid, ms);
  let reason = null;
  gone.then((r) => { reason = r; }, () => {});
  const payload = 'q'.repeat(size);
  let sent = 0;
  for (let i = 0; i < 600 && reason === null; i++) {
    raw.send(`42${i}["echo","${payload}"]`);
    sent++;
    if (i % 20 === 19) {
      assert.deepEqual(await ackAll(good, 'echo', i), [i]);
      await sleep(20);
    }
  }
  assert.equal(await gone, 'transport error');
  return sent;
}

/* ---- Raw Engine.IO / Socket.IO ------------------------------------- */

/* Engine.IO v4 polling payload -> [{type, data}] (data: string, or Buffer
 * for a "b" base64 packet). */
function decodePayload(body) {
  return body.split('\x1e').map((p) => {
    if (p[0] === 'b') return { type: '4', data: Buffer.from(p.slice(1), 'base64'), binary: true };
    return { type: p[0], data: p.slice(1) };
  });
}

/* A Socket.IO v5 packet string -> {type, attachments, nsp, id, data}. */
function parseSio(str) {
  let i = 0;
  const pkt = { type: Number(str[i++]), attachments: 0, nsp: '/', id: undefined, data: undefined };
  if (pkt.type === 5 || pkt.type === 6) {
    const dash = str.indexOf('-', i);
    pkt.attachments = Number(str.slice(i, dash));
    i = dash + 1;
  }
  if (str[i] === '/') {
    const comma = str.indexOf(',', i);
    pkt.nsp = comma === -1 ? str.slice(i) : str.slice(i, comma);
    i = comma === -1 ? str.length : comma + 1;
  }
  let digits = '';
  while (i < str.length && str[i] >= '0' && str[i] <= '9') digits += str[i++];
  if (digits) pkt.id = Number(digits);
  if (i < str.length) pkt.data = JSON.parse(str.slice(i));
  return pkt;
}

/* A raw HTTP long-polling Engine.IO session driven with fetch. */
class RawPolling {
  constructor(url, pathName = '/socket.io/') {
    this.base = `${url}${pathName}?EIO=4&transport=polling`;
    this.sid = null;
    this.open = null;
    this.buffer = []; // received packets not taken yet
  }

  async handshake(headers = {}) {
    const res = await fetch(this.base, { headers, signal: AbortSignal.timeout(5000) });
    const body = await res.text();
    if (res.status !== 200) throw new Error(`handshake: HTTP ${res.status}: ${body}`);
    if (body[0] !== '0') throw new Error(`handshake: not an open packet: ${body}`);
    this.open = JSON.parse(body.slice(1));
    this.sid = this.open.sid;
    return this.open;
  }

  get sessionUrl() {
    return `${this.base}&sid=${encodeURIComponent(this.sid)}`;
  }

  /* POST a payload; resolves with the Response and its text. */
  async post(body, ms = 5000) {
    const res = await fetch(this.sessionUrl, {
      method: 'POST',
      body,
      headers: { 'content-type': 'text/plain;charset=UTF-8' },
      signal: AbortSignal.timeout(ms),
    });
    return { res, text: await res.text() };
  }

  /* One GET; resolves with {res, text, packets}. */
  async get(ms = 5000) {
    const res = await fetch(this.sessionUrl, { signal: AbortSignal.timeout(ms) });
    const text = await res.text();
    return { res, text, packets: res.status === 200 ? decodePayload(text) : [] };
  }

  /* The first received packet `pred` accepts, removed from the buffer of
   * received packets; GETs more while none does.  Pings are answered with
   * a pong unless `pong` is false (they are buffered either way). */
  async take(pred, { ms = 5000, pong = true } = {}) {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.buffer.findIndex(pred);
      if (i !== -1) return this.buffer.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`RawPolling.take: timed out; buffered: ${JSON.stringify(this.buffer)}`);
      const { res, text, packets } = await this.get(left);
      if (res.status !== 200) throw new Error(`RawPolling.take: HTTP ${res.status}: ${text}`);
      for (const p of packets) {
        if (p.type === '2' && pong) await this.post('3');
        this.buffer.push(p);
      }
    }
  }

  /* Engine.IO handshake + Socket.IO CONNECT (to `nsp`, with `auth`):
   * resolves with the Socket.IO socket id. */
  async connectSio(nsp = '/', auth) {
    if (!this.sid) await this.handshake();
    const prefix = nsp === '/' ? '' : `${nsp},`;
    const posted = await this.post(`40${prefix}${auth === undefined ? '' : JSON.stringify(auth)}`);
    if (posted.res.status !== 200) throw new Error(`CONNECT: HTTP ${posted.res.status}: ${posted.text}`);
    const ok = await this.take((p) => p.type === '4' && !p.binary && p.data.startsWith(`0${prefix}`));
    this.sioSid = parseSio(ok.data).data.sid;
    return this.sioSid;
  }
}

/* A raw WebSocket Engine.IO connection; `messages` buffers what arrives. */
class RawWs {
  constructor(url, query = '', pathName = '/socket.io/') {
    const wsUrl = url.replace(/^http/, 'ws') + `${pathName}?EIO=4&transport=websocket${query}`;
    this.ws = new WebSocket(wsUrl);
    this.messages = [];
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      this.ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    });
    this.ws.on('error', () => {}); // 'close' follows
    this.ws.on('message', (data, isBinary) => {
      this.messages.push(isBinary ? Buffer.from(data) : data.toString());
      this.wake();
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('unexpected-response', (req, res) => {
        reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { statusCode: res.statusCode }));
      });
      this.ws.once('error', reject);
    });
  }

  wake() {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /* Resolves with the first buffered message `pred` accepts (removed from
   * the buffer); other messages stay. */
  async take(pred = () => true, ms = 5000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i !== -1) return this.messages.splice(i, 1)[0];
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`RawWs.take: timed out; buffered: ${JSON.stringify(this.messages)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => { clearTimeout(timer); resolve(); });
      });
    }
  }

  send(data, opts) {
    this.ws.send(data, opts);
  }

  /* Engine.IO open + Socket.IO CONNECT to "/": resolves with the Socket.IO sid. */
  async connectSio() {
    await this.opened;
    const open = await this.take((m) => typeof m === 'string' && m[0] === '0');
    this.open = JSON.parse(open.slice(1));
    this.send('40');
    const ok = await this.take((m) => typeof m === 'string' && m.startsWith('40'));
    this.sioSid = JSON.parse(ok.slice(2)).sid;
    return this.sioSid;
  }

  close() {
    this.ws.terminate();
  }
}

/* Bytes the plugin's `binary` handler builds (see e2e.c build_binary). */
function pluginBinary() {
  const ramp = Buffer.alloc(256);
  for (let i = 0; i < 256; i++) ramp[i] = i;
  const deep = Buffer.alloc(1000);
  for (let i = 0; i < 1000; i++) deep[i] = (i * 7) & 0xff;
  return { small: Buffer.from([0xde, 0xad, 0xbe, 0xef]), ramp, deep, second: Buffer.from([0xde, 0xad]) };
}

/* A Buffer from whatever binary type the client hands over. */
function toBuffer(x) {
  if (Buffer.isBuffer(x)) return x;
  if (x instanceof ArrayBuffer) return Buffer.from(x);
  if (ArrayBuffer.isView(x)) return Buffer.from(x.buffer, x.byteOffset, x.byteLength);
  throw new Error(`not binary: ${Object.prototype.toString.call(x)}`);
}

module.exports = {
  REPO,
  BUILD,
  PLUGIO,
  PLUGIN,
  DEFAULT_EVENTS,
  toYaml,
  startServer,
  serverFor,
  sanitizerReport,
  stopChecked,
  rawConn,
  rawRequest,
  nodeRequest,
  trickle,
  floodUntilDropped,
  installByRename,
  client,
  connect,
  connectError,
  next,
  ackAll,
  collect,
  connectMany,
  closeAll,
  sleep,
  decodePayload,
  parseSio,
  RawPolling,
  RawWs,
  pluginBinary,
  toBuffer,
};
