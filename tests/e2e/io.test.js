'use strict';
// The io API (SDK 1.1) as clients see it: rooms, broadcasts (rooms, except,
// all but the sender, volatile), server-to-client acks (one socket, many),
// raw, server operations, socket data, connection middleware, timers,
// descriptor watches and blocking work - through the `io` test plugin
// (tests/plugins/io/io.c), whose handlers each make one SDK call and report
// what it did.
//
// "Did not receive" is always checked behind a fence: a later broadcast to
// every socket; once a client has the fence, anything sent to it before has
// arrived (a connection's packets keep their order).
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 30000 };
const PIO_OK = 0;
const PIO_EINVAL = -1;
const PIO_ECLOSED = -6;
const PIO_ETIMEDOUT = -7;

const IO_DIR = path.join(h.BUILD, 'tests', 'plugins', 'io');
const ioBuild = (id) => path.join(IO_DIR, `libio_${id}.so`);

const IO_EVENTS = ['join', 'leave', 'in_room', 'bcast', 'bcast_ack', 'ask', 'raw', 'sockets', 'rooms',
  'sjoin', 'sleave', 'sdisconnect', 'find', 'data_set', 'data_get', 'stats', 'timer', 'timer_cancel',
  'pipe', 'work', 'build'];

/* Every io event bound in namespace `nsp`, plus its connection handler. */
function ioEvents(nsp) {
  return [
    { name: 'connection', namespace: nsp, handler: 'io:io_connection' },
    ...IO_EVENTS.map((name) => ({ name, namespace: nsp, handler: `io:io_${name}` })),
  ];
}

/* Options for startServer: the io plugin at `so`, on "/", "/other" and
 * "/guarded" (which runs mw_first then mw_second). */
function ioServer(so = ioBuild('a')) {
  return {
    plugins: { io: so },
    events: [...ioEvents('/'), ...ioEvents('/other'), ...ioEvents('/guarded')],
    middleware: [
      { handler: 'io:mw_first', namespace: '/guarded' },
      { handler: 'io:mw_second', namespace: '/guarded' },
    ],
  };
}

/* The io plugin's events are acked; this waits for the answer. */
const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);

async function ws(url, opts = {}) {
  return h.connect(url, { transports: ['websocket'], ...opts });
}

/* Broadcast "fence" to every socket of `nsp` and wait until each of
 * `sockets` has it. */
async function fence(via, sockets, nsp = '/') {
  const tag = Math.random().toString(36).slice(2);
  const got = sockets.map((s) => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`fence ${tag} did not reach ${s.id}`)), 5000);
    const on = (t) => {
      if (t !== tag) return;
      clearTimeout(timer);
      s.off('fence', on);
      resolve();
    };
    s.on('fence', on);
  }));
  await call(via, 'bcast', { sel: { nsp }, event: 'fence', args: [tag] });
  await Promise.all(got);
}

const sorted = (a) => [...a].sort();

const srv = h.serverFor(test, ioServer());
test.afterEach(() => h.closeAll());

/* ---- rooms ---------------------------------------------------------- */

test('rooms: join and leave; every socket is in its own id room', T, async () => {
  const a = await ws(srv().url);
  assert.deepEqual(sorted(await call(a, 'join', ['red', 'blue'])), sorted([a.id, 'red', 'blue']));
  assert.equal(await call(a, 'in_room', 'red'), 1);
  assert.equal(await call(a, 'in_room', a.id), 1);
  assert.deepEqual(sorted(await call(a, 'leave', 'red')), sorted([a.id, 'blue']));
  assert.equal(await call(a, 'in_room', 'red'), 0);
  // Joining twice is one membership.
  await call(a, 'join', 'blue');
  const rooms = await call(a, 'rooms');
  assert.equal(rooms.blue, 1);
  assert.equal(rooms[a.id], 1);
});

