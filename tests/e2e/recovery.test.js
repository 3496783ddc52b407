'use strict';
// Connection state recovery (serverOptions.connectionStateRecovery), as the
// stock socket.io-client 4.8.4 sees it: the private session id in the
// CONNECT reply, an offset as the last argument of every event, and after
// a lost connection (the client's engine closed under it) the same socket
// back - id, rooms, data - with the packets it missed, replayed once, in
// order, before its 'connect'; never after an explicit disconnect, never
// after maxDisconnectionDuration, never past the log's bounds.
//
// Plugins: csr (tests/plugins/csr/csr.c: the connection handler reports
// pio_socket_recovered, a counting middleware on /mw), io (rooms,
// broadcasts, data) and e2e (disconnect reasons).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 60000 };
const IO_SO = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');
const CSR_SO = path.join(h.BUILD, 'tests', 'plugins', 'csr', 'libcsr.so');

function events(nsp) {
  return [
    { name: 'connection', namespace: nsp, handler: 'csr:csr_connection' },
    { name: 'disconnect', namespace: nsp, handler: 'e2e:on_disconnect' },
    { name: 'is_recovered', namespace: nsp, handler: 'csr:csr_is_recovered' },
    { name: 'kick', namespace: nsp, handler: 'e2e:kick' },
    ...['join', 'bcast', 'bcast_ack', 'data_set', 'data_get'].map((name) => (
      { name, namespace: nsp, handler: `io:io_${name}` })),
  ];
}

/* Server options: recovery with `csr` (undefined: the option absent),
 * and `more` server options. */
function csrServer(csr, more = {}) {
  const serverOptions = { ...more };
  if (csr !== undefined) serverOptions.connectionStateRecovery = csr;
  return {
    plugins: { io: IO_SO, csr: CSR_SO },
    serverOptions: Object.keys(serverOptions).length ? serverOptions : undefined,
    events: [...events('/'), ...events('/mw')],
    middleware: [{ handler: 'csr:csr_middleware', namespace: '/mw' }],
  };
}

const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);

/* A stock client that reconnects by itself, `delay` ms after losing its
 * connection.  helpers.closeAll forgets a socket once it disconnects, so
 * these are closed here. */
const mine = [];
function reconnecting(url, delay = 1000, opts = {}) {
  const socket = h.client(url, {
    reconnection: true, reconnectionDelay: delay, reconnectionDelayMax: delay,
    randomizationFactor: 0, ...opts,
  });
  mine.push(socket);
  return socket;
}

async function connected(socket) {
  if (!socket.connected) await h.next(socket, 'connect');
  return socket;
}

/* Every 'welcome' and 'connect' of a socket, in the order the client
 * emits them, with the 'm' events: a timeline to check order against. */
function timeline(socket) {
  const t = [];
  socket.on('connect', () => t.push('connect'));
  socket.on('m', (n) => t.push(n));
  socket.on('bin', (b, offset) => t.push(`bin ${[...h.toBuffer(b)]}${typeof offset === 'string' ? '' : ' (no offset)'}`));
  return t;
}

async function until(pred, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await h.sleep(10);
  }
}

/* Lose the connection: the client's engine closes under the socket (as
 * socket.io's own tests do); resolves once the server has seen it. */
async function loseConnection(srv, socket) {
  const id = socket.id;
  const gone = h.next(socket, 'disconnect');
  socket.io.engine.close();
  await gone;
  return srv.waitForReason(id);
}

const bcast = (via, rooms, event, args, more = {}) =>
  call(via, 'bcast', { sel: { rooms, ...more.sel }, event, args, ...more.req });

test.afterEach(() => {
  for (const s of mine.splice(0)) s.close();
  h.closeAll();
});

async function withServer(csr, fn, more) {
  const srv = await h.startServer(csrServer(csr, more));
  try {
    await fn(srv);
  } finally {
    for (const s of mine.splice(0)) s.close();
    h.closeAll();
    const { code, killedAfterMs } = await srv.stop();
    const report = h.sanitizerReport(srv.stderr());
    assert.equal(report, null, `sanitizer report:\n${srv.stderr()}`);
    assert.equal(killedAfterMs, undefined, 'plugio did not stop on SIGTERM');
    assert.equal(code, 0, `plugio exit code\n${srv.stderr()}`);
  }
}

