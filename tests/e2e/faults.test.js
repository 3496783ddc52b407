'use strict';
// A faulty plugin never takes the server down.  The `crash` test plugin
// (tests/plugins/crash) is built good (libcrash_a.so, libcrash_c.so) and
// faulty (libcrash_b.so: each event faults the way its name says).  While
// a faulty build serves, one client triggers its fault and 50 others keep
// exchanging acked events with another plugin throughout: none of them is
// disconnected or loses an ack; the faulting socket is disconnected; the
// plugin rolls back to the build before (or is disabled when there is
// none) and serves again once a fixed build is dropped in.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 60000 };
const build = (id) => path.join(h.BUILD, 'tests', 'plugins', 'crash', `libcrash_${id}.so`);
const TIMEOUT_MS = 600; /* plugins.crash.timeoutMs: how long `spin` runs before it is stopped */

const CRASH_EVENTS = {
  null: 'null_deref',
  div0: 'div_zero',
  abort: 'do_abort',
  spin: 'spin',
  stack: 'stack_overflow',
  libc: 'libc_null',
  nullcall: 'null_call',
  timer: 'timer_null',
  work: 'work_null',
  ack: 'ack_null',
  visit: 'visit_null',
  defer: 'defer',
};

async function startCrashServer(first, extra = {}, timeoutMs = TIMEOUT_MS) {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'plugio-faults-'));
  const live = path.join(dir, 'libcrash.so');
  fs.copyFileSync(build(first), live);
  const srv = await h.startServer({
    plugins: { crash: { path: live, timeoutMs } },
    extraEvents: [
      { name: 'build', handler: 'crash:build' },
      { name: 'build', namespace: '/gated', handler: 'crash:build' },
      { name: 'loaded', handler: 'crash:loaded' },
      ...Object.entries(CRASH_EVENTS).map(([name, symbol]) => ({ name, handler: `crash:${symbol}` })),
    ],
    middleware: [{ handler: 'crash:gate', namespace: '/gated' }],
    ...extra,
  });
  srv.live = live;
  return srv;
}

const install = (srv, id) => h.installByRename(build(id), srv.live);

const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);

/* Ask `build` until `want(answer)` holds (a bounded wait). */
async function waitForAnswer(socket, want, what, ms = 10000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await call(socket, 'build');
    if (want(last)) return last;
    if (Date.now() > deadline) throw new Error(`${what}: last answer ${JSON.stringify(last)}`);
    await h.sleep(20);
  }
}
const isBuild = (id) => (a) => a === id;
const isRefusal = (a) => a && typeof a === 'object' && /plugin 'crash' is unavailable/.test(a.error);

/* 50 clients, each emitting acked echoes one after another until stopped:
 * every ack must come back with what was sent, and no client may drop. */
async function bystanders(url, n = 50) {
  const sockets = await h.connectMany(url, n, (i) => ({ transports: i % 5 === 0 ? ['polling'] : ['websocket'] }), 25);
  const stats = { acks: 0, lost: [], dropped: [] };
  let running = true;
  for (const s of sockets) s.on('disconnect', (reason) => stats.dropped.push(reason));
  const loops = sockets.map(async (s, i) => {
    for (let k = 0; running; k++) {
      const sent = `${i}:${k}`;
      try {
        const got = await s.timeout(15000).emitWithAck('echo', sent);
        if (got !== sent) stats.lost.push(`${sent} answered ${JSON.stringify(got)}`);
        else stats.acks++;
      } catch (err) {
        stats.lost.push(`${sent}: ${err.message}`);
        return;
      }
    }
  });
  return {
    stats,
    async stop() {
      running = false;
      await Promise.all(loops);
      const result = { ...stats, dropped: [...stats.dropped] };
      for (const s of sockets) s.close();
      return result;
    },
  };
}

test.afterEach(() => h.closeAll());

/* The fault report names the plugin, its version, what was called, the
 * signal (or the overrun) and the way there. */
