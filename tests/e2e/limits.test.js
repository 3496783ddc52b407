'use strict';
// maxHttpBufferSize: a message just under the limit works, one over closes the connection.
// server.maxConnections: new sessions past it get 503, open ones go on.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 15000 };
const LIMIT = 10000;
const srv = h.serverFor(test, { serverOptions: { maxHttpBufferSize: LIMIT } });
test.afterEach(() => h.closeAll());

const CLOSED = ['transport close', 'transport error'];

test('the handshake announces maxPayload = maxHttpBufferSize', T, async () => {
  const raw = new h.RawPolling(srv().url);
  const open = await raw.handshake();
  assert.equal(open.maxPayload, LIMIT);
});

for (const transport of ['websocket', 'polling']) {
  test(`a message just under the limit is answered (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const s = 'u'.repeat(LIMIT - 200); // 42["echo","..."] plus batching overhead stays under
    assert.deepEqual(await h.ackAll(socket, 'echo', s), [s]);
  });

  test(`a message over the limit closes the connection (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const id = socket.id;
    const disconnected = h.next(socket, 'disconnect', 5000);
    let acked = false;
    socket.emit('echo', 'o'.repeat(LIMIT + 1000), () => { acked = true; });
    const [reason] = await disconnected;
    assert.equal(acked, false, 'an over-limit message was acknowledged');
    assert.ok(CLOSED.includes(reason), `client saw disconnect reason '${reason}'`);
    const serverReason = await srv().waitForReason(id);
    assert.ok(CLOSED.includes(serverReason), `handler saw '${serverReason}'`);
  });

  test(`binary attachments over the limit close the connection (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const disconnected = h.next(socket, 'disconnect', 5000);
    let acked = false;
    socket.emit('echo', Buffer.alloc(LIMIT + 1000, 7), () => { acked = true; });
    const [reason] = await disconnected;
    assert.equal(acked, false, 'an over-limit buffer was acknowledged');
    assert.ok(CLOSED.includes(reason), `client saw disconnect reason '${reason}'`);
  });
}

test('other clients are not affected by one that goes over the limit', T, async () => {
  const good = await h.connect(srv().url, { transports: ['websocket'] });
  const bad = await h.connect(srv().url, { transports: ['websocket'] });
  const gone = h.next(bad, 'disconnect', 5000);
  bad.emit('echo', 'o'.repeat(LIMIT * 3));
  await gone;
  let goodReason = null;
  good.on('disconnect', (r) => { goodReason = r; });
  assert.deepEqual(await h.ackAll(good, 'echo', 'fine'), ['fine']);
  assert.equal(goodReason, null);
});

test('a polling POST over the limit gets HTTP 413', T, async () => {
  const raw = new h.RawPolling(srv().url);
  await raw.handshake();
  const small = await raw.post('40');
  assert.equal(small.res.status, 200);
  assert.equal(small.text, 'ok');
  const big = await raw.post('4' + 'x'.repeat(LIMIT + 100));
  assert.equal(big.res.status, 413);
});

test('a polling POST at exactly the limit is accepted', T, async () => {
  const raw = new h.RawPolling(srv().url);
  await raw.handshake();
  assert.equal((await raw.post('40')).res.status, 200);
  // A message packet of exactly LIMIT bytes: '4' + a Socket.IO event padded to fit.
  const head = '42["echo","';
  const tail = '"]';
  const body = head + 'y'.repeat(LIMIT - head.length - tail.length) + tail;
  assert.equal(Buffer.byteLength(body), LIMIT);
  const res = await raw.post(body);
  assert.equal(res.res.status, 200);
  assert.equal(res.text, 'ok');
});

test.describe('server.maxConnections', () => {
  const srv = h.serverFor(test, { server: { maxConnections: 3 } });

  test('the descriptor limit is raised and logged at start', T, async () => {
    assert.match(srv().stderr(), /descriptors: soft limit \d+ \(was \d+\), hard \d+: room for \d+ connections/);
  });

  test('a new session over the limit gets 503 on either transport; open ones keep working', T, async () => {
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await h.connect(srv().url, { transports: ['websocket'] }));

    const res = await fetch(`${srv().url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('connection'), 'close');
    await res.text();

    const ws = new h.RawWs(srv().url);
    const refused = await ws.opened.then(() => 'opened', (err) => err.statusCode);
    assert.equal(refused, 503);

    const err = await h.connectError(h.client(srv().url, { transports: ['websocket'] }));
    assert.ok(err, 'socket.io-client sees a connect_error');
    for (const c of clients) assert.deepEqual(await h.ackAll(c, 'echo', 'still'), ['still']);
    for (let i = 0; i < 100 && !/refused a new session/.test(srv().stderr()); i++) await h.sleep(20);
    assert.match(srv().stderr(), /refused a new session: \d+ connections open, server\.maxConnections is 3: 503 \(\d+ refused so far\)/);

    // a place freed is a place taken
    clients.pop().close();
    let again = null;
    for (let i = 0; i < 50 && !again; i++) {
      again = await h.connect(srv().url, { transports: ['websocket'] }).catch(() => null);
      if (!again) await h.sleep(50);
    }
    assert.ok(again, 'no connection accepted after one closed');
    assert.deepEqual(await h.ackAll(again, 'echo', 'in'), ['in']);
    for (const c of [...clients, again]) c.close();
  });
});