test('recovery on: the CONNECT reply carries {sid, pid}; events carry an offset, acks and volatile ones do not', T, async () => {
  await withServer({}, async (srv) => {
    const raw = new h.RawWs(srv.url);
    await raw.opened;
    await raw.take((m) => typeof m === 'string' && m[0] === '0');
    raw.send('40');
    const ok = JSON.parse((await raw.take((m) => typeof m === 'string' && m.startsWith('40'))).slice(2));
    assert.deepEqual(Object.keys(ok).sort(), ['pid', 'sid']);
    assert.match(ok.pid, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(ok.pid, ok.sid);
    const welcome = JSON.parse((await raw.take((m) => typeof m === 'string' && m.startsWith('42'))).slice(2));
    assert.equal(welcome[0], 'welcome');
    assert.equal(welcome.length, 3, 'welcome, its object, the offset');
    assert.match(welcome[2], /^[1-9][0-9]*$/);
    raw.close();

    const a = reconnecting(srv.url);
    const [w, offset] = await h.next(a, 'welcome');
    await connected(a);
    assert.equal(w.recovered, false);
    assert.equal(typeof a._pid, 'string');
    assert.equal(typeof offset, 'string');
    assert.equal(a._lastOffset, offset);
    assert.equal(a.recovered, false);
    assert.deepEqual(await call(a, 'join', 'r1'), [a.id, 'r1']); // an ack: no offset
    const args = [];
    a.on('v', (...x) => args.push(['v', ...x]));
    a.on('m', (...x) => args.push(['m', ...x]));
    await bcast(a, ['r1'], 'v', [1], { sel: { volatile: true } });
    await bcast(a, ['r1'], 'm', [2]);
    await until(() => args.length === 2 || args.some((x) => x[0] === 'm'), 'm');
    const m = args.find((x) => x[0] === 'm');
    assert.equal(m.length, 3);
    assert.ok(BigInt(m[2]) > BigInt(offset), 'offsets grow');
    const v = args.find((x) => x[0] === 'v');
    if (v) assert.deepEqual(v, ['v', 1], 'a volatile packet has no offset');
  });
});

for (const transport of ['websocket', 'polling']) test(`a lost connection (${transport}) within the window: recovered, same id, rooms and data kept, missed packets replayed once, in order, before connect`, T, async () => {
  await withServer({ maxDisconnectionDuration: 30000 }, async (srv) => {
    const a = reconnecting(srv.url, 1000, { transports: [transport] });
    const [w1] = await h.next(a, 'welcome');
    await connected(a);
    assert.equal(w1.recovered, false);
    const id = a.id;
    const pid = a._pid;
    await call(a, 'join', 'r1');
    assert.equal(await call(a, 'data_set', 'note', 'kept'), 0);
    const b = await h.connect(srv.url);
    const t = timeline(a);
    await bcast(b, ['r1'], 'm', [0]);
    await until(() => t.includes(0), 'm 0');

    const reconnected = h.next(a, 'welcome', 20000);
    const gone = h.next(a, 'disconnect');
    a.io.engine.close();
    // Right away: the server may not know yet, and then the packet is lost
    // in flight - the offset the client presents brings it back all the same.
    await bcast(b, ['r1'], 'm', [1]);
    await gone;
    assert.equal(await srv.waitForReason(id), 'transport close');
    await bcast(b, ['r1'], 'm', [2]);
    await bcast(b, ['r1'], 'bin', [Buffer.from([7, 8, 9])]);   // binary: offset after the placeholder
    await bcast(b, ['other'], 'm', [-1]);                      // not its room
    await bcast(b, [], 'm', [3]);                              // everyone
    await bcast(b, ['r1'], 'm', [-2], { sel: { volatile: true } });   // volatile: not kept
    await bcast(b, ['r1'], 'm', [-3], { sel: { except: ['r1'] } });   // excluded
    await bcast(b, [id], 'm', [4]);                            // its id room

    const [w2] = await reconnected;
    assert.equal(a.recovered, true);
    assert.equal(a.id, id);
    assert.equal(a._pid, pid);
    assert.equal(w2.recovered, true, 'the connection handler sees pio_socket_recovered');
    assert.equal(w2.id, id);
    assert.deepEqual(w2.rooms.sort(), [id, 'r1'].sort());
    assert.equal(w2.note, 'kept');
    assert.equal(await call(a, 'is_recovered'), 1);
    assert.equal(await call(a, 'data_get', 'note'), 'kept');
    // Still in r1: a broadcast to it arrives, and behind it, nothing more.
    await bcast(b, ['r1'], 'm', [5]);
    await until(() => t.includes(5), 'm 5');
    assert.deepEqual(t, [0, 1, 2, 'bin 7,8,9', 3, 4, 'connect', 5]);
  });
});

test('with the msgpack parser: the offset travels in the MessagePack packet, and the missed packets (binary too) are replayed in that format', T, async () => {
  const parser = require('socket.io-msgpack-parser');
  await withServer({ maxDisconnectionDuration: 30000 }, async (srv) => {
    const a = reconnecting(srv.url, 1000, { transports: ['websocket'], parser });
    await connected(a);
    const id = a.id;
    await call(a, 'join', 'r1');
    const b = await h.connect(srv.url, { transports: ['websocket'], parser });
    const t = timeline(a);
    await bcast(b, ['r1'], 'm', [0]);
    await until(() => t.includes(0), 'm 0');
    const reconnected = h.next(a, 'welcome', 20000);
    const gone = h.next(a, 'disconnect');
    a.io.engine.close();
    await gone;
    await srv.waitForReason(id);
    await bcast(b, ['r1'], 'm', [1]);
    await bcast(b, ['r1'], 'bin', [Buffer.from([4, 5, 6])]);
    const [w2] = await reconnected;
    assert.equal(a.recovered, true);
    assert.equal(a.id, id);
    assert.equal(w2.recovered, true);
    await bcast(b, ['r1'], 'm', [2]);
    await until(() => t.includes(2), 'm 2');
    assert.deepEqual(t, [0, 1, 'bin 4,5,6', 'connect', 2]);
  }, { parser: 'msgpack' });
});

test('a ping timeout is recoverable: what was sent to the silent client comes back, before the CONNECT reply', T, async () => {
  await withServer({}, async (srv) => {
    const b = await h.connect(srv.url);
    const sio = (m) => typeof m === 'string' && m[0] === '4';
    const raw = new h.RawWs(srv.url);
    await raw.opened;
    await raw.take((m) => typeof m === 'string' && m[0] === '0');
    raw.send('40');
    const { sid, pid } = JSON.parse((await raw.take((m) => sio(m) && m.startsWith('40'))).slice(2));
    const welcome = JSON.parse((await raw.take((m) => sio(m) && m.startsWith('42'))).slice(2));
    const offset = welcome[welcome.length - 1];
    // It stops answering pings; what is sent from now on counts as lost.
    await bcast(b, [], 'm', [1]);
    assert.equal(await srv.waitForReason(sid, 10000), 'ping timeout');
    await bcast(b, [sid], 'm', [2]);
    raw.close();

    const again = new h.RawWs(srv.url);
    await again.opened;
    await again.take((m) => typeof m === 'string' && m[0] === '0');
    again.send(`40${JSON.stringify({ pid, offset })}`);
    await until(() => again.messages.some((m) => sio(m) && m.startsWith('42["welcome"')), 'welcome');
    const got = again.messages.filter(sio).map((m) => JSON.parse(m.slice(2)));
    assert.deepEqual(got.slice(0, 3).map((p) => (Array.isArray(p) ? p.slice(0, 2) : p)),
      [['m', 1], ['m', 2], { sid, pid }]);
    assert.ok(BigInt(got[0][2]) > BigInt(offset) && BigInt(got[1][2]) > BigInt(got[0][2]),
      'each with its offset');
    assert.equal(got[3][1].recovered, true);
    again.close();
  }, { pingInterval: 300, pingTimeout: 200 });
});

test('after maxDisconnectionDuration: a new session (new id, not recovered, no rooms, no data, nothing replayed)', T, async () => {
  await withServer({ maxDisconnectionDuration: 300 }, async (srv) => {
    const a = reconnecting(srv.url, 1500);
    await h.next(a, 'welcome');
    await connected(a);
    const id = a.id;
    await call(a, 'join', 'r1');
    await call(a, 'data_set', 'note', 'kept');
    const b = await h.connect(srv.url);
    const t = timeline(a);
    const reconnected = h.next(a, 'welcome', 20000);
    assert.equal(await loseConnection(srv, a), 'transport close');
    await bcast(b, ['r1'], 'm', [1]);
    const [w] = await reconnected;
    assert.equal(a.recovered, false);
    assert.notEqual(a.id, id);
    assert.equal(w.recovered, false);
    assert.deepEqual(w.rooms, [a.id]);
    assert.equal(w.note, null);
    await bcast(b, [], 'm', [2]);
    await until(() => t.includes(2), 'm 2');
    assert.deepEqual(t, ['connect', 2]);
  });
});

test('an explicit disconnect, by the client or by the server, is not recoverable', T, async () => {
  await withServer({}, async (srv) => {
    const b = await h.connect(srv.url);
    for (const how of ['client', 'server', 'server-close']) {
      const a = reconnecting(srv.url);
      await h.next(a, 'welcome');
      await connected(a);
      const id = a.id;
      await call(a, 'join', 'r1');
      const m0 = h.next(a, 'm');
      await bcast(b, ['r1'], 'm', [0]);
      await m0;
      assert.ok(a._lastOffset, 'the client has an offset to present');
      const gone = h.next(a, 'disconnect');
      if (how === 'client') a.disconnect();
      else a.emit('kick', { close: how === 'server-close' });
      const [reason] = await gone;
      assert.equal(reason, how === 'client' ? 'io client disconnect' : 'io server disconnect');
      assert.equal(await srv.waitForReason(id),
        how === 'client' ? 'client namespace disconnect' : 'server namespace disconnect');
      await bcast(b, ['r1'], 'm', [1]);
      const t = timeline(a);
      const again = h.next(a, 'welcome');
      a.connect();                        // same socket object: it presents {pid, offset}
      const [w] = await again;
      assert.equal(a.recovered, false, how);
      assert.notEqual(a.id, id, how);
      assert.equal(w.recovered, false);
      await bcast(b, [], 'm', [2]);
      await until(() => t.includes(2), 'm 2');
      assert.deepEqual(t, ['connect', 2], how);
      a.close();
    }
  });
});

test('middleware: skipped on recovery by default; run again (seeing the restored data) with skipMiddlewares false, and its refusal ends the recovery', T, async () => {
  for (const skip of [true, false]) {
    await withServer(skip ? {} : { skipMiddlewares: false }, async (srv) => {
      const a = reconnecting(`${srv.url}/mw`);
      const [w1] = await h.next(a, 'welcome');
      await connected(a);
      assert.equal(w1.mw, 1);
      const id = a.id;
      const reconnected = h.next(a, 'welcome', 20000);
      await loseConnection(srv, a);
      const [w2] = await reconnected;
      assert.equal(a.recovered, true);
      assert.equal(a.id, id);
      assert.equal(w2.recovered, true);
      assert.equal(w2.mw, skip ? 1 : 2, `skipMiddlewares ${skip}`);

      // A recovering client the middleware refuses gets connect_error.
      a.auth = { reject: true };
      const outcome = h.next(a, skip ? 'connect' : 'connect_error', 20000);
      await loseConnection(srv, a);
      if (skip) {
        await outcome;
        assert.equal(a.recovered, true, 'skipped: the refusing middleware never ran');
      } else {
        const [err] = await outcome;
        assert.equal(err.message, 'refused');
        assert.equal(a.connected, false);
      }
    });
  }
});

test('bounds: more packets, or more bytes, than the log keeps -> a new session; within them, every packet replayed', T, async () => {
  await withServer({}, async (srv) => {
    const b = await h.connect(srv.url);
    for (const [what, req, recovered] of [
      ['500 packets', { repeat: 500, size: 10 }, true],
      ['1001 packets', { repeat: 1001, size: 10 }, false],
      ['9 MiB', { repeat: 9, size: 1 << 20 }, false],
    ]) {
      const a = reconnecting(srv.url);
      await h.next(a, 'welcome');
      await connected(a);
      const id = a.id;
      await call(a, 'join', 'r1');
      const got = h.collect(a, 'm');
      const reconnected = h.next(a, 'welcome', 20000);
      await loseConnection(srv, a);
      await call(b, 'bcast', { sel: { rooms: ['r1'] }, event: 'm', ...req });
      await reconnected;
      assert.equal(a.recovered, recovered, what);
      assert.equal(a.id === id, recovered, what);
      await bcast(b, [a.id], 'm', ['fence']);
      await until(() => got.includes('fence'), 'fence');
      const expect = recovered ? [...Array(req.repeat).keys(), 'fence'] : ['fence'];
      assert.deepEqual(got, expect, what);
      a.close();
    }
  });
});

test('recovery off (no option): no pid, no offsets, a reconnect is a new socket', T, async () => {
  await withServer(undefined, async (srv) => {
    const a = reconnecting(srv.url);
    const welcome = await h.next(a, 'welcome');
    await connected(a);
    assert.equal(welcome.length, 1, 'no offset');
    assert.equal(a._pid, undefined);
    const id = a.id;
    const reconnected = h.next(a, 'welcome', 20000);
    await loseConnection(srv, a);
    const [w] = await reconnected;
    assert.ok(!a.recovered);
    assert.notEqual(a.id, id);
    assert.equal(w.recovered, false);
  });
});
