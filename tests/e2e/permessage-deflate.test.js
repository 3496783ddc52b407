'use strict';
// perMessageDeflate (socket.io's default: off): negotiated with clients that
// offer it; messages of `threshold` (1024) bytes or more go compressed (RSV1
// set), smaller ones plain; what clients compress is inflated, and
// maxHttpBufferSize bounds the inflated size.  Checked with the stock
// client, and on the wire with a raw client reading the frames itself.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const net = require('node:net');
const zlib = require('node:zlib');
const WebSocket = require('ws');
const h = require('./helpers');

const T = { timeout: 20000 };
const LIMIT = 200000;
const on = h.serverFor(test, { serverOptions: { perMessageDeflate: true, maxHttpBufferSize: LIMIT } });
const off = h.serverFor(test, {});
const path = require('node:path');
const io = h.serverFor(test, {
  plugins: { io: path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so') },
  events: [{ name: 'bcast', handler: 'io:io_bcast' }],
  serverOptions: { perMessageDeflate: true },
});
const low = h.serverFor(test, { serverOptions: { perMessageDeflate: { threshold: 100, zlibDeflateOptions: { level: 1 } } } });
test.afterEach(() => h.closeAll());

const BIG = Array.from({ length: 300 }, (_, i) => ({ id: i, name: `user-${i}`, tags: ['a', 'b'], online: i % 3 === 0 }));

/* ---- a raw WebSocket client that sees every frame -------------------- */

/* Frames from a server (unmasked) at the head of `b`: {frames, rest}. */
function parseFrames(b) {
  const frames = [];
  for (;;) {
    if (b.length < 2) break;
    let len = b[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) break;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) break;
      len = Number(b.readBigUInt64BE(2));
      off = 10;
    }
    if (b.length < off + len) break;
    frames.push({ fin: !!(b[0] & 0x80), rsv1: !!(b[0] & 0x40), opcode: b[0] & 0x0f, payload: b.subarray(off, off + len) });
    b = b.subarray(off + len);
  }
  return { frames, rest: b };
}

