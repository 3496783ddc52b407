'use strict';
// Disconnect reasons, as the client sees them and as the disconnect handler sees them.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 15000 };
test.afterEach(() => h.closeAll());

test.describe('reasons', () => {
  const srv = h.serverFor(test);

  for (const transport of ['websocket', 'polling']) {
    test(`client socket.disconnect() -> "client namespace disconnect" (${transport})`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport] });
      const id = socket.id;
      const seen = h.next(socket, 'disconnect');
      socket.disconnect();
      assert.equal((await seen)[0], 'io client disconnect');
      assert.equal(await srv().waitForReason(id), 'client namespace disconnect');
    });

    test(`server kick -> "server namespace disconnect"; the client sees "io server disconnect" (${transport})`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport] });
      const id = socket.id;
      const seen = h.next(socket, 'disconnect');
      socket.emit('kick');
      assert.equal((await seen)[0], 'io server disconnect');
      assert.equal(await srv().waitForReason(id), 'server namespace disconnect');
    });

    test(`client engine.close() -> "transport close" (${transport})`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport] });
      const id = socket.id;
      const seen = h.next(socket, 'disconnect');
      socket.io.engine.close();
      await seen; // socket.io-client itself calls it "forced close"
      assert.equal(await srv().waitForReason(id), 'transport close');
    });
  }

  test('server kick with close: true ends the whole connection', T, async () => {
    const root = await h.connect(srv().url, { transports: ['websocket'] });
    const custom = root.io.socket('/custom');
    await h.next(custom, 'connect');
    const rootId = root.id;
    const customId = custom.id;
    const engineClosed = h.next(root.io.engine, 'close');
    const rootSeen = h.next(root, 'disconnect');
    const customSeen = h.next(custom, 'disconnect');
    root.emit('kick', { close: true });
    assert.equal((await rootSeen)[0], 'io server disconnect');
    assert.ok(['io server disconnect', 'transport close'].includes((await customSeen)[0]));
    await engineClosed;
    assert.equal(await srv().waitForReason(rootId), 'server namespace disconnect');
    assert.ok(['server namespace disconnect', 'transport close'].includes(await srv().waitForReason(customId)));
  });

  test('the websocket destroyed abruptly -> "transport close" or "transport error"', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    const id = socket.id;
    const ws = socket.io.engine.transport.ws;
    assert.ok(ws && ws._socket, 'the ws client exposes its net.Socket');
    ws._socket.destroy(); // no close frame: a dead TCP connection
    const reason = await srv().waitForReason(id);
    assert.ok(['transport close', 'transport error'].includes(reason), reason);
  });

  test('a polling client that vanishes mid-poll -> "transport close" or "transport error"', { timeout: 60000 }, async () => {
    const raw = new h.RawPolling(srv().url);
    const id = await raw.connectSio();
    // a pending GET aborted by the client: the connection closes under the server
    const ac = new AbortController();
    const pending = fetch(raw.sessionUrl, { signal: ac.signal }).catch(() => {});
    await h.sleep(200);
    ac.abort();
    await pending;
    // the Node server calls it "transport error" ("poll connection closed prematurely");
    // a ping timeout is the only other way the server may notice
    const reason = await srv().waitForReason(id, 55000);
    assert.ok(['transport close', 'transport error', 'ping timeout'].includes(reason), reason);
  });

  test('a disconnect in /custom reports the /custom socket id', T, async () => {
    const socket = await h.connect(`${srv().url}/custom`, { transports: ['websocket'] });
    const id = socket.id;
    socket.disconnect();
    assert.equal(await srv().waitForReason(id), 'client namespace disconnect');
  });
});

