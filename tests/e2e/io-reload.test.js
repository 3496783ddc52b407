'use strict';
// The io API across a hot reload of the plugin that uses it: what a version
// registered either stops with it (timers) or is finished by its own code
// (ack callbacks, work done callbacks); what the host owns (rooms, socket
// data) survives.  The `io` test plugin is built twice, libio_a.so and
// libio_b.so (tests/plugins/io); the live file is swapped between them the
// way a build system installs a file (write elsewhere, rename into place).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 60000 };
const PIO_OK = 0;
const build = (id) => path.join(h.BUILD, 'tests', 'plugins', 'io', `libio_${id}.so`);
const EVENTS = ['join', 'bcast', 'bcast_ack', 'ask', 'data_set', 'data_get', 'in_room', 'timer', 'work', 'build'];

async function startIoServer() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-io-reload-'));
  const live = path.join(dir, 'libio.so');
  fs.copyFileSync(build('a'), live);
  const srv = await h.startServer({
    plugins: { io: live },
    events: [
      { name: 'connection', handler: 'io:io_connection' },
      ...EVENTS.map((name) => ({ name, handler: `io:io_${name}` })),
    ],
  });
  srv.live = live;
  return srv;
}

const install = (srv, id) => h.installByRename(build(id), srv.live);

const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);

/* Ask `build` until build `id` answers. */
async function waitForBuild(socket, id, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await call(socket, 'build') === id) return;
    if (Date.now() > deadline) throw new Error(`build ${id} never answered`);
    await h.sleep(5);
  }
}

async function until(pred, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await h.sleep(10);
  }
}

test('timers stop when their version is replaced; the new version\'s load hook starts its own', T, async () => {
  const srv = await startIoServer();
  try {
    const a = await h.connect(srv.url, { transports: ['websocket'] });
    await call(a, 'join', ['beats', 'ticks']);
    const beats = h.collect(a, 'beat');
    const ticks = h.collect(a, 'tick');
    // A repeating timer started by a request, not by the load hook.
    assert.ok(await call(a, 'timer', { delay: 50, repeat: 50, room: 'ticks' }) > 0);
    await until(() => beats.length >= 2 && ticks.length >= 2, 'beats and ticks from build a');
    assert.ok(beats.every((b) => b === 'a'));
    assert.ok(ticks.every((t) => t.build === 'a'));

    install(srv, 'b');
    await waitForBuild(a, 'b');
    // Whatever build a's timers sent before the swap arrived before this
    // answer (one connection keeps its order); nothing may follow it.
    const ticksAtSwap = ticks.length;
    const beatsAtSwap = beats.length;
    await h.sleep(700);
    await call(a, 'build'); // everything sent in those 700 ms is in now

    assert.equal(ticks.length, ticksAtSwap, `build a's request timer fired after a was replaced: ${JSON.stringify(ticks.slice(ticksAtSwap))}`);
    const after = beats.slice(beatsAtSwap);
    assert.deepEqual(after.filter((b) => b !== 'b'), [], `build a's load-hook timer beat after a was replaced`);
    assert.ok(after.length >= 3, `build b's load hook timer beat ${after.length} times in 700 ms at 100 ms`);
    const firstB = beats.indexOf('b');
    assert.deepEqual(beats.slice(firstB).filter((b) => b !== 'b'), [], 'an "a" beat came after the first "b" beat');
    assert.equal(a.connected, true);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('rooms and socket data are the host\'s: they survive a reload', T, async () => {
  const srv = await startIoServer();
  try {
    const a = await h.connect(srv.url, { transports: ['websocket'] });
    const b = await h.connect(srv.url, { transports: ['websocket'] });
    await call(a, 'join', 'kept-room');
    assert.equal(await call(a, 'data_set', 'kept', { v: 1, s: 'x' }), PIO_OK);
    install(srv, 'b');
    await waitForBuild(a, 'b');
    assert.deepEqual(await call(a, 'data_get', 'kept'), { v: 1, s: 'x' });
    assert.equal(await call(a, 'in_room', 'kept-room'), 1);
    const got = h.next(a, 'hello');
    assert.deepEqual(await call(b, 'bcast', { sel: { rooms: ['kept-room'] }, event: 'hello', args: ['after'] }), [1]);
    assert.deepEqual(await got, ['after']);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('a broadcast ack and a work item started by the old version finish in the old version\'s code', T, async () => {
  const srv = await startIoServer();
  try {
    const a = await h.connect(srv.url, { transports: ['websocket'] });
    const b = await h.connect(srv.url, { transports: ['websocket'] });
    await call(b, 'join', 'voters');
    let answer;
    const asked = new Promise((resolve) => b.once('vote', (q, ack) => { answer = ack; resolve(q); }));
    const acked = h.next(a, 'bcast_acked', 15000);
    const worked = h.next(a, 'worked', 15000);
    assert.equal(await call(a, 'bcast_ack', { sel: { rooms: ['voters'] }, event: 'vote', args: ['q'], timeout: 10000 }), 1);
    assert.equal(await call(a, 'work', { ms: 1000, n: 3 }), PIO_OK);
    assert.equal(await asked, 'q');

    install(srv, 'b');
    await waitForBuild(a, 'b');
    answer('yes');
    assert.deepEqual((await acked)[0], { code: PIO_OK, replies: ['yes'], build: 'a' });
    const [done] = await worked;
    assert.equal(done.build, 'a');
    assert.equal(done.result, 14);
    assert.equal(done.doneOnLoop, true);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('an old version finishing an ack after the swap cannot start a timer that would outlive its code', T, async () => {
  const srv = await startIoServer();
  try {
    const a = await h.connect(srv.url, { transports: ['websocket'] });
    const b = await h.connect(srv.url, { transports: ['websocket'] });
    let answer;
    const asked = new Promise((resolve) => b.once('question', (q, ack) => { answer = ack; resolve(q); }));
    const result = h.next(a, 'asked', 15000);
    assert.equal(await call(a, 'ask', { id: b.id, event: 'question', args: ['q'], timeout: 10000, timer_after: true }), PIO_OK);
    assert.equal(await asked, 'q');
    install(srv, 'b');
    await waitForBuild(a, 'b');
    answer('late');
    const [r] = await result;
    assert.equal(r.build, 'a', 'the old version ran its own callback');
    assert.equal(r.code, PIO_OK);
    assert.equal(r.timer, false, 'the retired version was refused a timer');
    // The new version is not limited.
    let answer2;
    const asked2 = new Promise((resolve) => b.once('question', (q, ack) => { answer2 = ack; resolve(q); }));
    const result2 = h.next(a, 'asked', 15000);
    assert.equal(await call(a, 'ask', { id: b.id, event: 'question', args: ['q2'], timeout: 10000, timer_after: true }), PIO_OK);
    await asked2;
    answer2('now');
    const [r2] = await result2;
    assert.equal(r2.build, 'b');
    assert.equal(r2.timer, true);
    await h.sleep(200); // the old code is unmapped by now; nothing of it may run
    assert.doesNotMatch(srv.stderr(), /late timer of build a fired/);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});
