'use strict';
// CONNECT with an auth payload, custom namespaces, CONNECT_ERROR.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 15000 };
const srv = h.serverFor(test);
test.afterEach(() => h.closeAll());

for (const transport of ['websocket', 'polling']) {
  test(`the auth payload reaches the handlers (${transport})`, T, async () => {
    const auth = { token: 'abc', nested: { n: 1, list: [true, null, 'x'] }, unicode: 'héllo ✓ 😀' };
    const socket = await h.connect(srv().url, { transports: [transport], auth });
    const welcome = await socket.welcome;
    assert.deepEqual(welcome.auth, auth, 'on_connection read it back');
    assert.equal(welcome.nsp, '/');
    assert.deepEqual(await socket.timeout(3000).emitWithAck('auth'), auth, 'the auth handler read it back');
  });
}

test('a client without auth connects; the handler sees no payload or an empty one', T, async () => {
  const socket = await h.connect(srv().url, { transports: ['websocket'] });
  const got = await socket.timeout(3000).emitWithAck('auth');
  assert.ok(got === null || (typeof got === 'object' && Object.keys(got).length === 0),
    `expected null or {}, got ${JSON.stringify(got)}`);
});

test('the socket id in the CONNECT answer is the one handlers see', T, async () => {
  const socket = await h.connect(srv().url, { transports: ['websocket'] });
  const hs = await socket.timeout(3000).emitWithAck('handshake');
  assert.equal(typeof socket.id, 'string');
  assert.ok(socket.id.length > 0);
  assert.equal(hs.id, socket.id);
});

test('two clients get different socket ids', T, async () => {
  const a = await h.connect(srv().url, { transports: ['websocket'] });
  const b = await h.connect(srv().url, { transports: ['websocket'] });
  assert.notEqual(a.id, b.id);
});

for (const transport of ['websocket', 'polling']) {
  test(`the namespace /custom named by an event works (${transport})`, T, async () => {
    const socket = await h.connect(`${srv().url}/custom`, { transports: [transport], auth: { who: 'custom' } });
    const welcome = await socket.welcome;
    assert.equal(welcome.nsp, '/custom');
    assert.deepEqual(welcome.auth, { who: 'custom' });
    assert.deepEqual(await h.ackAll(socket, 'echo', 'in custom'), ['in custom']);
    assert.deepEqual(await socket.timeout(3000).emitWithAck('auth'), { who: 'custom' });
  });
}

test('an event bound only in "/" is not dispatched in /custom', T, async () => {
  const socket = await h.connect(`${srv().url}/custom`, { transports: ['websocket'] });
  // 'handshake' has a handler in "/" only: no ack may come back from /custom.
  await assert.rejects(socket.timeout(700).emitWithAck('handshake'));
  assert.deepEqual(await h.ackAll(socket, 'echo', 'alive'), ['alive']);
});

test('one connection multiplexes "/" and /custom', T, async () => {
  const root = h.client(srv().url, { transports: ['websocket'], auth: { where: 'root' } });
  const custom = root.io.socket('/custom', { auth: { where: 'custom' } });
  custom.welcome = new Promise((resolve) => custom.once('welcome', resolve));
  const [w1, w2] = await Promise.all([root.welcome, custom.welcome]);
  assert.equal(w1.nsp, '/');
  assert.equal(w2.nsp, '/custom');
  assert.deepEqual(w1.auth, { where: 'root' });
  assert.deepEqual(w2.auth, { where: 'custom' });
  assert.deepEqual(await root.timeout(3000).emitWithAck('auth'), { where: 'root' });
  assert.deepEqual(await custom.timeout(3000).emitWithAck('auth'), { where: 'custom' });
  assert.equal(w2.id, custom.id);
  // leaving /custom leaves "/" connected
  const customId = custom.id;
  custom.disconnect();
  assert.equal(await srv().waitForReason(customId), 'client namespace disconnect');
  assert.equal(root.connected, true);
  assert.deepEqual(await h.ackAll(root, 'echo', 'root still up'), ['root still up']);
});

for (const transport of ['websocket', 'polling']) {
  test(`an unknown namespace gets connect_error "Invalid namespace" (${transport})`, T, async () => {
    const socket = h.client(`${srv().url}/nope`, { transports: [transport] });
    const err = await h.connectError(socket);
    assert.equal(err.message, 'Invalid namespace');
    assert.equal(socket.connected, false);
  });
}

test('an unknown namespace does not break "/" on the same connection', T, async () => {
  const root = await h.connect(srv().url, { transports: ['websocket'] });
  const nope = root.io.socket('/nope');
  const err = await h.connectError(nope);
  assert.equal(err.message, 'Invalid namespace');
  assert.deepEqual(await h.ackAll(root, 'echo', 'fine'), ['fine']);
});
