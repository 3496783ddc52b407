'use strict';
// serverOptions.parser: msgpack - stock socket.io-client 4.8.4 with
// socket.io-msgpack-parser 3.0.2 over polling and websocket: nested
// values, binary both ways, acks both ways, broadcasts to rooms (one
// encoding shared by every recipient), connect_error from middleware; a
// malformed MessagePack message closes only its connection; a client with
// the default (JSON) parser cannot connect, as with a Node server.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { io } = require('socket.io-client');
const msgpackParser = require('socket.io-msgpack-parser');
const h = require('./helpers');

const T = { timeout: 20000 };
const ioSo = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');
const IO_EVENTS = ['join', 'bcast', 'bcast_ack', 'ask'];
const srv = h.serverFor(test, {
  serverOptions: { parser: 'msgpack' },
  plugins: { io: ioSo },
  extraEvents: [
    ...['/io', '/guarded'].flatMap((nsp) => [
      { name: 'connection', namespace: nsp, handler: 'io:io_connection' },
      ...IO_EVENTS.map((name) => ({ name, namespace: nsp, handler: `io:io_${name}` })),
    ]),
  ],
  middleware: [{ handler: 'io:mw_first', namespace: '/guarded' }],
});
test.afterEach(() => h.closeAll());

const mp = (opts = {}) => ({ parser: msgpackParser, ...opts });
const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);