test('rooms isolate traffic: each room\'s broadcast reaches its members only, once', T, async () => {
  const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => ws(srv().url)));
  await call(a, 'join', 'iso-red');
  await call(b, 'join', 'iso-blue');
  await call(c, 'join', ['iso-red', 'iso-blue']);
  const got = [a, b, c, d].map((s) => h.collect(s, 'color'));

  assert.deepEqual(await call(d, 'bcast', { sel: { rooms: ['iso-red'] }, event: 'color', args: ['to red'] }), [2]);
  assert.deepEqual(await call(d, 'bcast', { sel: { rooms: ['iso-blue'] }, event: 'color', args: ['to blue'] }), [2]);
  assert.deepEqual(await call(d, 'bcast', { sel: { rooms: ['iso-red', 'iso-blue'] }, event: 'color', args: ['to both'] }), [3]);
  assert.deepEqual(await call(d, 'bcast', { sel: { rooms: ['nobody-here'] }, event: 'color', args: ['to none'] }), [0]);
  await fence(d, [a, b, c, d]);

  assert.deepEqual(got[0], ['to red', 'to both']);
  assert.deepEqual(got[1], ['to blue', 'to both']);
  assert.deepEqual(got[2], ['to red', 'to blue', 'to both'], 'a member of two rooms gets a two-room broadcast once');
  assert.deepEqual(got[3], []);
});

test('rooms are per namespace: a room of "/" does not reach the same room of "/other"', T, async () => {
  const a = await ws(srv().url);
  const other = await ws(`${srv().url}/other`);
  await call(a, 'join', 'ns-red');
  await call(other, 'join', 'ns-red');
  const gotA = h.collect(a, 'color');
  const gotOther = h.collect(other, 'color');
  assert.deepEqual(await call(a, 'bcast', { sel: { rooms: ['ns-red'] }, event: 'color', args: ['slash'] }), [1]);
  assert.deepEqual(await call(other, 'bcast', { sel: { rooms: ['ns-red'] }, event: 'color', args: ['other'] }), [1]);
  await fence(a, [a]);
  await fence(other, [other], '/other');
  assert.deepEqual(gotA, ['slash']);
  assert.deepEqual(gotOther, ['other']);
});

test('a disconnecting socket leaves all its rooms', T, async () => {
  const a = await ws(srv().url);
  const gone = await ws(srv().url);
  const goneId = gone.id;
  await call(gone, 'join', ['left-behind', 'also']);
  let rooms = await call(a, 'rooms');
  assert.equal(rooms['left-behind'], 1);
  assert.equal(rooms[goneId], 1);
  gone.close();
  const deadline = Date.now() + 5000;
  for (;;) {
    rooms = await call(a, 'rooms');
    if (!('left-behind' in rooms) && !('also' in rooms) && !(goneId in rooms)) break;
    if (Date.now() > deadline) assert.fail(`rooms still listed after disconnect: ${JSON.stringify(rooms)}`);
    await h.sleep(20);
  }
  assert.deepEqual(await call(a, 'sockets', { rooms: ['left-behind'] }), []);
});

/* ---- except, all but the sender -------------------------------------- */

test('except rooms and exclude-sender narrow a broadcast', T, async () => {
  const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => ws(srv().url)));
  await call(a, 'join', 'ex-red');
  await call(b, 'join', 'ex-blue');
  await call(c, 'join', ['ex-red', 'ex-blue']);
  const got = [a, b, c, d].map((s) => h.collect(s, 'x'));

  // red minus blue: a only (c is in both).
  assert.deepEqual(await call(d, 'bcast', { sel: { rooms: ['ex-red'], except: ['ex-blue'] }, event: 'x', args: [1] }), [1]);
  // everyone but the sender (socket.broadcast.emit).
  assert.deepEqual(await call(a, 'bcast', { sel: { exceptSender: true }, event: 'x', args: [2] }), [3]);
  // everyone but the members of red.
  assert.deepEqual(await call(d, 'bcast', { sel: { except: ['ex-red'] }, event: 'x', args: [3] }), [2]);
  // a room, but the sender (socket.to(room).emit).
  assert.deepEqual(await call(c, 'bcast', { sel: { rooms: ['ex-red'], exceptSender: true }, event: 'x', args: [4] }), [1]);
  // a room the sender is in, minus a room the sender is in: nobody.
  assert.deepEqual(await call(c, 'bcast', { sel: { rooms: ['ex-blue'], except: ['ex-red', 'ex-blue'] }, event: 'x', args: [5] }), [0]);
  await fence(d, [a, b, c, d]);

  assert.deepEqual(got[0], [1, 4]);
  assert.deepEqual(got[1], [2, 3]);
  assert.deepEqual(got[2], [2]);
  assert.deepEqual(got[3], [2, 3]);
});

