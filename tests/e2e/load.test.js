'use strict';
// Many concurrent clients, every answer checked against what that client sent.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const srv = h.serverFor(test);
test.afterEach(() => h.closeAll());

async function run(url, { clients, events, transport }) {
  const sockets = await Promise.all(
    Array.from({ length: clients }, () => h.connect(url, transport ? { transports: [transport] } : {}, 20000)),
  );
  const ids = new Set(sockets.map((s) => s.id));
  assert.equal(ids.size, clients, 'every client has its own socket id');
  const disconnects = [];
  sockets.forEach((s, c) => s.on('disconnect', (reason) => disconnects.push(`client ${c}: ${reason}`)));

  let checked = 0;
  await Promise.all(sockets.map(async (socket, c) => {
    const jobs = [];
    for (let i = 0; i < events; i++) {
      const sent = { client: c, i, id: socket.id, pad: `${c}:${i}:`.repeat(1 + (i % 5)) };
      jobs.push(h.ackAll(socket, 'echo', sent, i).then((got) => {
        assert.deepEqual(got, [sent, i], `client ${c} event ${i}`);
        checked++;
      }));
    }
    await Promise.all(jobs);
  }));
  assert.equal(checked, clients * events);
  assert.deepEqual(disconnects, []);
  for (const s of sockets) s.close();
}

test('200 websocket clients x 100 acked events each', { timeout: 90000 }, async () => {
  await run(srv().url, { clients: 200, events: 100, transport: 'websocket' });
});

test('50 polling clients x 20 acked events each', { timeout: 90000 }, async () => {
  await run(srv().url, { clients: 50, events: 20, transport: 'polling' });
});

test('100 default clients (polling then upgrade) x 20 acked events each', { timeout: 90000 }, async () => {
  await run(srv().url, { clients: 100, events: 20, transport: undefined });
});
