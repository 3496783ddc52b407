'use strict';
// Socket.IO v2 clients (socket.io-client 2.5: Engine.IO protocol 3,
// Socket.IO protocol 4) with serverOptions.allowEIO3, as socket.io 4.8
// serves them: every transport and the upgrade, events and acks both
// ways, binary both ways, namespaces with a query for auth, a
// middleware's refusal, the client-driven heartbeat, broadcasts to v2 and
// v4 clients at once - and the refusal when allowEIO3 is off.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const ioV2 = require('socket.io-client-v2');
const WebSocket = require('ws');
const h = require('./helpers');

const T = { timeout: 30000 };
const IO_SO = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');

const v2open = new Set();

/* A v2 socket, not connected yet (no reconnection, its own Manager). */
function v2client(url, opts = {}) {
  const socket = ioV2(url, { forceNew: true, reconnection: false, timeout: 5000, ...opts });
  socket.welcome = new Promise((resolve) => socket.once('welcome', resolve));
  socket.welcome.catch(() => {});
  v2open.add(socket);
  return socket;
}

/* The same, connected: resolves on 'connect', rejects on 'error' or
 * 'connect_error' (a v2 client's refusals arrive as 'error'). */
async function v2connect(url, opts = {}, ms = 5000) {
  const socket = v2client(url, opts);
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no connect to ${url} within ${ms} ms`)), ms);
    socket.once('connect', () => { clearTimeout(timer); resolve(); });
    socket.once('connect_error', (err) => { clearTimeout(timer); reject(err); });
    socket.once('error', (err) => { clearTimeout(timer); reject(new Error(JSON.stringify(err))); });
  }).catch((err) => { socket.close(); throw err; });
  return socket;
}

/* A v2 emit with an ack: resolves with every argument of the ack. */
function v2ack(socket, event, ...args) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ack for ${event}`)), 5000);
    socket.emit(event, ...args, (...reply) => { clearTimeout(timer); resolve(reply); });
  });
}

function closeV2() {
  for (const s of v2open) s.close();
  v2open.clear();
}

/* The transport the engine ends up on, once any upgrade is done. */
function upgraded(socket, ms = 5000) {
  const engine = socket.io.engine;
  if (engine.transport.name === 'websocket') return Promise.resolve('websocket');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no upgrade')), ms);
    engine.once('upgrade', (t) => { clearTimeout(timer); resolve(t.name); });
  });
}

const srv = h.serverFor(test, {
  serverOptions: { allowEIO3: true, pingInterval: 300, pingTimeout: 400 },
  plugins: { io: IO_SO },
  extraEvents: [
    { name: 'bcast', handler: 'io:io_bcast' },
    { name: 'find', handler: 'io:io_find' },
    { name: 'connection', namespace: '/guarded', handler: 'e2e:on_connection' },
    { name: 'auth', namespace: '/guarded', handler: 'e2e:auth' },
  ],
  middleware: [{ handler: 'io:mw_first', namespace: '/guarded' }],
});
test.afterEach(() => { closeV2(); h.closeAll(); });

for (const [name, opts] of [
  ['polling then websocket', {}],
  ['websocket only', { transports: ['websocket'] }],
  ['polling only', { transports: ['polling'] }],
  ['polling then websocket, forceBase64', { forceBase64: true }],
  ['websocket only, forceBase64', { transports: ['websocket'], forceBase64: true }],
]) {
  test(`a v2 client connects (${name}), echoes with acks and binary`, T, async () => {
    const socket = await v2connect(srv().url, opts);
    const welcome = await socket.welcome;
    assert.equal(welcome.nsp, '/');
    assert.equal(welcome.id, socket.id, 'the v2 client and the plugin agree on the id');
    if (!opts.transports) assert.equal(await upgraded(socket), 'websocket');
    assert.equal(socket.io.engine.transport.name, opts.transports ? opts.transports[0] : 'websocket');

    const unicode = 'h\u00e9llo \u{1F600} w\u00f6rld';
    assert.deepEqual(await v2ack(socket, 'echo', unicode, { n: 1, list: [true, null] }),
      [unicode, { n: 1, list: [true, null] }]);

    const bytes = Buffer.from([0, 1, 2, 0xfe, 0xff]);
    const [back, text] = await v2ack(socket, 'echo', bytes, 'after');
    assert.deepEqual(h.toBuffer(back), bytes);
    assert.equal(text, 'after');

    // The plugin builds binary; without an ack it comes as an event.
    const got = h.next(socket, 'binary');
    socket.emit('binary');
    const [value, second] = await got;
    const want = h.pluginBinary();
    assert.deepEqual(h.toBuffer(value.small), want.small);
    assert.deepEqual(h.toBuffer(value.list[0]), want.ramp);
    assert.equal(value.list[1], 'text');
    assert.deepEqual(h.toBuffer(value.list[2].deep), want.deep);
    assert.deepEqual(h.toBuffer(second), want.second);
  });
}

