'use strict';
// Hot reload: plugin files and the configuration rewritten on disk while
// clients stay connected and keep sending.
//
// The `reload` test plugin is built four ways (tests/plugins/reload):
// a and b answer `which` with their build id; nosym lacks `which`; abi2
// claims SDK ABI 2.0. `count` answers with a counter handed from each
// version to the next.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const h = require('./helpers');

const BUILDS = path.join(h.BUILD, 'tests', 'plugins', 'reload');
const build = (name) => path.join(BUILDS, `libreload_${name}.so`);
const T = { timeout: 120000 };

/* A server whose `reload` plugin is a file in its own directory. */
async function startReloadServer(extra = {}) {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'plugio-reload-'));
  const live = path.join(dir, 'libreload.so');
  fs.copyFileSync(build('a'), live);
  const srv = await h.startServer({
    plugins: { reload: live },
    extraEvents: [
      { name: 'which', handler: 'reload:which' },
      { name: 'count', handler: 'reload:count' },
      { name: 'ask_reload', handler: 'reload:ask' },
    ],
    ...extra,
  });
  srv.live = live;
  return srv;
}

/* Install `src` over the live file the way a build system does: write a
 * temporary file, then rename it into place. */
function installByRename(srv, src) {
  h.installByRename(src, srv.live);
}

/* Install `src` by rewriting the live file in place, as `cp` does. */
function installInPlace(srv, src) {
  execFileSync('cp', [src, srv.live]);
}

/* Ask until `which` answers with build `id` (or fail after `ms`). */
async function waitForBuild(socket, id, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const [got] = await socket.timeout(5000).emitWithAck('which', 'probe');
    if (got === id) return;
    if (Date.now() > deadline) throw new Error(`still answered by build ${got}, not ${id}`);
    await h.sleep(5);
  }
}

/* Wait until plugio's log matches `re` (the reload outcome). */
async function waitForLog(srv, re, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!re.test(srv.stderr())) {
    if (Date.now() > deadline) throw new Error(`no log line matching ${re}\nstderr:\n${srv.stderr()}`);
    await h.sleep(10);
  }
}