/* ---- volatile -------------------------------------------------------- */

/* A raw WebSocket client in room `room` that can stop reading. */
async function rawMember(url, room) {
  const raw = new h.RawWs(url);
  await raw.connectSio();
  raw.send(`420${JSON.stringify(['join', room])}`);
  await raw.take((m) => typeof m === 'string' && m.startsWith('430'));
  return raw;
}

const isEvent = (name) => (m) => typeof m === 'string' && m.startsWith(`42["${name}"`);

test('volatile: a client that is not reading is skipped, not queued; its normal emits still arrive', T, async (t) => {
  const sender = await ws(srv().url);
  const raw = await rawMember(srv().url, 'slow');
  raw.ws.pause(); // stop reading: TCP backs up, the host's writes to it block
  const ROUNDS = 10;
  const PER_ROUND = 40;
  const SIZE = 64 * 1024;
  const sent = ROUNDS * PER_ROUND; // 400 x 64 KiB = 25 MiB, far beyond what the kernel buffers
  for (let r = 0; r < ROUNDS; r++) {
    await call(sender, 'bcast', { sel: { rooms: ['slow'], volatile: true }, event: 'v', repeat: PER_ROUND, size: SIZE });
    await h.sleep(20);
  }
  // A normal emit after them must not be dropped.
  await call(sender, 'bcast', { sel: { rooms: ['slow'] }, event: 'marker', args: ['after'] });
  raw.ws.resume();
  await raw.take(isEvent('marker'), 20000);
  const received = raw.messages.filter(isEvent('v')).length;
  raw.close();
  t.diagnostic(`${received} of ${sent} volatile packets reached the paused client`);
  assert.ok(received < sent / 4, `a paused client got ${received} of ${sent} volatile packets: they were queued`);
});

test('volatile control: the same traffic without the flag is queued for the paused client, every packet', T, async () => {
  const sender = await ws(srv().url);
  const raw = await rawMember(srv().url, 'slow-control');
  raw.ws.pause();
  const N = 100;
  for (let r = 0; r < 4; r++) {
    await call(sender, 'bcast', { sel: { rooms: ['slow-control'] }, event: 'v', repeat: N / 4, size: 64 * 1024 });
  }
  await call(sender, 'bcast', { sel: { rooms: ['slow-control'] }, event: 'marker', args: ['after'] });
  raw.ws.resume();
  await raw.take(isEvent('marker'), 20000);
  const received = raw.messages.filter(isEvent('v'));
  raw.close();
  assert.equal(received.length, N);
  // In order: [i, "xxx..."] with i = 0..N/4-1 per round.
  received.forEach((m, k) => assert.equal(JSON.parse(m.slice(2))[1], k % (N / 4)));
});

test('volatile: a client that is reading gets a volatile broadcast', T, async () => {
  const sender = await ws(srv().url);
  const [b, c] = await Promise.all([ws(srv().url), ws(srv().url)]);
  await call(b, 'join', 'idle');
  await call(c, 'join', 'idle');
  const got = [b, c].map((s) => h.next(s, 'v', 3000));
  await call(sender, 'bcast', { sel: { rooms: ['idle'], volatile: true }, event: 'v', args: ['hello'] });
  assert.deepEqual(await Promise.all(got), [['hello'], ['hello']]);
});