test('the server asks a v2 client for an ack, with binary', T, async () => {
  const socket = await v2connect(srv().url);
  socket.on('question', (a, b, ack) => ack({ got: [a, h.toBuffer(b).toString('hex')] }, Buffer.from('ok')));
  const answer = h.next(socket, 'answer');
  assert.deepEqual(await v2ack(socket, 'ask', { event: 'question', timeout: 3000, tag: 't1',
    args: ['q', Buffer.from([9, 8])] }), ['sent']);
  const [reply] = await answer;
  assert.equal(reply.status, 'ok');
  assert.equal(reply.tag, 't1');
  assert.deepEqual(reply.reply[0], { got: ['q', '0908'] });
  assert.deepEqual(h.toBuffer(reply.reply[1]), Buffer.from('ok'));
});

test('a v2 client joins a custom namespace, its query being the auth', T, async () => {
  const socket = await v2connect(`${srv().url}/custom`, { query: { token: 'a b', n: '1' } });
  const welcome = await socket.welcome;
  assert.equal(welcome.nsp, '/custom');
  assert.deepEqual(welcome.auth, { token: 'a b', n: '1' });
  assert.equal(welcome.id, socket.id);
  assert.match(socket.id, /^\/custom#/);
  assert.deepEqual(await v2ack(socket, 'echo', 'in /custom'), ['in /custom']);
  assert.deepEqual(await v2ack(socket, 'auth'), [{ token: 'a b', n: '1' }]);
});

test("a v2 namespace's query is decoded as Node's querystring does", T, async () => {
  const socket = await v2connect(`${srv().url}/custom`, { query: 'token=a%20b+c&n=1&n=2&e=%C3%A9&flag' });
  assert.deepEqual((await socket.welcome).auth, { token: 'a b c', n: ['1', '2'], e: '\u00e9', flag: '' });
});

test('a v2 client asking for a namespace that does not exist gets an error', T, async () => {
  const socket = v2client(`${srv().url}/nope`);
  const [err] = await h.next(socket, 'error');
  assert.deepEqual(err, { message: 'Invalid namespace' });
});

test("a middleware's refusal reaches a v2 client as its message", T, async () => {
  const socket = v2client(`${srv().url}/guarded`, { query: { reject: 'first', message: 'go away' } });
  const [err] = await h.next(socket, 'error');
  assert.equal(err, 'go away');
  assert.equal(socket.connected, false);
  const ok = await v2connect(`${srv().url}/guarded`, { query: { room: 'r1' } });
  assert.deepEqual(await v2ack(ok, 'auth'), [{ room: 'r1' }]);
});

for (const [name, opts] of [['websocket', { transports: ['websocket'] }], ['polling', { transports: ['polling'] }]]) {
  test(`an idle v2 client stays connected past several pingIntervals (${name})`, T, async () => {
    const socket = await v2connect(srv().url, opts);
    let pongs = 0;
    socket.on('pong', () => { pongs++; });
    let gone = null;
    socket.on('disconnect', (reason) => { gone = reason; });
    await h.sleep(2500); // > 3 x (pingInterval + pingTimeout)
    assert.equal(gone, null);
    assert.ok(pongs >= 4, `only ${pongs} pongs`);
    assert.deepEqual(await v2ack(socket, 'echo', 'still here'), ['still here']);
  });
}

test('a broadcast reaches v2 and v4 clients alike, binary included', T, async () => {
  const url = srv().url;
  const v2ws = await v2connect(url, { transports: ['websocket'] });
  const v2poll = await v2connect(url, { transports: ['polling'] });
  const v4 = await h.connect(url, { transports: ['websocket'] });
  const v4poll = await h.connect(url, { transports: ['polling'] });
  const all = [v2ws, v2poll, v4, v4poll];
  const got = all.map((s) => h.next(s, 'news'));
  const counts = await new Promise((resolve) => v4.emit('bcast',
    { sel: {}, event: 'news', args: ['hi \u{1F600}', { bin: Buffer.from([1, 2, 3]) }] }, resolve));
  assert.deepEqual(counts, [4]);
  for (const [i, p] of got.entries()) {
    const [text, obj] = await p;
    assert.equal(text, 'hi \u{1F600}', `client ${i}`);
    assert.deepEqual(h.toBuffer(obj.bin), Buffer.from([1, 2, 3]), `client ${i}`);
  }
});

/* A large attachment is framed in place, in the shared message's headroom:
 * the v4 frame header must not clobber the type byte a v2 frame carries. */
test('a large binary broadcast reaches v4 and v2 WebSocket clients intact, round after round', T, async () => {
  const url = srv().url;
  const v4 = await h.connect(url, { transports: ['websocket'] });
  const v2 = await v2connect(url, { transports: ['websocket'] });
  const big = Buffer.alloc(40000, 0);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  for (let round = 0; round < 5; round++) {
    const got = [v4, v2].map((s) => h.next(s, 'big'));
    const counts = await new Promise((resolve) => v4.emit('bcast',
      { sel: {}, event: 'big', args: [round, { bin: big }] }, resolve));
    assert.deepEqual(counts, [2]);
    for (const [i, p] of got.entries()) {
      const [n, obj] = await p;
      assert.equal(n, round, `client ${i}`);
      assert.ok(h.toBuffer(obj.bin).equals(big), `client ${i}, round ${round}: the attachment differs`);
    }
  }
});

test('plugins find v2 sockets by the ids their clients know', T, async () => {
  const main = await v2connect(srv().url, { transports: ['websocket'] });
  const custom = await v2connect(`${srv().url}/custom`, { transports: ['websocket'] });
  const v4 = await h.connect(srv().url, { transports: ['websocket'] });
  const find = (q) => new Promise((resolve) => v4.emit('find', q, resolve));
  assert.equal(main.id, main.io.engine.id);
  assert.equal(custom.id, `/custom#${custom.io.engine.id}`);
  const found = await find({ id: main.id });
  assert.equal(found.id, main.id);
  assert.deepEqual(found.rooms, [main.id]);
  assert.equal((await find({ id: custom.id, nsp: '/custom' })).id, custom.id);
  assert.equal(await find({ id: custom.id }), null);
});

test('a v2 client is refused when allowEIO3 is off', T, async () => {
  const off = await h.startServer({});
  try {
    const res = await fetch(`${off.url}/socket.io/?EIO=3&transport=polling`);
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 5, message: 'Unsupported protocol version' });
    const socket = v2client(off.url, { transports: ['polling'] });
    const [err] = await h.next(socket, 'connect_error');
    assert.ok(err instanceof Error);
    assert.equal(socket.connected, false);
  } finally {
    closeV2();
    await off.stop();
  }
});