/* A client frame: masked; `rsv1` marks a compressed payload. */
function clientFrame(payload, { opcode = 1, rsv1 = false } = {}) {
  const mask = crypto.randomBytes(4);
  const n = payload.length;
  const head = n < 126 ? Buffer.from([0, 0x80 | n])
    : n < 65536 ? Buffer.from([0, 0x80 | 126, n >> 8, n & 0xff])
      : Buffer.concat([Buffer.from([0, 0x80 | 127]), (() => { const x = Buffer.alloc(8); x.writeBigUInt64BE(BigInt(n)); return x; })()]);
  head[0] = 0x80 | (rsv1 ? 0x40 : 0) | opcode;
  const body = Buffer.from(payload);
  for (let i = 0; i < n; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/* RFC 7692: deflate raw, sync flush, drop the final 00 00 ff ff. */
function deflateMessage(text) {
  const z = zlib.deflateRawSync(Buffer.from(text), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
  return z.subarray(0, z.length - 4);
}

class WireClient {
  constructor(url, offer = 'permessage-deflate; client_max_window_bits') {
    const { port } = new URL(url);
    this.sock = net.connect(port, '127.0.0.1');
    this.messages = []; // {text, rsv1, frames}
    this.closeCode = null;
    this.pending = Buffer.alloc(0);
    this.inflater = zlib.createInflateRaw(); // one per connection: takeover-safe
    this.waiters = [];
    const key = crypto.randomBytes(16).toString('base64');
    this.sock.write(`GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
      `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\n` +
      `Sec-WebSocket-Version: 13\r\n${offer ? `Sec-WebSocket-Extensions: ${offer}\r\n` : ''}\r\n`);
    this.headers = new Promise((resolve, reject) => {
      let head = Buffer.alloc(0);
      const onData = (d) => {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end === -1) return;
        this.sock.off('data', onData);
        this.sock.on('data', (x) => this.feed(x));
        resolve(head.subarray(0, end).toString());
        this.feed(head.subarray(end + 4));
      };
      this.sock.on('data', onData);
      this.sock.on('error', reject);
    });
    this.sock.on('close', () => this.wake());
    this.sock.on('error', () => {}); // a reset ends it too
  }

  async feed(d) {
    this.pending = Buffer.concat([this.pending, d]);
    const { frames, rest } = parseFrames(this.pending);
    this.pending = rest;
    for (const f of frames) {
      if (f.opcode === 8) {
        this.closeCode = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : 1005;
        continue;
      }
      assert.ok(f.fin, 'plugio sends every message in one frame');
      let data = f.payload;
      if (f.rsv1) data = await this.inflate(Buffer.concat([f.payload, Buffer.from([0, 0, 0xff, 0xff])]));
      this.messages.push({ text: data.toString(), rsv1: f.rsv1, wireLength: f.payload.length });
    }
    this.wake();
  }

  inflate(b) {
    return new Promise((resolve, reject) => {
      const out = [];
      const onData = (c) => out.push(c);
      this.inflater.on('data', onData);
      this.inflater.write(b, (err) => {
        if (err) return reject(err);
        this.inflater.flush(zlib.constants.Z_SYNC_FLUSH, () => {
          this.inflater.off('data', onData);
          resolve(Buffer.concat(out));
        });
      });
    });
  }

  wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async take(pred, ms = 5000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const i = this.messages.findIndex(pred);
      if (i !== -1) return this.messages.splice(i, 1)[0];
      if (Date.now() > deadline) throw new Error(`timed out; have ${JSON.stringify(this.messages.map((m) => m.text.slice(0, 80)))}`);
      await new Promise((resolve) => { const t = setTimeout(resolve, 100); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
  }

  async closed(ms = 5000) {
    const deadline = Date.now() + ms;
    while (this.closeCode === null && !this.sock.destroyed && !this.sock.readableEnded && Date.now() < deadline) {
      await new Promise((resolve) => { const t = setTimeout(resolve, 100); this.waiters.push(() => { clearTimeout(t); resolve(); }); });
    }
    return this.closeCode;
  }

  send(text, compress = false) {
    this.sock.write(compress ? clientFrame(deflateMessage(text), { rsv1: true }) : clientFrame(Buffer.from(text)));
  }

  async connectSio() {
    await this.headers;
    await this.take((m) => m.text[0] === '0');
    this.send('40');
    await this.take((m) => m.text.startsWith('40'));
  }

  destroy() { this.sock.destroy(); }
}

/* ---- stock clients ------------------------------------------------------ */

test('socket.io-client over websocket negotiates it; big and small events round-trip', T, async () => {
  const socket = await h.connect(on().url, { transports: ['websocket'] });
  assert.match(socket.io.engine.transport.ws.extensions, /^permessage-deflate/);
  assert.deepEqual(await h.ackAll(socket, 'echo', BIG), [BIG]);
  assert.deepEqual(await h.ackAll(socket, 'echo', 'small'), ['small']);
  const many = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    h.ackAll(socket, 'echo', i % 2 ? { i, BIG } : i)));
  many.forEach((r, i) => assert.deepEqual(r, [i % 2 ? { i, BIG } : i]));
  const bin = Buffer.alloc(50000, 3);
  const [back] = await h.ackAll(socket, 'echo', bin);
  assert.ok(h.toBuffer(back).equals(bin));
});

/* lws 4.1.6's own inflater aborts the process on some of these (an
 * assert when a message's last bytes inflate past its buffer). */
test('compressed client messages of every size from 1 KB to 6 KB are inflated', T, async () => {
  const socket = await h.connect(on().url, { transports: ['websocket'] });
  const base = JSON.stringify(BIG);
  for (let n = 1000; n < 6000; n += 7) {
    const s = base.slice(0, n);
    assert.deepEqual(await h.ackAll(socket, 'echo', s), [s]);
  }
});

/* A broadcast is compressed once and shared: every recipient, compressed
 * or not, must get it intact. */
test('a big broadcast reaches deflate, plain WebSocket and polling clients intact', T, async () => {
  const a = await h.connect(io().url, { transports: ['websocket'] });
  const b = await h.connect(io().url, { transports: ['websocket'] });
  const plain = await h.connect(io().url, { transports: ['websocket'], perMessageDeflate: false });
  const polling = await h.connect(io().url, { transports: ['polling'] });
  assert.match(a.io.engine.transport.ws.extensions, /^permessage-deflate/);
  assert.equal(plain.io.engine.transport.ws.extensions, '');
  const got = [a, b, plain, polling].map((s) => h.next(s, 'big'));
  await a.timeout(5000).emitWithAck('bcast', { sel: { nsp: '/' }, event: 'big', args: [BIG] });
  for (const [payload] of await Promise.all(got)) assert.deepEqual(payload, BIG);
});

test('socket.io-client upgrading from polling keeps working with it', T, async () => {
  const socket = await h.connect(on().url);
  await new Promise((resolve) => (socket.io.engine.transport.name === 'websocket'
    ? resolve() : socket.io.engine.once('upgrade', resolve)));
  assert.match(socket.io.engine.transport.ws.extensions, /^permessage-deflate/);
  assert.deepEqual(await h.ackAll(socket, 'echo', BIG), [BIG]);
});

test('the ws client sees the extension accepted, and declined when off', T, async () => {
  for (const [srv, expect] of [[on, 'permessage-deflate'], [off, '']]) {
    const ws = new WebSocket(`${srv().url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`);
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    assert.equal(ws.extensions, expect);
    ws.terminate();
  }
});

test('a compressed client message over maxHttpBufferSize is refused (stock client)', T, async () => {
  const socket = await h.connect(on().url, { transports: ['websocket'] });
  const gone = h.next(socket, 'disconnect', 5000);
  let acked = false;
  socket.emit('echo', 'a'.repeat(LIMIT * 2), () => { acked = true; }); // ~1 KB once deflated
  const [reason] = await gone;
  assert.equal(acked, false);
  assert.ok(['transport close', 'transport error'].includes(reason), reason);
});

/* ---- on the wire ----------------------------------------------------- */

test('on the wire: big messages go compressed (RSV1), small ones plain', T, async () => {
  const c = new WireClient(on().url);
  const headers = await c.headers;
  assert.match(headers, /^sec-websocket-extensions: permessage-deflate\s*$/im);
  await c.connectSio();
  const big = JSON.stringify(BIG);
  c.send(`421["echo",${big}]`);
  const bigAck = await c.take((m) => m.text.startsWith('431'));
  assert.equal(bigAck.text, `431[${big}]`);
  assert.equal(bigAck.rsv1, true);
  assert.ok(bigAck.wireLength < bigAck.text.length / 4, `${bigAck.wireLength} of ${bigAck.text.length}`);
  c.send('422["echo","hi"]');
  const small = await c.take((m) => m.text.startsWith('432'));
  assert.equal(small.text, '432["hi"]');
  assert.equal(small.rsv1, false);
  c.destroy();
});

test('on the wire: compressed client messages are inflated', T, async () => {
  const c = new WireClient(on().url);
  await c.connectSio();
  const big = JSON.stringify(BIG);
  c.send(`421["echo",${big}]`, true);
  c.send('422["echo","tiny"]', true);
  assert.equal((await c.take((m) => m.text.startsWith('431'))).text, `431[${big}]`);
  assert.equal((await c.take((m) => m.text.startsWith('432'))).text, '432["tiny"]');
  c.destroy();
});

function rssKb(pid) {
  return Number(/VmRSS:\s+(\d+)/.exec(require('node:fs').readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

/* The connection ends (a close frame, or a reset when the close finds
 * bytes unread), the message unanswered, the server up and not grown. */
for (const [what, size] of [['1 MB', LIMIT * 5], ['a 200 MB zip bomb', 200 * 1000 * 1000]]) {
  test(`on the wire: ${what} inflating past maxHttpBufferSize is refused`, T, async () => {
    const before = rssKb(on().child.pid);
    const c = new WireClient(on().url);
    await c.connectSio();
    c.send(`421["echo","${'0'.repeat(size)}"]`, true); // ~1/1000 of that on the wire
    await c.closed();
    assert.ok(c.sock.destroyed || c.closeCode !== null, 'the connection is still open');
    assert.equal(c.messages.find((m) => m.text.startsWith('431')), undefined);
    c.destroy();
    const socket = await h.connect(on().url, { transports: ['websocket'] });
    assert.deepEqual(await h.ackAll(socket, 'echo', 'still here'), ['still here']);
    const grown = rssKb(on().child.pid) - before;
    assert.ok(grown < 20000, `server RSS grew by ${grown} KB`);
  });
}

test('on the wire: the threshold option sets where compression starts', T, async () => {
  const c = new WireClient(low().url);
  await c.connectSio();
  const s = 'q'.repeat(150);
  c.send(`421["echo","${s}"]`);
  const m = await c.take((x) => x.text.startsWith('431'));
  assert.equal(m.text, `431["${s}"]`);
  assert.equal(m.rsv1, true);
  c.destroy();
});

test('on the wire: a client that does not offer it gets plain frames', T, async () => {
  const c = new WireClient(on().url, null);
  const headers = await c.headers;
  assert.doesNotMatch(headers, /sec-websocket-extensions/i);
  await c.connectSio();
  c.send(`421["echo",${JSON.stringify(BIG)}]`);
  const m = await c.take((x) => x.text.startsWith('431'));
  assert.equal(m.rsv1, false);
  c.destroy();
});