/* ---- server-to-client acks ------------------------------------------ */

test('server -> one client ack: the answer comes back; silence times out', T, async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => ws(srv().url)));
  b.on('question', (x, ack) => ack({ from: 'b', x }));
  c.on('question', () => {}); // never answers

  const answered = h.next(a, 'asked');
  assert.equal(await call(a, 'ask', { id: b.id, event: 'question', args: [42], timeout: 3000 }), PIO_OK);
  assert.deepEqual(await answered, [{ code: PIO_OK, reply: [{ from: 'b', x: 42 }], from: b.id, build: 'a' }]);

  const silent = h.next(a, 'asked');
  const t0 = Date.now();
  assert.equal(await call(a, 'ask', { id: c.id, event: 'question', args: [1], timeout: 300 }), PIO_OK);
  assert.deepEqual(await silent, [{ code: PIO_ETIMEDOUT, reply: [], from: c.id, build: 'a' }]);
  const took = Date.now() - t0;
  assert.ok(took >= 250 && took < 3000, `timed out after ${took} ms, asked for 300`);

  // An id nobody has.
  assert.equal(await call(a, 'ask', { id: 'no-such-socket', event: 'question', timeout: 300 }), PIO_ECLOSED);
});

test('server -> many clients ack: every answer collected; one silent client -> timeout with the others\' answers', T, async () => {
  const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => ws(srv().url)));
  for (const s of [b, c, d]) await call(s, 'join', 'poll');
  b.on('vote', (q, ack) => ack({ by: b.id, q }));
  c.on('vote', (q, ack) => ack({ by: c.id, q }));
  d.on('vote', () => {}); // never answers

  let acked = h.next(a, 'bcast_acked', 5000);
  const t0 = Date.now();
  assert.equal(await call(a, 'bcast_ack', { sel: { rooms: ['poll'] }, event: 'vote', args: ['tea?'], timeout: 500 }), 3);
  let [res] = await acked;
  const took = Date.now() - t0;
  assert.equal(res.code, PIO_ETIMEDOUT);
  assert.deepEqual(sorted(res.replies.map((r) => r.by)), sorted([b.id, c.id]));
  res.replies.forEach((r) => assert.equal(r.q, 'tea?'));
  assert.ok(took >= 400, `the timeout came after ${took} ms, asked for 500`);

  // Everyone answers: status OK, well before the timeout.
  d.removeAllListeners('vote');
  d.on('vote', (q, ack) => ack({ by: d.id, q }));
  acked = h.next(a, 'bcast_acked', 5000);
  const t1 = Date.now();
  assert.equal(await call(a, 'bcast_ack', { sel: { rooms: ['poll'] }, event: 'vote', args: ['coffee?'], timeout: 10000 }), 3);
  [res] = await acked;
  assert.equal(res.code, PIO_OK);
  assert.deepEqual(sorted(res.replies.map((r) => r.by)), sorted([b.id, c.id, d.id]));
  assert.ok(Date.now() - t1 < 5000, 'the callback waited for the timeout although everyone answered');

  // An ack with no arguments is collected as null.
  const e = await ws(srv().url);
  await call(e, 'join', 'quiet');
  e.on('vote', (q, ack) => ack());
  acked = h.next(a, 'bcast_acked', 5000);
  assert.equal(await call(a, 'bcast_ack', { sel: { rooms: ['quiet'] }, event: 'vote', args: ['?'], timeout: 3000 }), 1);
  assert.deepEqual((await acked)[0].replies, [null]);

  // Nobody addressed: the callback still runs, at once, with nothing.
  acked = h.next(a, 'bcast_acked', 5000);
  assert.equal(await call(a, 'bcast_ack', { sel: { rooms: ['empty'] }, event: 'vote', timeout: 3000 }), 0);
  assert.deepEqual((await acked)[0], { code: PIO_OK, replies: [], build: 'a' });
});