/* ---- protocol 3 on the wire ------------------------------------------ */

const eio3 = (url, extra = '') => `${url}/socket.io/?EIO=3&transport=polling${extra}`;

/* A protocol 3 text payload -> [packet strings] (lengths in UTF-16 units). */
function splitText(body) {
  const out = [];
  for (let i = 0; i < body.length;) {
    const colon = body.indexOf(':', i);
    const n = Number(body.slice(i, colon));
    out.push(body.slice(colon + 1, colon + 1 + n));
    i = colon + 1 + n;
  }
  return out;
}

/* A protocol 3 binary payload -> [string | Buffer (without its type byte)]. */
function splitBinary(buf) {
  const out = [];
  for (let i = 0; i < buf.length;) {
    const isString = buf[i++] === 0;
    let digits = '';
    while (buf[i] !== 255) digits += String(buf[i++]);
    i++;
    const rec = buf.subarray(i, i + Number(digits));
    out.push(isString ? rec.toString('utf8') : rec.subarray(1));
    i += Number(digits);
  }
  return out;
}

/* One record of a binary payload. */
function binRecord(data) {
  const isString = typeof data === 'string';
  const body = isString ? Buffer.from(data, 'utf8') : Buffer.concat([Buffer.from([4]), data]);
  return Buffer.concat([Buffer.from([isString ? 0 : 1, ...String(body.length).split('').map(Number), 255]), body]);
}

async function handshake3(url, extra = '') {
  const res = await fetch(eio3(url, extra));
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain/);
  const packets = splitText(await res.text());
  assert.equal(packets[0][0], '0');
  return { open: JSON.parse(packets[0].slice(1)), rest: packets.slice(1) };
}

