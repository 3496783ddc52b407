'use strict';
// Transports: polling, websocket, the upgrade, and the options that restrict them.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 15000 };

test.describe('default server', () => {
  // server.headers names the custom request headers kept for plugins
  // (libwebsockets enumerates only the headers it knows).
  const srv = h.serverFor(test, { server: { headers: ['X-Test'] } });
  test.afterEach(() => h.closeAll());

  test('a default client connects with polling, then upgrades to websocket', T, async () => {
    const socket = h.client(srv().url);
    const upgraded = h.next(socket.io.engine, 'upgrade');
    await h.next(socket, 'connect');
    await upgraded;
    assert.equal(socket.io.engine.transport.name, 'websocket');
    const welcome = await socket.welcome;
    assert.equal(welcome.id, socket.id);
    assert.deepEqual(await h.ackAll(socket, 'echo', 'after upgrade', 42), ['after upgrade', 42]);
    const hs = await socket.timeout(3000).emitWithAck('handshake');
    assert.equal(hs.transport, 'websocket', 'the server sees the upgraded transport');
  });

  test('the first transport of a default client is polling', T, async () => {
    const socket = h.client(srv().url);
    assert.equal(socket.io.engine.transport.name, 'polling');
    const welcome = await socket.welcome;
    assert.ok(welcome.transport === 'polling' || welcome.transport === 'websocket');
  });

  for (const transport of ['websocket', 'polling']) {
    test(`a ${transport}-only client connects and gets acks`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport] });
      assert.equal(socket.io.engine.transport.name, transport);
      const welcome = await socket.welcome;
      assert.equal(welcome.transport, transport);
      assert.equal(welcome.id, socket.id);
      assert.deepEqual(await h.ackAll(socket, 'echo', { a: [1, 'two', null, true] }),
        [{ a: [1, 'two', null, true] }]);
      const hs = await socket.timeout(3000).emitWithAck('handshake');
      assert.equal(hs.transport, transport);
      assert.equal(socket.io.engine.transport.name, transport, 'no upgrade was attempted');
    });

    test(`an unacked emit over ${transport} comes back as an 'echo' event`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport] });
      const echoed = h.next(socket, 'echo');
      socket.emit('echo', 'ping', { n: 1 });
      assert.deepEqual(await echoed, ['ping', { n: 1 }]);
    });
  }

  for (const transport of ['websocket', 'polling']) {
    test(`the handshake handler sees query, User-Agent, address and transport (${transport})`, T, async () => {
      const socket = await h.connect(srv().url, {
        transports: [transport],
        query: { foo: 'bar', n: '7' },
        extraHeaders: { 'User-Agent': 'plugio-e2e/1.0' },
      });
      const hs = await socket.timeout(3000).emitWithAck('handshake');
      assert.equal(hs.id, socket.id);
      assert.equal(hs.nsp, '/');
      assert.equal(hs.query.foo, 'bar');
      assert.equal(hs.query.n, '7');
      assert.equal(hs.query.EIO, '4');
      assert.equal(hs.query.transport, transport);
      assert.equal(hs.userAgent, 'plugio-e2e/1.0');
      assert.match(hs.address, /^(::ffff:)?127\.0\.0\.1$/);
      assert.equal(hs.transport, transport);
    });

    test(`the handshake handler sees a custom request header named in server.headers (${transport})`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport], extraHeaders: { 'X-Test': 'hello header' } });
      const hs = await socket.timeout(3000).emitWithAck('handshake');
      assert.equal(hs.header, 'hello header', 'pio_socket_header(socket, "X-Test")');
    });
  }

  test('the handshake announces the default heartbeat (25 s / 20 s) and maxPayload (1e6)', T, async () => {
    const open = await new h.RawPolling(srv().url).handshake();
    assert.equal(open.pingInterval, 25000);
    assert.equal(open.pingTimeout, 20000);
    assert.equal(open.maxPayload, 1000000);
    assert.deepEqual(open.upgrades, ['websocket']);
  });
});