test('server -> many clients ack: a client that disconnects ends the wait early with PIO_ECLOSED', T, async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => ws(srv().url)));
  await call(b, 'join', 'leaving');
  await call(c, 'join', 'leaving');
  b.on('vote', (q, ack) => ack('b'));
  c.on('vote', () => c.disconnect());
  const acked = h.next(a, 'bcast_acked', 5000);
  const t0 = Date.now();
  assert.equal(await call(a, 'bcast_ack', { sel: { rooms: ['leaving'] }, event: 'vote', args: ['?'], timeout: 1000 }), 2);
  const [res] = await acked;
  // pio_broadcast_ack_fn: PIO_ECLOSED as soon as the others have answered
  // and the rest have left - no wait for the timeout.
  assert.ok(Date.now() - t0 < 900, `answered after ${Date.now() - t0} ms, not before the 1000 ms timeout`);
  assert.deepEqual(res.replies, ['b']);
  assert.equal(res.code, PIO_ECLOSED, `status ${res.code}`);
});

/* ---- raw ------------------------------------------------------------- */

test('raw: to everyone, and to two rooms, with the payload as {data}', T, async () => {
  const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => ws(srv().url)));
  await call(a, 'join', 'r1');
  await call(b, 'join', 'r1');
  await call(c, 'join', 'r2');
  const got = [a, b, c, d].map((s) => h.collect(s, 'news', { all: true }));

  assert.equal(await call(d, 'raw', { event: 'news', data: { title: 'all', n: [1, 2] } }), 4);
  assert.equal(await call(d, 'raw', { event: 'news', rooms: ['r1', 'r2'], data: 'rooms' }), 3);
  await fence(d, [a, b, c, d]);

  const all = [{ data: { title: 'all', n: [1, 2] } }];
  const rooms = [{ data: 'rooms' }];
  assert.deepEqual(got[0], [all, rooms]);
  assert.deepEqual(got[1], [all, rooms]);
  assert.deepEqual(got[2], [all, rooms]);
  assert.deepEqual(got[3], [all]);
});

test('raw goes to "/" only', T, async () => {
  const a = await ws(srv().url);
  const other = await ws(`${srv().url}/other`);
  const got = h.collect(other, 'news');
  const toA = h.next(a, 'news');
  assert.equal(await call(other, 'raw', { event: 'news', data: 1 }) >= 1, true);
  assert.deepEqual(await toA, [{ data: 1 }]);
  await fence(other, [other], '/other');
  assert.deepEqual(got, []);
});

/* ---- server operations ----------------------------------------------- */

test('server operations: list sockets and rooms, make a selection join/leave a room, find a socket', T, async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => ws(srv().url)));
  await call(a, 'join', 'ops1');
  await call(b, 'join', 'ops1');
  await call(c, 'join', 'ops2');

  assert.deepEqual(sorted(await call(a, 'sockets', { rooms: ['ops1'] })), sorted([a.id, b.id]));
  assert.deepEqual(sorted(await call(a, 'sockets', { rooms: ['ops1', 'ops2'], except: ['ops2'] })), sorted([a.id, b.id]));
  const everyone = await call(a, 'sockets', {});
  for (const s of [a, b, c]) assert.ok(everyone.includes(s.id));
  let rooms = await call(a, 'rooms');
  assert.equal(rooms.ops1, 2);
  assert.equal(rooms.ops2, 1);
  assert.equal(rooms[c.id], 1, 'id rooms are listed');

  // socketsJoin: ops1 (a, b) joins ops3; socketsLeave: they leave ops1.
  assert.equal(await call(c, 'sjoin', { sel: { rooms: ['ops1'] }, room: 'ops3' }), 2);
  assert.deepEqual(sorted(await call(c, 'sockets', { rooms: ['ops3'] })), sorted([a.id, b.id]));
  assert.equal(await call(b, 'in_room', 'ops3'), 1, 'the socket itself sees the room');
  assert.equal(await call(c, 'sleave', { sel: { rooms: ['ops3'], exceptSender: true }, room: 'ops1' }), 2);
  rooms = await call(a, 'rooms');
  assert.equal('ops1' in rooms, false, `ops1 is left empty and gone: ${JSON.stringify(rooms)}`);
  assert.equal(rooms.ops3, 2);

  // Find a socket by id, in its namespace only.
  const found = await call(c, 'find', { id: a.id });
  assert.equal(found.id, a.id);
  assert.equal(found.nsp, '/');
  assert.deepEqual(sorted(found.rooms), sorted([a.id, 'ops3']));
  assert.equal(await call(c, 'find', { id: 'nobody' }), null);
  assert.equal(await call(c, 'find', { id: a.id, nsp: '/other' }), null);
});