test('the protocol 3 handshake: the open packet, then "/" joined without asking', T, async () => {
  const { open, rest } = await handshake3(srv().url);
  assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
  assert.deepEqual(open.upgrades, ['websocket']);
  assert.equal(open.pingInterval, 300);
  assert.equal(open.pingTimeout, 400);
  assert.equal(rest[0], '40', 'CONNECT for "/" without a payload');
  assert.match(rest[1], /^42\["welcome",/);
  assert.equal(JSON.parse(rest[1].slice(2))[1].id, open.sid, 'the socket id is the sid');
});

test('binary polling payloads both ways for a client that reads them', T, async () => {
  const { open } = await handshake3(srv().url);
  const url = eio3(srv().url, `&sid=${open.sid}`);
  const post = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/octet-stream' },
    body: Buffer.concat([
      binRecord('451-7["echo","\u00e9\u{1F600}",{"_placeholder":true,"num":0}]'),
      binRecord(Buffer.from([0, 255, 7])),
      binRecord('2'),
    ]),
  });
  assert.equal(post.status, 200);
  assert.equal(await post.text(), 'ok');
  const packets = [];
  while (!packets.some((p) => Buffer.isBuffer(p))) {
    const res = await fetch(url);
    assert.equal(res.status, 200);
    const type = res.headers.get('content-type');
    const raw = Buffer.from(await res.arrayBuffer());
    packets.push(...(type === 'application/octet-stream' ? splitBinary(raw) : splitText(raw.toString('utf8'))));
  }
  const ack = packets.findIndex((p) => typeof p === 'string' && p.startsWith('46'));
  assert.notEqual(ack, -1, JSON.stringify(packets));
  assert.equal(packets[ack], '461-7["\u00e9\u{1F600}",{"_placeholder":true,"num":0}]');
  assert.deepEqual(packets[ack + 1], Buffer.from([0, 255, 7]));
  assert.ok(packets.includes('3'), 'the ping was answered');
});

test('a v2 client that stops pinging is closed after pingInterval + pingTimeout', T, async () => {
  const started = Date.now();
  const { open } = await handshake3(srv().url, '&b64=1');
  assert.equal(await srv().waitForReason(open.sid), 'ping timeout');
  const took = Date.now() - started;
  assert.ok(took >= 650, `closed after ${took} ms`);
});

test('a pong from a v2 client is an error', T, async () => {
  const { open } = await handshake3(srv().url, '&b64=1');
  const url = eio3(srv().url, `&sid=${open.sid}`);
  const post = await fetch(url, { method: 'POST', body: '1:3' });
  assert.equal(post.status, 200);
  assert.equal(await srv().waitForReason(open.sid), 'transport error');
});

/* Frames of a raw protocol 3 WebSocket, until `pred` accepts one. */
function wsFrames(ws, pred, ms = 5000) {
  const frames = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`frames: ${JSON.stringify(frames)}`)), ms);
    ws.on('message', (data, isBinary) => {
      frames.push(isBinary ? Buffer.from(data) : data.toString('utf8'));
      if (pred(frames[frames.length - 1])) { clearTimeout(timer); resolve(frames); }
    });
  });
}

for (const b64 of [false, true]) {
  test(`binary over a protocol 3 WebSocket ${b64 ? 'as base64 text (b64=1)' : 'with its type byte'}`, T, async () => {
    const url = `${srv().url.replace('http', 'ws')}/socket.io/?EIO=3&transport=websocket${b64 ? '&b64=1' : ''}`;
    const ws = new WebSocket(url);
    const welcome = wsFrames(ws, (f) => typeof f === 'string' && f.startsWith('42["welcome"'));
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject); });
    try {
      const first = await welcome;
      assert.equal(first[0][0], '0');
      assert.equal(first[1], '40');
      ws.removeAllListeners('message');
      const got = wsFrames(ws, (f) => typeof f !== 'string' || f.startsWith('b'));
      ws.send('451-3["echo",{"_placeholder":true,"num":0}]');
      ws.send(b64 ? 'b4AQL/' : Buffer.from([4, 1, 2, 0xff]));
      const frames = await got;
      assert.equal(frames[0], '461-3[{"_placeholder":true,"num":0}]');
      assert.deepEqual(frames[1], b64 ? 'b4AQL/' : Buffer.from([4, 1, 2, 0xff]));
    } finally {
      ws.close();
    }
  });
}

test('a malformed protocol 3 payload closes that session only', T, async () => {
  const bystander = await v2connect(srv().url, { transports: ['polling'] });
  for (const body of ['9:42["echo"]', '4:42["echo"]', 'x:2', '2:4\u00e9\u{1F600}']) {
    const { open } = await handshake3(srv().url, '&b64=1');
    const post = await fetch(eio3(srv().url, `&sid=${open.sid}`), { method: 'POST', body });
    assert.equal(post.status, 200);
    assert.equal(await srv().waitForReason(open.sid), 'parse error', body);
  }
  assert.deepEqual(await v2ack(bystander, 'echo', 'fine'), ['fine']);
});