test.describe('ping timeout (pingInterval 300, pingTimeout 200)', () => {
  const srv = h.serverFor(test, { serverOptions: { pingInterval: 300, pingTimeout: 200 } });

  test('a websocket client that never answers pings -> "ping timeout"', T, async () => {
    const raw = new h.RawWs(srv().url);
    const id = await raw.connectSio();
    assert.equal(raw.open.pingInterval, 300);
    assert.equal(raw.open.pingTimeout, 200);
    const started = Date.now();
    const ping = await raw.take((m) => m === '2', 3000);
    assert.equal(ping, '2');
    await raw.closed; // the server gives up on us
    const elapsed = Date.now() - started;
    assert.equal(await srv().waitForReason(id), 'ping timeout');
    assert.ok(elapsed < 3000, `closed after ${elapsed} ms`);
  });

  test('a polling client that never answers pings -> "ping timeout"', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    await raw.post('40');
    const ok = await raw.take((p) => p.type === '4' && p.data.startsWith('0'), { pong: false });
    const id = h.parseSio(ok.data).data.sid;
    assert.equal(await srv().waitForReason(id, 5000), 'ping timeout');
    // the session is gone
    const after = await raw.get(3000);
    assert.equal(after.res.status, 400);
    assert.deepEqual(JSON.parse(after.text), { code: 1, message: 'Session ID unknown' });
  });

  test('a socket.io-client whose pongs are swallowed -> "ping timeout" on the server', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    const id = socket.id;
    const engine = socket.io.engine;
    assert.equal(typeof engine._sendPacket, 'function', 'engine.io-client internals changed');
    const send = engine._sendPacket.bind(engine);
    engine._sendPacket = (type, ...rest) => { if (type !== 'pong') send(type, ...rest); };
    const seen = h.next(socket, 'disconnect', 5000);
    assert.equal(await srv().waitForReason(id), 'ping timeout');
    const [reason] = await seen;
    assert.ok(['transport close', 'ping timeout'].includes(reason), reason);
  });

  test('a client that answers pings stays', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    await h.sleep(1500);
    assert.equal(socket.connected, true);
    assert.deepEqual(await h.ackAll(socket, 'echo', 'ok'), ['ok']);
  });
});

test.describe('connectTimeout 500', () => {
  const srv = h.serverFor(test, { serverOptions: { connectTimeout: 500 } });

  test('an Engine.IO session that never sends a Socket.IO CONNECT is closed', T, async () => {
    const raw = new h.RawWs(srv().url);
    await raw.opened;
    await raw.take((m) => typeof m === 'string' && m[0] === '0');
    const started = Date.now();
    await raw.closed;
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 300 && elapsed < 3000, `closed after ${elapsed} ms`);
  });

  test('a client that connects in time is not closed', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    await h.sleep(1000);
    assert.equal(socket.connected, true);
  });
});

test.describe('server shutdown (SIGTERM)', () => {
  test('clients are disconnected, the handler sees "server shutting down", the process exits 0', T, async () => {
    const srv = await h.startServer();
    const ws = await h.connect(srv.url, { transports: ['websocket'] });
    const polling = await h.connect(srv.url, { transports: ['polling'] });
    const custom = await h.connect(`${srv.url}/custom`, { transports: ['websocket'] });
    const ids = [ws.id, polling.id, custom.id];
    const seen = [ws, polling, custom].map((s) => h.next(s, 'disconnect', 5000));
    const { code, signal } = await srv.stop();
    assert.equal(code, 0, `exit code ${code} signal ${signal}\n${srv.stderr()}`);
    for (const [reason] of await Promise.all(seen)) {
      assert.ok(['transport close', 'io server disconnect'].includes(reason), reason);
    }
    for (const id of ids) assert.equal(await srv.waitForReason(id, 1000), 'server shutting down');
    assert.equal(h.sanitizerReport(srv.stderr()), null);
  });

  test('SIGINT also exits 0', T, async () => {
    const srv = await h.startServer();
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    const seen = h.next(socket, 'disconnect', 5000);
    srv.child.kill('SIGINT');
    const { code } = await srv.stop();
    assert.equal(code, 0, srv.stderr());
    await seen;
  });
});