function assertReported(srv, symbol, signal) {
  const log = srv.stderr();
  const line = signal
    ? new RegExp(`ERROR crash: version b: handler ${symbol} raised .*\\(${signal}\\) at (address|pc) 0x`)
    : new RegExp(`ERROR crash: version b: handler ${symbol} ran past timeoutMs \\(${TIMEOUT_MS} ms\\)`);
  assert.match(log, line);
  assert.match(log, /ERROR crash:   #0 0x[0-9a-f]+ /, 'a backtrace follows');
  assert.match(log, /crash: version b is quarantined/);
}

const CASES = [
  ['null', 'null_deref', 'SIGSEGV'],
  ['div0', 'div_zero', 'SIGFPE'],
  ['abort', 'do_abort', 'SIGABRT'],
  ['spin', 'spin', null],
];

for (const [event, symbol, signal] of CASES) {
  test(`'${event}' (${signal || 'an endless loop'}) costs its socket and rolls back, 50 others untouched`, T, async () => {
    const srv = await startCrashServer('a');
    try {
      const watcher = await h.connect(srv.url);
      install(srv, 'b');
      await waitForAnswer(watcher, isBuild('b'), 'the faulty build never served');

      const crowd = await bystanders(srv.url);
      await h.sleep(300); /* acks flowing before the fault */
      const culprit = await h.connect(srv.url, { transports: ['websocket'] });
      const culpritId = culprit.id;
      const gone = h.next(culprit, 'disconnect', 10000);
      culprit.emit(event, 'boom', () => assert.fail('the faulting event was answered'));
      assert.equal((await gone)[0], 'io server disconnect');

      await waitForAnswer(watcher, isBuild('a'), 'never rolled back to build a');
      await h.sleep(300); /* acks flowing after it */
      const stats = await crowd.stop();
      assert.deepEqual(stats.dropped, [], 'a bystander was disconnected');
      assert.deepEqual(stats.lost, [], 'a bystander lost an ack');
      assert.ok(stats.acks >= 100, `only ${stats.acks} acks exchanged`);

      assertReported(srv, symbol, signal);
      assert.match(srv.stderr(), /WARN {2}crash: rolled back from version b to version a/);
      assert.match(srv.stderr(), new RegExp(`socket ${culpritId} leaves /: its handler for '${event}' faulted`));
      assert.equal(await srv.waitForReason(culpritId), 'server namespace disconnect');

      install(srv, 'c');
      await waitForAnswer(watcher, isBuild('c'), 'the fixed build never served');
      assert.deepEqual(await call(watcher, event), 'c', 'the fixed build answers the event');
    } finally {
      await h.stopChecked(srv);
    }
  });
}

test('with no build to roll back to, the plugin is disabled until a fixed build is loaded', T, async () => {
  const srv = await startCrashServer('b');
  try {
    const watcher = await h.connect(srv.url);
    const culprit = await h.connect(srv.url);
    const gone = h.next(culprit, 'disconnect');
    culprit.emit('null');
    assert.equal((await gone)[0], 'io server disconnect');
    /* Its events get an error ack; other plugins' events go on. */
    assert.ok(isRefusal(await call(watcher, 'build')), 'an error ack for a disabled plugin');
    assert.equal(await call(watcher, 'echo', 'still here'), 'still here');
    /* An event that wants no ack is dropped, and costs nothing. */
    watcher.emit('build');
    assert.equal(await call(watcher, 'echo', 'after'), 'after');
    /* Its middleware refuses connections, clearly. */
    const refused = await h.connectError(h.client(`${srv.url}/gated`));
    assert.match(refused.message, /plugin 'crash' is unavailable: it faulted/);
    assert.match(srv.stderr(), /ERROR crash: disabled until a new build of .*libcrash\.so is loaded/);

    install(srv, 'c');
    await waitForAnswer(watcher, isBuild('c'), 'the fixed build never served');
    const gated = await h.connect(`${srv.url}/gated`);
    assert.equal(await call(gated, 'build'), 'c');
  } finally {
    await h.stopChecked(srv);
  }
});

test('a middleware that faults refuses that connection with connect_error, and rolls back', T, async () => {
  const srv = await startCrashServer('a');
  try {
    const watcher = await h.connect(srv.url);
    install(srv, 'b');
    await waitForAnswer(watcher, isBuild('b'), 'the faulty build never served');
    const ok = await h.connect(`${srv.url}/gated`); /* no crash asked: accepted */
    const err = await h.connectError(h.client(`${srv.url}/gated`, { auth: { crash: true } }));
    assert.match(err.message, /plugin 'crash' is unavailable: it faulted/);
    await waitForAnswer(watcher, isBuild('a'), 'never rolled back to build a');
    assert.equal(await call(ok, 'build'), 'a', 'a socket the gate let in stays');
    /* Build a's gate never faults. */
    const again = await h.connect(`${srv.url}/gated`, { auth: { crash: true } });
    assert.equal(await call(again, 'build'), 'a');
    assert.match(srv.stderr(), /ERROR crash: version b: middleware gate raised .*\(SIGSEGV\)/);
  } finally {
    await h.stopChecked(srv);
  }
});

/* Faults where the plugin's code runs outside a handler, or ends in
 * another way: each is contained the same way. */
for (const [event, what] of [
  ['stack', 'handler stack_overflow raised .*\\(SIGSEGV\\)'],
  ['libc', 'handler libc_null raised .*\\(SIGSEGV\\)'],
  ['nullcall', 'handler null_call raised .*\\(SIGSEGV\\)'],
  ['timer', 'timer callback raised .*\\(SIGSEGV\\)'],
  ['work', 'work function raised .*\\(SIGSEGV\\)'],
  ['ack', 'ack callback raised .*\\(SIGSEGV\\)'],
]) {
  test(`a fault in plugin code reached by '${event}' is contained and rolled back`, T, async () => {
    const srv = await startCrashServer('a');
    try {
      const watcher = await h.connect(srv.url);
      install(srv, 'b');
      await waitForAnswer(watcher, isBuild('b'), 'the faulty build never served');
      const culprit = await h.connect(srv.url);
      culprit.on('question', (cb) => cb && cb('answer'));
      culprit.emit(event);
      await waitForAnswer(watcher, isBuild('a'), 'never rolled back to build a');
      assert.match(srv.stderr(), new RegExp(`ERROR crash: version b: ${what}`));
      assert.equal(await call(watcher, 'echo', 'alive'), 'alive');
    } finally {
      await h.stopChecked(srv);
    }
  });
}

test('what a faulted version left waiting is answered: deferred acks with an error, deferred connections refused', T, async () => {
  const srv = await startCrashServer('a');
  try {
    const watcher = await h.connect(srv.url);
    install(srv, 'b');
    await waitForAnswer(watcher, isBuild('b'), 'the faulty build never served');
    /* The faulty build never answers these by itself. */
    const waiting = await h.connect(srv.url);
    const deferred = call(waiting, 'defer');
    const pending = h.client(`${srv.url}/gated`, { auth: { defer: true } });
    const refused = h.connectError(pending, 10000);
    await h.sleep(200);
    const culprit = await h.connect(srv.url);
    culprit.emit('null');
    assert.ok(isRefusal(await deferred), 'the deferred ack is answered with an error');
    assert.match((await refused).message, /plugin 'crash' is unavailable: it faulted/);
    await waitForAnswer(watcher, isBuild('a'), 'never rolled back to build a');
    assert.equal(await call(waiting, 'build'), 'a', 'the socket that waited stays');
  } finally {
    await h.stopChecked(srv);
  }
});

test('a handler whose socket callback faults is disconnected like one that faulted itself', T, async () => {
  const srv = await startCrashServer('a');
  try {
    const watcher = await h.connect(srv.url);
    install(srv, 'b');
    await waitForAnswer(watcher, isBuild('b'), 'the faulty build never served');
    const culprit = await h.connect(srv.url);
    const gone = h.next(culprit, 'disconnect');
    culprit.emit('visit');
    assert.equal((await gone)[0], 'io server disconnect');
    await waitForAnswer(watcher, isBuild('a'), 'never rolled back to build a');
    assert.match(srv.stderr(), /ERROR crash: version b: socket callback raised .*\(SIGSEGV\)/);
    assert.equal(await call(watcher, 'echo', 'alive'), 'alive');
  } finally {
    await h.stopChecked(srv);
  }
});

test('a retired version whose late callback faults is not rolled back to', T, async () => {
  const srv = await startCrashServer('b');
  try {
    const watcher = await h.connect(srv.url);
    const asked = await h.connect(srv.url);
    const question = h.next(asked, 'question');
    asked.emit('ack'); /* build b asks back, and its ack callback will fault */
    const [answer] = await question;
    /* A fresh copy of b replaces it: the first is kept for a rollback. */
    install(srv, 'b');
    await srv.waitForLog(/reload: plugin 'crash' b -> b/);
    assert.match(srv.stderr(), /reload: plugin 'crash' b -> b/);
    answer('late'); /* the retired version's callback faults */
    await srv.waitForLog(/ack callback raised/);
    assert.match(srv.stderr(), /ERROR crash: version b: ack callback raised .*\(SIGSEGV\)/);
    /* The serving copy faults: there is nothing sound to roll back to. */
    const culprit = await h.connect(srv.url);
    const gone = h.next(culprit, 'disconnect');
    culprit.emit('null');
    assert.equal((await gone)[0], 'io server disconnect');
    await srv.waitForLog(/disabled until|rolled back/);
    assert.doesNotMatch(srv.stderr(), /rolled back from version b to version b/);
    assert.match(srv.stderr(), /ERROR crash: disabled until a new build of .*libcrash\.so is loaded/);
    assert.ok(isRefusal(await call(watcher, 'build')));
  } finally {
    await h.stopChecked(srv);
  }
});

test('a build whose load hook faults is refused, and the one serving stays', T, async () => {
  const srv = await startCrashServer('a');
  try {
    const watcher = await h.connect(srv.url);
    install(srv, 'c');
    await waitForAnswer(watcher, isBuild('c'), 'build c never served');
    assert.deepEqual(await h.ackAll(watcher, 'loaded'), ['c', 'a state'], 'a handed its state to c');
    /* The faulty load hook spoils and frees the state it is handed, then
     * faults: c must not be given that state back. */
    install(srv, 'load');
    await srv.waitForLog(/reload failed/);
    assert.match(srv.stderr(), /ERROR crash: version load: load hook raised .*\(SIGSEGV\)/);
    assert.match(srv.stderr(), /reload failed .*plugin 'crash': load hook refused: it faulted/);
    assert.match(srv.stderr(), /ERROR crash: its state is lost: the new version faulted in its load hook/);
    assert.equal(await call(watcher, 'build'), 'c');
    assert.deepEqual(await h.ackAll(watcher, 'loaded'), ['c', 'nothing'], 'c started again without the spoilt state');
    install(srv, 'a');
    await waitForAnswer(watcher, isBuild('a'), 'the next good build never served');
  } finally {
    await h.stopChecked(srv);
  }
});

test('a reload that lowers timeoutMs applies it to the next call', T, async () => {
  /* Started with a minute: were the new value not applied, spin would
   * hold the loop past the test's time. */
  const srv = await startCrashServer('b', {}, 60000);
  try {
    const watcher = await h.connect(srv.url);
    srv.doc.plugins.crash.timeoutMs = 300;
    const tmp = `${srv.yamlFile}.tmp`;
    fs.writeFileSync(tmp, h.toYaml(srv.doc));
    fs.renameSync(tmp, srv.yamlFile);
    await srv.waitForLog(/reload #1 done/);
    const culprit = await h.connect(srv.url);
    const gone = h.next(culprit, 'disconnect', 10000);
    culprit.emit('spin');
    assert.equal((await gone)[0], 'io server disconnect');
    assert.match(srv.stderr(), /handler spin ran past timeoutMs \(300 ms\)/);
    assert.ok(isRefusal(await call(watcher, 'build')));
  } finally {
    await h.stopChecked(srv);
  }
});

test('a timeoutMs that is not a count of milliseconds is refused at file:line:column', T, async () => {
  const srv = await startCrashServer('a');
  try {
    const bad = srv.doc;
    bad.plugins.crash.timeoutMs = -1;
    const file = path.join(srv.dir, 'bad.yaml');
    fs.writeFileSync(file, h.toYaml(bad));
    const { spawnSync } = require('node:child_process');
    const r = spawnSync(h.PLUGIO, ['--check', file], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /bad\.yaml:\d+:\d+: timeoutMs: -1 is out of range \(0 to 2147483647\)/);
  } finally {
    await h.stopChecked(srv);
  }
});
