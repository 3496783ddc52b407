'use strict';
// The adapter interface (SDK 1.4) as the host drives it, through the
// `adapter` test plugin (tests/plugins/adapter/adapter.c): an adapter that
// joins no other server, writes down what the host tells it and answers the
// host's requests from timers as a second server would.  What a real
// adapter does with Redis and Node.js servers is redis-adapter*.test.js.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 30000 };
const OK = 'success';
const ADAPTER = path.join(h.BUILD, 'tests', 'plugins', 'adapter', 'libadapter.so');
const EVENTS = ['log', 'fetch', 'rooms', 'sse', 'emit_ack', 'bcast', 'join_all', 'late', 'server_event'];

function options(live, config = {}) {
  const events = [];
  for (const nsp of ['/', '/chat', { match: '^/dyn-[0-9]+$' }])
    for (const name of EVENTS)
      events.push({ name, namespace: nsp, handler: `adapter:adapter_${name}` });
  return {
    plugins: { adapter: { path: live, config } },
    serverOptions: { cleanupEmptyChildNamespaces: true },
    events,
    hooks: { init: 'adapter:adapter_init' },
    serverEvents: [{ name: 'ping', handler: 'adapter:adapter_ping' }],
  };
}

async function start(config) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-adapter-'));
  const live = path.join(dir, 'libadapter.so');
  fs.copyFileSync(ADAPTER, live);
  const srv = await h.startServer(options(live, config));
  srv.live = live;
  return srv;
}

// Every argument of the ack (emitWithAck would give the first only).
const call = h.ackAll;
const one = async (...args) => (await h.ackAll(...args))[0];

let srv;
test.before(async () => { srv = await start({}); });
test.after(async () => { await h.stopChecked(srv); });
test.afterEach(async () => {
  h.closeAll();
});

async function logOf(socket) {
  return one(socket, 'log');
}

test('every namespace is announced once: the configuration\'s at install, a child when a client creates it, and taken back when it goes', T, async () => {
  const a = await h.connect(`${srv.url}/`);
  const first = await logOf(a);
  assert.ok(first.includes('created /'), first.join('\n'));
  assert.ok(first.includes('created /chat'), first.join('\n'));
  assert.equal(first.filter((l) => l === 'created /').length, 1);
  const d = await h.connect(`${srv.url}/dyn-7`);
  assert.deepEqual((await logOf(a)).filter((l) => /dyn-7/.test(l)), ['created /dyn-7']);
  d.disconnect();
  let lines = [];
  for (let i = 0; i < 100 && !lines.includes('deleted /dyn-7'); i++) {
    await h.sleep(20);
    lines = lines.concat(await logOf(a));
  }
  assert.ok(lines.includes('deleted /dyn-7'), lines.join('\n'));
});

test('a broadcast is delivered here first, then handed to the adapter with the sender as an exception and its binary inline', T, async () => {
  const a = await h.connect(srv.url);
  const b = await h.connect(srv.url);
  await logOf(a);
  await one(b, 'join_all', { room: 'r', local: true }); // b and a both join r, here only
  const got = h.next(b, 'news');
  const sent = await one(a, 'bcast', { rooms: ['r'], except: ['x'], broadcast: true }, 1, 'two', Buffer.from([7, 8, 9]));
  assert.equal(sent, 1, 'b only: a is the sender');
  const args = await got;
  assert.equal(args[0], 1);
  assert.equal(args[1], 'two');
  assert.deepEqual([...Buffer.from(args[2])], [7, 8, 9]);
  const lines = await logOf(a);
  // ["news",1,"two",<3 bytes>] in msgpack: 1 + 5 + 1 + 4 + (2 + 3) bytes.
  assert.deepEqual(lines, [
    `broadcast / rooms=r except=x,${a.id} volatile=0 ["news",1,"two",{"_placeholder":true,"num":0}] msgpack=16`,
  ]);
  await one(a, 'bcast', { volatile: true }, 'v');
  assert.deepEqual(await logOf(a), ['broadcast / rooms= except= volatile=1 ["news","v"] msgpack=8']);
});

test('what another server sent (PIO_SELECT_LOCAL) stays here: the adapter hears nothing of it', T, async () => {
  const a = await h.connect(srv.url);
  await logOf(a);
  const got = h.next(a, 'news');
  assert.equal(await one(a, 'bcast', { local: true }, 'from afar'), 1);
  assert.deepEqual(await got, ['from afar']);
  assert.equal(await one(a, 'join_all', { room: 'here', local: true }), 1);
  assert.deepEqual(await logOf(a), []);
  assert.equal(await one(a, 'join_all', { room: 'everywhere' }), 1);
  assert.deepEqual(await logOf(a), ['join / rooms= everywhere']);
});