test('50 swaps under load from 50 clients: every event answered once, by the build in place, no disconnect', T, async () => {
  const srv = await startReloadServer();
  try {
    const clients = await Promise.all(
      Array.from({ length: 50 }, () => h.connect(srv.url, { transports: ['websocket'] })));
    let disconnects = 0;
    for (const c of clients) c.on('disconnect', () => { disconnects++; });

    // Each client sends acked events back to back; every answer carries
    // the tag it answers, so losses and duplicates show.
    const answers = new Map(); // tag -> {build, sentAt}
    let duplicates = 0;
    let running = true;
    let lastAnsweredSentAt = 0n; // the latest send time of an answered event
    const loops = clients.map(async (c, ci) => {
      for (let n = 0; running; n++) {
        const tag = `${ci}:${n}`;
        const sentAt = process.hrtime.bigint();
        const [buildId, echoed] = await h.ackAll(c, 'which', tag);
        assert.equal(echoed, tag);
        if (answers.has(tag)) duplicates++;
        answers.set(tag, { build: buildId, sentAt, answeredAt: process.hrtime.bigint() });
        if (sentAt > lastAnsweredSentAt) lastAnsweredSentAt = sentAt;
      }
    });

    // Swap 50 times, alternating builds and install methods; note when
    // each file was written and when the new build was seen answering.
    const probe = await h.connect(srv.url, { transports: ['websocket'] });
    const swaps = [{ id: 'a', writtenAt: 0n, seenAt: 0n }];
    for (let i = 0; i < 50; i++) {
      const id = i % 2 === 0 ? 'b' : 'a';
      const writtenAt = process.hrtime.bigint();
      if (i % 4 < 2) installByRename(srv, build(id));
      else installInPlace(srv, build(id));
      await waitForBuild(probe, id);
      const seenAt = process.hrtime.bigint();
      swaps.push({ id, writtenAt, seenAt });
      // Before the next swap, let the load clients get at least one event
      // answered that was sent under this build (bounded: a slow machine
      // only makes this wait longer).
      for (let waited = 0; lastAnsweredSentAt <= seenAt && waited < 10000; waited += 5) await h.sleep(5);
    }
    running = false;
    await Promise.all(loops);

    assert.equal(disconnects, 0, 'a client disconnected');
    assert.equal(duplicates, 0, 'an event was answered twice');
    assert.ok(answers.size > 500, `only ${answers.size} events were exchanged`);
    // An event sent after build k was seen in place, and answered before
    // the next file was even written, was answered by build k.
    const placed = swaps.map(() => 0);
    for (const [tag, a] of answers) {
      for (let k = 0; k < swaps.length; k++) {
        const next = swaps[k + 1];
        if (a.sentAt > swaps[k].seenAt && (!next || a.answeredAt < next.writtenAt)) {
          assert.equal(a.build, swaps[k].id, `event ${tag}`);
          placed[k]++;
        }
      }
    }
    // Every swap's window held events from the load clients, so each of
    // the 50 builds was seen answering them.
    placed.forEach((n, k) => assert.ok(n > 0, `no load event fell in the window of swap ${k}`));
    assert.match(srv.stderr(), /reload #50 done in [\d.]+ ms/);
    assert.doesNotMatch(srv.stderr(), /reload failed/);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('overwriting the live plugin in place with cp under load: the host survives and serves the new code', T, async () => {
  const srv = await startReloadServer();
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    let running = true;
    let answered = 0;
    const load = (async () => {
      while (running) {
        await socket.timeout(10000).emitWithAck('which', 'load');
        answered++;
      }
    })();
    for (let i = 0; i < 10; i++) {
      installInPlace(srv, build(i % 2 === 0 ? 'b' : 'a'));
      await h.sleep(5);
    }
    await waitForBuild(socket, 'a'); // the last one written
    running = false;
    await load;
    assert.ok(answered > 0);
    assert.equal(socket.connected, true);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('a broken replacement leaves the old version serving, and says why', T, async () => {
  const srv = await startReloadServer();
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    await waitForBuild(socket, 'a');

    // A truncated file (as left by an interrupted copy).
    const whole = fs.readFileSync(build('b'));
    fs.writeFileSync(srv.live, whole.subarray(0, 4096));
    await waitForLog(srv, /reload failed \(1 so far\)/);
    assert.match(srv.stderr(), /plugin 'reload': .*libreload\.so: cannot load: /);
    await waitForBuild(socket, 'a', 0);

    // A build that lacks a handler the configuration names.
    installByRename(srv, build('nosym'));
    await waitForLog(srv, /reload failed \(2 so far\)/);
    assert.match(srv.stderr(), /plugin 'reload' \(.*libreload\.so\) does not export 'which'/);
    await waitForBuild(socket, 'a', 0);

    // A build for another ABI major.
    installByRename(srv, build('abi2'));
    await waitForLog(srv, /reload failed \(3 so far\)/);
    assert.match(srv.stderr(), /was built for SDK ABI 2\.0, this host provides 1\.\d+/);
    await waitForBuild(socket, 'a', 0);

    // Once a good file arrives, it is picked up.
    installByRename(srv, build('b'));
    await waitForBuild(socket, 'b');
    assert.equal(socket.connected, true);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('a stateful plugin keeps its state across reloads through the hand-off', T, async () => {
  const srv = await startReloadServer();
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    assert.deepEqual(await socket.timeout(3000).emitWithAck('count'), 1);
    assert.deepEqual(await socket.timeout(3000).emitWithAck('count'), 2);
    installByRename(srv, build('b'));
    await waitForBuild(socket, 'b');
    const [n, by] = await h.ackAll(socket, 'count');
    assert.equal(by, 'b');
    assert.equal(n, 3);
    installInPlace(srv, build('a'));
    await waitForBuild(socket, 'a');
    const [m, by2] = await h.ackAll(socket, 'count');
    assert.equal(by2, 'a');
    assert.equal(m, 4);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('configuration edits rebind events on connected sockets; an invalid edit changes nothing', T, async () => {
  const srv = await startReloadServer();
  const rewrite = (doc) => {
    const tmp = `${srv.yamlFile}.tmp`;
    fs.writeFileSync(tmp, h.toYaml(doc));
    fs.renameSync(tmp, srv.yamlFile);
  };
  const answered = (socket, event) =>
    socket.timeout(700).emitWithAck(event, 'x').then(() => true, () => false);
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    const polling = await h.connect(srv.url, { transports: ['polling'] });
    assert.equal(await answered(socket, 'late'), false, 'no handler yet');

    // Add an event.
    const added = structuredClone(srv.doc);
    added.events.push({ name: 'late', handler: 'reload:which' });
    rewrite(added);
    await waitForLog(srv, /reload: event 'late' on \/ added -> reload:which/);
    assert.equal(await answered(socket, 'late'), true);
    assert.equal(await answered(polling, 'late'), true);

    // An invalid edit: an unknown plugin. Nothing changes; the error names
    // file:line:column.
    const broken = structuredClone(added);
    broken.events.push({ name: 'oops', handler: 'nosuch:fn' });
    rewrite(broken);
    await waitForLog(srv, /reload failed/);
    assert.match(srv.stderr(), /plugio\.yaml:\d+:\d+: unknown plugin 'nosuch'/);
    assert.equal(await answered(socket, 'late'), true, 'the last good configuration still serves');

    // Remove it again.
    rewrite(srv.doc);
    await waitForLog(srv, /reload: event 'late' on \/ removed/);
    assert.equal(await answered(socket, 'late'), false);
    assert.equal(await answered(socket, 'which'), true);

    // A port change needs a restart: reported, the old port kept.
    const moved = structuredClone(srv.doc);
    moved.server.port = 1;
    rewrite(moved);
    await waitForLog(srv, /server\.host\/server\.port changed .* keeping 127\.0\.0\.1:0/);
    assert.equal(await answered(socket, 'which'), true);
    assert.equal(socket.connected && polling.connected, true, 'no client dropped');
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('SIGHUP reloads the configuration and every plugin', T, async () => {
  const srv = await startReloadServer();
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    assert.equal(await socket.timeout(3000).emitWithAck('count'), 1);
    srv.child.kill('SIGHUP');
    await waitForLog(srv, /reload #1 done/);
    assert.match(srv.stderr(), /reload: plugin 'reload' a -> a/);
    assert.match(srv.stderr(), /reload: plugin 'e2e' /);
    // The state went across; the socket stayed.
    const [n] = await h.ackAll(socket, 'count');
    assert.equal(n, 2);
    assert.equal(socket.connected, true);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('a file written in several steps is loaded once, when the writer closes it', T, async () => {
  const srv = await startReloadServer();
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    const whole = fs.readFileSync(build('b'));
    const fd = fs.openSync(srv.live, 'w'); // truncates the live file, as a linker may
    const half = Math.floor(whole.length / 2);
    fs.writeSync(fd, whole, 0, half);
    await h.sleep(300); // far longer than the debounce: nothing may load yet
    assert.doesNotMatch(srv.stderr(), /libreload\.so changed/);
    await waitForBuild(socket, 'a', 0);
    fs.writeSync(fd, whole, half, whole.length - half);
    fs.closeSync(fd);
    await waitForBuild(socket, 'b');
    assert.equal(srv.stderr().match(/libreload\.so changed/g).length, 1);
    assert.doesNotMatch(srv.stderr(), /reload failed/);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('an ack awaited by the old version is answered by the old code after the swap', T, async () => {
  const srv = await startReloadServer();
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    const question = h.next(socket, 'question');
    socket.emit('ask_reload');
    const [answer] = await question; // the client holds the ack for now
    installByRename(srv, build('b'));
    await waitForBuild(socket, 'b');
    const answered = h.next(socket, 'answered');
    answer('late reply');
    assert.deepEqual(await answered, ['a', 'ok', 'late reply']);
    // The new version serves new registrations.
    const question2 = h.next(socket, 'question');
    socket.emit('ask_reload');
    const [answer2] = await question2;
    const answered2 = h.next(socket, 'answered');
    answer2('now');
    assert.deepEqual(await answered2, ['b', 'ok', 'now']);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});
