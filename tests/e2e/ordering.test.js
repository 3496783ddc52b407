'use strict';
// Events from one client reach the handlers in the order they were emitted.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 30000 };
const N = 500;
const srv = h.serverFor(test);
test.afterEach(() => h.closeAll());

const range = (n) => Array.from({ length: n }, (_, i) => i + 1);

for (const transport of ['websocket', 'polling']) {
  test(`${N} events emitted back to back are handled in order (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    for (const i of range(N)) socket.emit('record', i);
    const seen = await socket.timeout(10000).emitWithAck('replay');
    assert.deepEqual(seen, range(N));
  });

  test(`${N} acked events: acks arrive in order and the handler ran in order (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const acks = [];
    await Promise.all(range(N).map((i) => new Promise((resolve, reject) => {
      socket.timeout(10000).emit('seq', i, (err, pair) => {
        if (err) return reject(err);
        acks.push(pair);
        resolve();
      });
    })));
    assert.deepEqual(acks.map(([i]) => i), range(N), 'acks in emission order');
    const seqs = acks.map(([, s]) => s);
    for (let k = 1; k < seqs.length; k++) {
      assert.equal(seqs[k], seqs[k - 1] + 1, `handler order broken at ${k}: ${seqs[k - 1]} then ${seqs[k]}`);
    }
  });

  test(`server events to one client arrive in order (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const got = [];
    socket.on('echo', (i) => got.push(i));
    for (const i of range(N)) socket.emit('echo', i);
    const deadline = Date.now() + 10000;
    while (got.length < N && Date.now() < deadline) await h.sleep(20);
    assert.deepEqual(got, range(N));
  });
}

test('ordering holds across the upgrade from polling to websocket', T, async () => {
  const socket = h.client(srv().url);
  await h.next(socket, 'connect');
  // emit while the upgrade is under way: nothing may be lost or reordered
  for (const i of range(N)) {
    socket.emit('record', i);
    if (i % 50 === 0) await h.sleep(5);
  }
  const seen = await socket.timeout(10000).emitWithAck('replay');
  assert.deepEqual(seen, range(N));
});

test('two clients interleaving keep their own order', T, async () => {
  const a = await h.connect(srv().url, { transports: ['websocket'] });
  const b = await h.connect(srv().url, { transports: ['polling'] });
  for (const i of range(200)) {
    a.emit('record', i);
    b.emit('record', 1000 + i);
  }
  const [sa, sb] = await Promise.all([
    a.timeout(10000).emitWithAck('replay'),
    b.timeout(10000).emitWithAck('replay'),
  ]);
  assert.deepEqual(sa, range(200));
  assert.deepEqual(sb, range(200).map((i) => 1000 + i));
});