function bytes(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

for (const transport of ['polling', 'websocket']) {
  const opts = (more = {}) => mp({ transports: [transport], ...more });

  test(`events with nested objects and every kind of value round-trip (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, opts());
    const nested = {
      a: [1, -1, 0, 127, 128, 65536, 2 ** 32, 2 ** 53, -(2 ** 31) - 1, 1.5, -0.25, 2 ** 63],
      // (not 1e300: notepack writes integral numbers past 2^64 as a garbled uint64)
      b: { c: { d: { e: ['deep', null, true, false, '', 'é€😀'] } } },
      empty: { o: {}, a: [] },
    };
    assert.deepEqual(await h.ackAll(socket, 'echo', nested, 'two', 3), [nested, 'two', 3]);
    const echoed = h.next(socket, 'echo');
    socket.emit('echo', nested);
    assert.deepEqual(await echoed, [nested]);
  });

  test(`what JSON would carry differently reads as JSON.stringify gives it (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, opts());
    // A Date is its ISO string, undefined drops from objects and is null in
    // arrays, NaN is null - as the default parser's client would send them.
    const when = new Date(Date.UTC(2026, 10, 30, 12, 34, 56, 789));
    const got = await h.ackAll(socket, 'echo', when, { keep: 1, drop: undefined }, [undefined, NaN, -0]);
    assert.deepEqual(got, ['2026-11-30T12:34:56.789Z', { keep: 1 }, [null, null, 0]]);
  });

  test(`binary buffers both ways, nested and inline (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, opts());
    const args = [bytes(10, 1), { name: 'f', data: bytes(1000, 2), parts: [bytes(1, 3), { x: bytes(300, 4) }] },
      Buffer.alloc(0), bytes(200 * 1024, 5)];
    assert.deepEqual(await h.ackAll(socket, 'echo', ...args), args); // Buffers compare by content
    const echoed = h.next(socket, 'echo');
    socket.emit('echo', { b: [bytes(5, 6)] });
    assert.deepEqual(await echoed, [{ b: [bytes(5, 6)] }]);
    // A typed array (what a browser sends: notepack's ext 0) arrives as binary too.
    const [u8] = await h.ackAll(socket, 'echo', new Uint8Array([7, 8, 9]));
    assert.ok(Buffer.isBuffer(u8));
    assert.deepEqual([...u8], [7, 8, 9]);
  });

  test(`server-built binary reaches the client as buffers (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, opts());
    const reply = await h.ackAll(socket, 'binary');
    const bufs = [];
    const walk = (v) => {
      if (Buffer.isBuffer(v)) bufs.push(v);
      else if (v && typeof v === 'object') Object.values(v).forEach(walk);
    };
    walk(reply);
    assert.ok(bufs.length >= 1, `no buffer in ${JSON.stringify(reply)}`);
  });

  test(`acks both ways (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, opts());
    socket.on('question', (a, b, ack) => ack({ got: [a, b] }, bytes(3, 9)));
    const answer = h.next(socket, 'answer');
    assert.equal(await call(socket, 'ask', { event: 'question', timeout: 5000, tag: 'm1', args: ['hello', 2] }), 'sent');
    const [a] = await answer;
    assert.equal(a.status, 'ok');
    assert.equal(a.tag, 'm1');
    assert.deepEqual(a.reply[0], { got: ['hello', 2] });
    assert.ok(Buffer.isBuffer(a.reply[1]) && a.reply[1].equals(bytes(3, 9)));
  });

  test(`broadcasts to rooms, and acks from many clients (${transport})`, T, async () => {
    const url = `${srv().url}/io`;
    const red1 = await h.connect(url, opts());
    const red2 = await h.connect(url, opts({ transports: [transport === 'polling' ? 'websocket' : 'polling'] }));
    const blue = await h.connect(url, opts());
    await call(red1, 'join', 'red');
    await call(red2, 'join', 'red');
    await call(blue, 'join', 'blue');
    const got1 = h.next(red1, 'color');
    const got2 = h.next(red2, 'color');
    const blueGot = h.collect(blue, 'color');
    assert.deepEqual(await call(blue, 'bcast', { sel: { rooms: ['red'] }, event: 'color', args: ['red!', { n: [1, 2.5] }] }), [2]);
    assert.deepEqual(await got1, ['red!', { n: [1, 2.5] }]);
    assert.deepEqual(await got2, ['red!', { n: [1, 2.5] }]);
    // fence: blue gets a later broadcast, so anything to it before has arrived
    const fenced = h.next(blue, 'fence');
    await call(red1, 'bcast', { sel: {}, event: 'fence', args: [] });
    await fenced;
    assert.deepEqual(blueGot, []);

    red1.on('vote', (q, ack) => ack(`yes ${q}`));
    red2.on('vote', (q, ack) => ack(`no ${q}`));
    const acked = h.next(blue, 'bcast_acked');
    assert.equal(await call(blue, 'bcast_ack', { sel: { rooms: ['red'] }, event: 'vote', args: ['tea'], timeout: 3000 }), 2);
    const [r] = await acked;
    assert.equal(r.code, 0);
    assert.deepEqual(r.replies.sort(), ['no tea', 'yes tea']);
  });

  test(`connect_error from middleware, and an unknown namespace (${transport})`, T, async () => {
    const refused = h.client(`${srv().url}/guarded`, opts({ auth: { reject: 'first', message: 'go away' } }));
    const err = await h.connectError(refused);
    assert.equal(err.message, 'go away');
    const welcome = h.client(`${srv().url}/guarded`, opts({ auth: { room: 'vip' } }));
    const [w] = await h.next(welcome, 'welcome');
    assert.ok(w.rooms.includes('vip'));
    const lost = h.client(`${srv().url}/nowhere`, opts());
    assert.equal((await h.connectError(lost)).message, 'Invalid namespace');
  });
}

test('a malformed MessagePack message closes that connection only; another client keeps working', T, async () => {
  const bystander = await h.connect(srv().url, mp({ transports: ['websocket'] }));
  for (const bad of [
    Buffer.from([0xc1]),                                   // never-used prefix
    Buffer.from([0x82, 0xa4, 0x74, 0x79, 0x70, 0x65]),     // truncated map
    Buffer.from([0xdd, 0xff, 0xff, 0xff, 0xff]),           // 2^32-1 elements announced
    require('notepack.io').encode({ type: 2, nsp: '/', data: {} }), // an event without an array
    require('notepack.io').encode({ type: 5, nsp: '/', data: ['x'] }), // no binary types here
  ]) {
    const victim = await h.connect(srv().url, mp({ transports: ['websocket'] }));
    const gone = h.next(victim, 'disconnect');
    const id = victim.id;
    victim.io.engine.write(bad);
    const [reason] = await gone;
    assert.equal(reason, 'transport close', `after ${bad.toString('hex')}`);
    assert.equal(await srv().waitForReason(id), 'parse error', 'what the disconnect handler saw');
    assert.deepEqual(await h.ackAll(bystander, 'echo', 'still here'), ['still here']);
  }
});

test('a text message to a msgpack server is malformed too', T, async () => {
  const victim = await h.connect(srv().url, mp({ transports: ['polling'] }));
  const gone = h.next(victim, 'disconnect');
  const id = victim.id;
  victim.io.engine.write('2["echo","json"]');
  assert.equal((await gone)[0], 'transport close');
  assert.equal(await srv().waitForReason(id), 'parse error');
});

test('a client with the default parser cannot connect to a msgpack server', T, async () => {
  // Its CONNECT is a text message the msgpack parser cannot decode: the
  // server closes the connection ("parse error") before any namespace is
  // joined, as a Node.js server with socket.io-msgpack-parser does.  The
  // client sees the transport close and never connects.  (Over polling the
  // server waits for the client's next GET to answer it with the close
  // packet, as engine.io does, so that the client says "transport close"
  // there too rather than "transport error".)
  for (const transport of ['polling', 'websocket']) {
    const socket = io(srv().url, { forceNew: true, reconnection: false, transports: [transport] });
    const events = [];
    socket.on('connect', () => events.push('connect'));
    socket.on('connect_error', (e) => events.push(`connect_error:${e.message}`));
    const closed = new Promise((resolve) => socket.io.on('close', (reason) => resolve(reason)));
    const reason = await closed;
    assert.equal(reason, 'transport close', transport);
    await h.sleep(200);
    assert.ok(!events.includes('connect'), `${transport}: ${events}`);
    socket.close();
  }
});

test('a reload that changes the parser applies to new connections; a broadcast reaches both kinds', T, async () => {
  const fs = require('node:fs');
  const own = await h.startServer({
    plugins: { io: ioSo },
    extraEvents: [{ name: 'join', namespace: '/io', handler: 'io:io_join' },
      { name: 'bcast', namespace: '/io', handler: 'io:io_bcast' }],
  });
  try {
    const url = `${own.url}/io`;
    const json = await h.connect(url, { transports: ['websocket'] });
    const doc = structuredClone(own.doc);
    doc.socket = { serverOptions: { parser: 'msgpack' } };
    fs.writeFileSync(`${own.yamlFile}.tmp`, h.toYaml(doc));
    fs.renameSync(`${own.yamlFile}.tmp`, own.yamlFile);
    for (const deadline = Date.now() + 5000; !/reload #\d+ done/.test(own.stderr());) {
      if (Date.now() > deadline) throw new Error(`no reload:\n${own.stderr()}`);
      await h.sleep(10);
    }
    const packed = await h.connect(url, mp({ transports: ['polling'] }));
    await call(json, 'join', 'both');
    await call(packed, 'join', 'both');
    const got = [h.next(json, 'news'), h.next(packed, 'news')];
    const payload = ['hello', { n: 1.5, list: [1, 'two', null], bin: bytes(40, 3) }];
    assert.deepEqual(await call(packed, 'bcast', { sel: { rooms: ['both'] }, event: 'news', args: payload }), [2]);
    assert.deepEqual(await got[0], payload);
    assert.deepEqual(await got[1], payload);
    assert.ok(json.connected && packed.connected);
  } finally {
    h.closeAll();
    const { code } = await own.stop();
    assert.equal(code, 0);
    assert.equal(h.sanitizerReport(own.stderr()), null);
  }
});