test.describe('short heartbeat (pingInterval 200, pingTimeout 300)', () => {
  const srv = h.serverFor(test, { serverOptions: { pingInterval: 200, pingTimeout: 300 } });
  test.afterEach(() => h.closeAll());

  for (const transport of ['websocket', 'polling']) {
    test(`a ${transport} client answers pings and stays connected`, T, async () => {
      const socket = await h.connect(srv().url, { transports: [transport] });
      let pings = 0;
      socket.io.engine.on('ping', () => pings++);
      let disconnected = null;
      socket.on('disconnect', (reason) => { disconnected = reason; });
      await h.sleep(2000);
      assert.equal(disconnected, null, 'the client was disconnected');
      assert.ok(pings >= 5, `expected at least 5 pings in 2 s, got ${pings}`);
      assert.deepEqual(await h.ackAll(socket, 'echo', 'still here'), ['still here']);
    });
  }
});

test.describe('transports: [websocket]', () => {
  const srv = h.serverFor(test, { serverOptions: { transports: ['websocket'] } });
  test.afterEach(() => h.closeAll());

  test('a polling-only client cannot connect', T, async () => {
    const socket = h.client(srv().url, { transports: ['polling'] });
    const err = await h.connectError(socket);
    assert.ok(err instanceof Error);
  });

  test('a polling handshake gets 400 "Transport unknown"', T, async () => {
    const res = await fetch(`${srv().url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 400);
    assert.deepEqual(await res.json(), { code: 0, message: 'Transport unknown' });
  });

  test('a websocket client connects and gets acks', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    assert.equal(socket.io.engine.transport.name, 'websocket');
    assert.deepEqual(await h.ackAll(socket, 'echo', 'ws'), ['ws']);
  });
});

test.describe('transports: [polling]', () => {
  const srv = h.serverFor(test, { serverOptions: { transports: ['polling'] } });
  test.afterEach(() => h.closeAll());

  test('the handshake offers no upgrade and a default client stays on polling', T, async () => {
    const socket = await h.connect(srv().url);
    await socket.welcome;
    await h.sleep(500);
    assert.equal(socket.io.engine.transport.name, 'polling');
    assert.deepEqual(await h.ackAll(socket, 'echo', 'p'), ['p']);
  });

  test('a websocket-only client cannot connect', T, async () => {
    const socket = h.client(srv().url, { transports: ['websocket'] });
    await h.connectError(socket);
  });
});

test.describe('allowUpgrades: false', () => {
  const srv = h.serverFor(test, { serverOptions: { allowUpgrades: false } });
  test.afterEach(() => h.closeAll());

  test('the handshake lists no upgrades', T, async () => {
    const raw = new h.RawPolling(srv().url);
    const open = await raw.handshake();
    assert.deepEqual(open.upgrades, []);
  });

  test('a default client stays on polling', T, async () => {
    const socket = await h.connect(srv().url);
    let upgraded = false;
    socket.io.engine.on('upgrade', () => { upgraded = true; });
    await socket.welcome;
    await h.sleep(700);
    assert.equal(upgraded, false);
    assert.equal(socket.io.engine.transport.name, 'polling');
    assert.deepEqual(await h.ackAll(socket, 'echo', 'still polling'), ['still polling']);
  });

  test('a websocket-only client still connects', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    assert.deepEqual(await h.ackAll(socket, 'echo', 1), [1]);
  });
});

test.describe('path: /custom-path', () => {
  const srv = h.serverFor(test, { serverOptions: { path: '/custom-path' } });
  test.afterEach(() => h.closeAll());

  for (const transport of ['polling', 'websocket']) {
    test(`a ${transport} client using the path connects`, T, async () => {
      const socket = await h.connect(srv().url, { path: '/custom-path', transports: [transport] });
      assert.deepEqual(await h.ackAll(socket, 'echo', 'pathed'), ['pathed']);
    });
  }

  test('the default path is not served', T, async () => {
    const res = await fetch(`${srv().url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    assert.notEqual(res.status, 200);
    const body = await res.text();
    assert.ok(!body.startsWith('0{'), `got an open packet on the wrong path: ${body}`);
  });
});