test('fetchSockets gathers this server\'s sockets, described as socket.io does, and the other servers\'', T, async () => {
  const a = await h.connect(srv.url, { auth: { token: 't' }, query: { q: '1' } });
  await one(a, 'join_all', { room: 'r', local: true });
  const [status, sockets] = await call(a, 'fetch', { rooms: ['r'] });
  assert.equal(status, OK);
  assert.deepEqual(sockets.map((s) => s.id), [a.id, 'remote-1']);
  const mine = sockets[0];
  assert.deepEqual(mine.rooms, [a.id, 'r']);
  assert.deepEqual(mine.data, {});
  assert.deepEqual(mine.handshake.auth, { token: 't' });
  assert.equal(mine.handshake.query.q, '1');
  assert.equal(mine.handshake.query.EIO, '4');
  assert.equal(mine.handshake.address, '127.0.0.1');
  assert.equal(mine.handshake.xdomain, false);
  assert.equal(mine.handshake.secure, false);
  assert.ok(Math.abs(mine.handshake.issued - Date.now()) < 60000, `issued ${mine.handshake.issued}`);
  assert.ok(!Number.isNaN(Date.parse(mine.handshake.time)), mine.handshake.time);
  assert.match(mine.handshake.url, /^\/socket\.io\/\?/);
  assert.match(mine.handshake.url, /[?&]q=1(&|$)/);
  assert.equal(typeof mine.handshake.headers.host, 'string');
  assert.deepEqual(sockets[1].data, { from: 'remote' });
  assert.ok((await logOf(a)).includes('fetch / rooms=r'));
  // .local: this server only, answered before the call returns.
  const [st2, only] = await call(a, 'fetch', { rooms: ['r'], local: true });
  assert.equal(st2, OK);
  assert.deepEqual(only.map((s) => s.id), [a.id]);
});

test('allRooms is the union of every server\'s rooms, each name once', T, async () => {
  const a = await h.connect(srv.url);
  await one(a, 'join_all', { room: 'r', local: true });
  const [status, rooms] = await call(a, 'rooms', {});
  assert.equal(status, OK);
  assert.deepEqual([...rooms].sort(), [a.id, 'r', 'remote-room'].sort());
  const [, local] = await call(a, 'rooms', { local: true });
  assert.deepEqual([...local].sort(), [a.id, 'r'].sort());
});

test('serverSideEmit goes to the adapter only; with an ack, the replies of the other servers come back', T, async () => {
  const a = await h.connect(srv.url);
  await logOf(a);
  assert.deepEqual(await call(a, 'sse', { event: 'hello', args: [1, { x: true }] }), [OK]);
  assert.deepEqual(await logOf(a), ['server_emit / ["hello",1,{"x":true}] request=0']);
  assert.deepEqual(await call(a, 'sse', { event: 'hello', args: ['?'], ack: true }), [OK, ['remote-reply']]);
  // A reserved name is refused, as socket.io refuses it.
  assert.deepEqual(await call(a, 'sse', { event: 'disconnect', args: [] }), ['invalid argument']);
});

test('a broadcast with acks waits for this server\'s clients and for as many remote answers as the adapter announced', T, async () => {
  const a = await h.connect(srv.url);
  const b = await h.connect(srv.url);
  b.on('question', (cb) => cb('local-ack'));
  await logOf(a);
  const [status, answers] = await call(a, 'emit_ack', { timeout: 2000 });
  assert.equal(status, OK);
  assert.deepEqual([...answers].sort(), ['local-ack', 'remote-ack-1', 'remote-ack-2']);
  assert.deepEqual(await logOf(a), ['broadcast_with_ack / ["question"]']);
  // As they come (pio_broadcast_ack_each): the same answers, then the status.
  const [each, st] = await call(a, 'emit_ack', { timeout: 2000, each: true });
  assert.equal(st, OK);
  assert.deepEqual([...each].sort(), ['local-ack', 'remote-ack-1', 'remote-ack-2']);
  // .local: no remote answer is awaited.
  const [st3, local] = await call(a, 'emit_ack', { timeout: 2000, local: true });
  assert.equal(st3, OK);
  assert.deepEqual(local, ['local-ack']);
});

