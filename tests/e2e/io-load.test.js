'use strict';
// The io API under fan-out: 1000 stock socket.io-client sockets (WebSocket)
// in one room each receive every one of 100 broadcasts, in order, none lost
// or duplicated.  See io.test.js for the plugin.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./helpers');

const CLIENTS = 1000;
const BROADCASTS = 100;
const io = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');

const srv = h.serverFor(test, {
  plugins: { io },
  events: [
    { name: 'connection', handler: 'io:io_connection' }, // joins the rooms in auth.join
    { name: 'bcast', handler: 'io:io_bcast' },
  ],
  startTimeout: 10000,
});
test.afterEach(() => h.closeAll());

test(`${CLIENTS} clients in one room each receive all ${BROADCASTS} broadcasts, in order, once`, { timeout: 120000 }, async (t) => {
  const t0 = Date.now();
  const clients = await h.connectMany(srv().url, CLIENTS, { transports: ['websocket'], auth: { join: 'big' } }, 100, 30000);
  const connectedMs = Date.now() - t0;

  const got = clients.map(() => []);
  let total = 0;
  let done;
  const all = new Promise((resolve) => { done = resolve; });
  clients.forEach((c, i) => c.on('n', (n, payload) => {
    got[i].push(n);
    if (payload !== `payload ${n}`) got[i].push(`bad payload ${payload}`);
    if (++total === CLIENTS * BROADCASTS) done();
  }));
  // Every client must have joined before the first broadcast: the welcome
  // comes after the connection handler's join.
  await Promise.all(clients.map((c) => c.welcome));

  const driver = await h.connect(srv().url, { transports: ['websocket'] });
  const t1 = Date.now();
  const counts = await Promise.all(Array.from({ length: BROADCASTS }, (_, n) =>
    driver.timeout(60000).emitWithAck('bcast', { sel: { rooms: ['big'] }, event: 'n', args: [n, `payload ${n}`] })));
  counts.forEach((c, n) => assert.deepEqual(c, [CLIENTS], `broadcast ${n} went to ${c} sockets`));

  let timer;
  const timeout = new Promise((resolve) => { timer = setTimeout(resolve, 60000, 'timeout'); });
  const outcome = await Promise.race([all, timeout]);
  clearTimeout(timer);
  const deliveredMs = Date.now() - t1;
  await h.sleep(200); // anything duplicated would show up now
  const expected = Array.from({ length: BROADCASTS }, (_, n) => n);
  const wrong = got.map((g, i) => [i, g]).filter(([, g]) => g.length !== BROADCASTS || g.some((n, k) => n !== k));
  assert.equal(wrong.length, 0,
    `${wrong.length} clients got the wrong sequence (${outcome === 'timeout' ? 'timed out' : 'complete'}); first: ` +
    `client ${wrong[0] && wrong[0][0]} got ${JSON.stringify(wrong[0] && wrong[0][1])}, expected ${JSON.stringify(expected)}`);
  assert.equal(total, CLIENTS * BROADCASTS);
  assert.ok(clients.every((c) => c.connected), 'a client was disconnected');
  t.diagnostic(`connect ${connectedMs} ms, deliver ${deliveredMs} ms`);
});