test('a socket found by id and disconnected with close stays readable for the rest of the call', T, async () => {
  const [a, b] = await Promise.all([1, 2].map(() => ws(srv().url)));
  let aLeft = null;
  a.on('disconnect', (reason) => { aLeft = reason; });
  const bGone = h.next(b, 'disconnect');
  // The plugin disconnects b (closing its connection), then reads it back
  // in the same call: the host must keep it alive until the call returns.
  const bId = b.id; // b.id reads undefined once b is disconnected
  const found = await call(a, 'find', { id: bId, kick: 'close' });
  assert.equal(found.id, bId);
  assert.equal(found.nsp, '/');
  assert.deepEqual(found.rooms, [], 'a disconnected socket is in no room');
  assert.equal((await bGone)[0], 'io server disconnect');
  const aId = a.id;
  assert.equal((await call(a, 'find', { id: aId })).id, aId, 'the caller is still served');
  await h.sleep(50);
  assert.equal(aLeft, null, `the caller was disconnected too (${aLeft})`);
});

test('server operations: disconnect the sockets of a room, and close a connection', T, async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => ws(srv().url)));
  await call(b, 'join', 'kick');
  await call(c, 'join', 'kick');
  const reasons = [b, c].map((s) => h.next(s, 'disconnect'));
  assert.equal(await call(a, 'sdisconnect', { sel: { rooms: ['kick'] } }), 2);
  assert.deepEqual((await Promise.all(reasons)).map((r) => r[0]), ['io server disconnect', 'io server disconnect']);
  assert.equal(a.connected, true);
  assert.deepEqual(await call(a, 'sockets', { rooms: ['kick'] }), []);

  // Without close, only the selected namespace socket goes; with close, the
  // whole connection: the client's other namespace too (socket.io sends
  // each a DISCONNECT, so each reports "io server disconnect").
  for (const close of [false, true]) {
    const d = await ws(srv().url);
    const dOther = d.io.socket('/other');
    if (!dOther.connected) await new Promise((resolve) => dOther.once('connect', resolve));
    await call(d, 'join', 'close-me');
    const gone = h.next(d, 'disconnect');
    const otherGone = h.next(dOther, 'disconnect', 1000).then((r) => r[0], () => 'still connected');
    assert.equal(await call(a, 'sdisconnect', { sel: { rooms: ['close-me'] }, close }), 1);
    assert.equal((await gone)[0], 'io server disconnect');
    const other = await otherGone;
    if (close) assert.match(other, /^(io server disconnect|transport close)$/);
    else assert.equal(other, 'still connected');
    dOther.close();
    d.close();
  }
});

/* ---- socket data ----------------------------------------------------- */