test('an event from another server runs its serverEvents handler with no socket; its ack is the reply', T, async () => {
  const a = await h.connect(srv.url);
  assert.deepEqual(await call(a, 'server_event', { packet: ['ping', 'x'], reply: true }), [OK, 1, OK, '"pong:x"']);
  // Without a reply wanted, the handler runs and nothing is told.
  assert.deepEqual(await call(a, 'server_event', { packet: ['ping', 'x'] }), [OK, 0, '', '']);
  // A handler that returns without acking: the adapter hears so once.
  assert.deepEqual(await call(a, 'server_event', { packet: ['ping', 'silent'], reply: true }),
    [OK, 1, 'not allowed in this state', '?']);
  // No handler for it, or no event name: refused, and no reply is made.
  assert.deepEqual(await call(a, 'server_event', { packet: ['nobody'], reply: true }), ['invalid argument', 0, '', '']);
  assert.deepEqual(await call(a, 'server_event', { packet: [3], reply: true }), ['invalid argument', 0, '', '']);
  // A client event of the same name is not a server event.
  assert.deepEqual(await call(a, 'server_event', { packet: ['log'], reply: true }), ['invalid argument', 0, '', '']);
});

test('a request the adapter never answers completes at its time limit with this server\'s part, and is closed for later answers', T, async () => {
  const quiet = await start({ answer: false });
  try {
    const a = await h.connect(quiet.url);
    const t0 = Date.now();
    const [status, sockets] = await call(a, 'fetch', { timeout: 300 });
    assert.equal(status, 'timed out');
    assert.ok(Date.now() - t0 >= 250);
    assert.deepEqual(sockets.map((s) => s.id), [a.id]);
    assert.deepEqual(await call(a, 'late'), ['socket disconnected', 'socket disconnected']);
    const [st2, answers] = await call(a, 'emit_ack', { timeout: 300 });
    assert.equal(st2, 'timed out');
    assert.deepEqual(answers, []);
    const [st3, replies] = await call(a, 'sse', { event: 'e', args: [], ack: true, timeout: 300 });
    assert.equal(st3, 'timed out');
    assert.deepEqual(replies, []);
  } finally {
    h.closeAll();
    await h.stopChecked(quiet);
  }
});

test('a request whose adapter call faults completes at once as unreachable, with this server\'s part', T, async () => {
  /* The request comes from another plugin (a second copy of the file):
   * the adapter's own version is refused once it faulted. */
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-adapter-'));
  const live = path.join(dir, 'libadapter.so'), asker = path.join(dir, 'libasker.so');
  fs.copyFileSync(ADAPTER, live);
  fs.copyFileSync(ADAPTER, asker);
  const faulty = await h.startServer({
    plugins: { adapter: { path: live, config: { fault: true } }, asker: { path: asker } },
    events: [{ name: 'fetch', handler: 'asker:adapter_fetch' }],
    hooks: { init: 'adapter:adapter_init' },
  });
  try {
    const a = await h.connect(faulty.url);
    /* A minute's limit: were the fault taken for an asked request, the
     * answer would come at the test's timeout, not now. */
    const [status, sockets] = await call(a, 'fetch', { timeout: 60000 });
    assert.equal(status, 'other servers unreachable');
    assert.deepEqual(sockets.map((s) => s.id), [a.id]);
    assert.match(faulty.stderr(), /adapter fetch_sockets raised .*\(SIGSEGV\)/);
  } finally {
    h.closeAll();
    await h.stopChecked(faulty);
  }
});

test('a new version of the adapter plugin takes the adapter over, and is told every namespace again', T, async () => {
  const own = await start({});
  try {
    const a = await h.connect(own.url);
    await logOf(a);
    const tmp = `${own.live}.tmp`;
    fs.copyFileSync(ADAPTER, tmp);
    fs.renameSync(tmp, own.live);
    let lines = [];
    for (let i = 0; i < 200 && !lines.includes('loaded again'); i++) {
      await h.sleep(20);
      lines = lines.concat(await logOf(a));
    }
    assert.ok(lines.includes('loaded again'), lines.join('\n'));
    for (let i = 0; i < 50 && !lines.includes('created /chat'); i++) lines = lines.concat(await logOf(a));
    assert.ok(lines.includes('created /'), lines.join('\n'));
    assert.ok(lines.includes('created /chat'), lines.join('\n'));
    const [status, sockets] = await call(a, 'fetch', {});
    assert.equal(status, OK);
    assert.deepEqual(sockets.map((s) => s.id), [a.id, 'remote-1']);
  } finally {
    h.closeAll();
    await h.stopChecked(own);
  }
});