test('socket data: set, read back (by its socket and by another), remove', T, async () => {
  const [a, b] = await Promise.all([ws(srv().url), ws(srv().url)]);
  assert.equal(await call(a, 'data_get', 'profile'), null);
  assert.equal(await call(a, 'data_set', 'profile', { name: 'Ada', langs: ['c', 'js'] }), PIO_OK);
  assert.equal(await call(a, 'data_set', 'n', 7), PIO_OK);
  assert.deepEqual(await call(a, 'data_get', 'profile'), { name: 'Ada', langs: ['c', 'js'] });
  assert.deepEqual(await call(b, 'data_get', 'profile', a.id), { name: 'Ada', langs: ['c', 'js'] });
  assert.equal(await call(b, 'data_get', 'profile'), null, 'data is per socket');
  assert.equal(await call(a, 'data_set', 'profile', 'replaced'), PIO_OK);
  assert.equal(await call(a, 'data_get', 'profile'), 'replaced');
  assert.equal(await call(a, 'data_set', 'profile'), PIO_OK); // no value: remove
  assert.equal(await call(a, 'data_get', 'profile'), null);
  assert.equal(await call(a, 'data_get', 'n'), 7);
});

/* ---- middleware ------------------------------------------------------ */

test('middleware: a refusal reaches the client as connect_error, and no connection handler runs', T, async () => {
  const a = await ws(srv().url);
  const before = (await call(a, 'stats')).connections;

  const first = h.client(`${srv().url}/guarded`, { transports: ['websocket'], auth: { reject: 'first', message: 'no entry for you' } });
  assert.equal((await h.connectError(first)).message, 'no entry for you');
  const second = h.client(`${srv().url}/guarded`, { transports: ['websocket'], auth: { reject: 'second', message: 'second says no' } });
  assert.equal((await h.connectError(second)).message, 'second says no');
  // Over polling too.
  const polling = h.client(`${srv().url}/guarded`, { transports: ['polling'], auth: { reject: 'first', message: 'not over polling either' } });
  assert.equal((await h.connectError(polling)).message, 'not over polling either');

  assert.equal((await call(a, 'stats')).connections, before, 'a refused socket reached the connection handler');
  assert.equal(a.connected, true);
});

test('middleware: accepts in order, into the room it chose, with data a later handler reads', T, async () => {
  const g = h.client(`${srv().url}/guarded`, { transports: ['websocket'], auth: { room: 'vip' } });
  const welcome = await g.welcome;
  assert.equal(welcome.nsp, '/guarded');
  assert.deepEqual(welcome.trail, ['first', 'second'], 'both middleware ran, in the configured order, before connection');
  assert.deepEqual(sorted(welcome.rooms), sorted([g.id, 'vip']));
  assert.deepEqual(await call(g, 'data_get', 'trail'), ['first', 'second']);
  assert.equal(await call(g, 'in_room', 'vip'), 1);
  // A broadcast to the room the middleware chose reaches it.
  const other = await ws(`${srv().url}/guarded`);
  const got = h.next(g, 'hi');
  assert.deepEqual(await call(other, 'bcast', { sel: { rooms: ['vip'] }, event: 'hi', args: ['vip only'] }), [1]);
  assert.deepEqual(await got, ['vip only']);
  // "/" has no middleware: no trail.
  const plain = h.client(srv().url, { transports: ['websocket'] });
  assert.equal((await plain.welcome).trail, null);
});

/* ---- timers ---------------------------------------------------------- */

test('timers: one-shot fires once, repeating fires `times` times, a cancelled one stops', T, async () => {
  const a = await ws(srv().url);
  await call(a, 'join', 'timers');
  const ticks = h.collect(a, 'tick');
  const of = (id) => ticks.filter((t) => t.timer === id);

  const once = await call(a, 'timer', { delay: 50, repeat: 0, room: 'timers' });
  const five = await call(a, 'timer', { delay: 20, repeat: 20, times: 5, room: 'timers' });
  const forever = await call(a, 'timer', { delay: 30, repeat: 30, room: 'timers' });
  assert.ok(once > 0 && five > 0 && forever > 0);
  assert.equal(new Set([once, five, forever]).size, 3, 'timer ids are distinct');

  const deadline = Date.now() + 5000;
  while (of(five).length < 5 || of(once).length < 1 || of(forever).length < 3) {
    if (Date.now() > deadline) assert.fail(`ticks so far: ${JSON.stringify(ticks)}`);
    await h.sleep(10);
  }
  assert.equal(await call(a, 'timer_cancel', forever), PIO_OK);
  const atCancel = of(forever).length;
  await h.sleep(300);
  await fence(a, [a]);
  assert.deepEqual(of(once).map((t) => t.n), [1]);
  assert.deepEqual(of(five).map((t) => t.n), [1, 2, 3, 4, 5]);
  assert.equal(of(forever).length, atCancel, 'a cancelled timer kept firing');
  // Cancelling again, or a timer that already finished, says there is none.
  assert.equal(await call(a, 'timer_cancel', forever), PIO_EINVAL);
  assert.equal(await call(a, 'timer_cancel', once), PIO_EINVAL);
  assert.equal(await call(a, 'timer_cancel', five), PIO_EINVAL);
  assert.equal(await call(a, 'timer_cancel', 999999999), PIO_EINVAL);
});

test('timers: the load hook\'s repeating timer beats', T, async () => {
  const a = await ws(srv().url);
  await call(a, 'join', 'beats');
  const beats = h.collect(a, 'beat');
  await h.sleep(550);
  assert.ok(beats.length >= 3 && beats.length <= 7, `${beats.length} beats in 550 ms at 100 ms`);
  assert.ok(beats.every((b) => b === 'a'));
});

/* ---- descriptor watches, blocking work -------------------------------- */

test('fd watch: a pipe written and read on the host loop', T, async () => {
  const a = await ws(srv().url);
  const texts = ['hello through a pipe', 'ünïcödé ✓', 'x'.repeat(200)];
  const got = h.collect(a, 'piped');
  for (const t of texts) assert.equal(await call(a, 'pipe', t), PIO_OK);
  const deadline = Date.now() + 5000;
  while (got.length < texts.length) {
    if (Date.now() > deadline) assert.fail(`piped so far: ${JSON.stringify(got)}`);
    await h.sleep(10);
  }
  assert.deepEqual(sorted(got.map((g) => g.text)), sorted(texts));
  for (const g of got) {
    assert.equal(g.build, 'a');
    assert.ok(g.reads >= 1);
  }
});

test('work_submit: runs off the loop (which keeps serving), done comes back on the loop', T, async () => {
  const a = await ws(srv().url);
  const worked = h.next(a, 'worked', 10000);
  const t0 = Date.now();
  assert.equal(await call(a, 'work', { ms: 600, n: 1000 }), PIO_OK);
  // The loop is free while the worker sleeps: round trips stay fast.
  for (let i = 0; i < 5; i++) {
    const s = Date.now();
    assert.equal(await call(a, 'build'), 'a');
    assert.ok(Date.now() - s < 300, 'the loop was blocked by the work');
  }
  assert.ok(Date.now() - t0 < 600, 'the round trips had to wait for the work');
  const [res] = await worked;
  assert.deepEqual(res, { result: 333833500, offLoop: true, doneOnLoop: true, build: 'a' });
  assert.ok(Date.now() - t0 >= 550);

  // Many at once: each done runs once.
  const results = h.collect(a, 'worked');
  for (let n = 1; n <= 8; n++) assert.equal(await call(a, 'work', { ms: 50, n }), PIO_OK);
  const deadline = Date.now() + 5000;
  while (results.length < 8) {
    if (Date.now() > deadline) assert.fail(`worked so far: ${JSON.stringify(results)}`);
    await h.sleep(10);
  }
  await h.sleep(100);
  assert.deepEqual(sorted(results.map((r) => r.result)), sorted([1, 5, 14, 30, 55, 91, 140, 204]));
});
