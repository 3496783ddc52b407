'use strict';
// Dynamic namespaces, socket.io's io.of(regex): `namespace: {match: regex}`
// on events and middleware.  A client connecting to a namespace that no
// event names but that a pattern matches creates it (a child), with the
// pattern's events and middleware; every child has its own sockets and
// rooms.  Exact namespaces win over patterns, patterns go in configuration
// order; serverOptions.maxChildNamespaces bounds how many children exist,
// cleanupEmptyChildNamespaces frees the empty ones; a configuration reload
// rebinds children.  Driven with stock socket.io-client through the `io`
// test plugin (tests/plugins/io/io.c) and the e2e plugin.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 30000 };
const IO = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');
const TENANT = { match: '^/tenant-[0-9]+$' };
const IO_EVENTS = ['join', 'bcast', 'sockets', 'rooms', 'build'];

/* The io plugin's events, and its connection handler, on `nsp`. */
function ioEvents(nsp) {
  return [
    { name: 'connection', namespace: nsp, handler: 'io:io_connection' },
    ...IO_EVENTS.map((name) => ({ name, namespace: nsp, handler: `io:io_${name}` })),
  ];
}

const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);
const ws = (url, opts = {}) => h.connect(url, { transports: ['websocket'], ...opts });
const sorted = (a) => [...a].sort();

/* Whether `event` gets an ack within 700 ms (no handler: it does not). */
const answered = (socket, event) => socket.timeout(700).emitWithAck(event).then(() => true, () => false);

async function refusal(url, opts = {}) {
  const socket = h.client(url, { transports: ['websocket'], ...opts });
  const err = await h.connectError(socket);
  socket.close();
  return err.message;
}

async function until(pred, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await h.sleep(25);
  }
}

/* ---- one server: patterns, precedence, rooms, middleware --------------- */

const srv = h.serverFor(test, {
  plugins: { io: IO },
  events: [
    ...ioEvents('/'),
    // Exact beats pattern: /tenant-7 is the e2e plugin's, not the pattern's.
    { name: 'connection', namespace: '/tenant-7', handler: 'e2e:on_connection' },
    { name: 'build', namespace: '/tenant-7', handler: 'e2e:echo' },
    ...ioEvents(TENANT),
    // A later pattern that also matches /tenant-9..: the first one wins.
    { name: 'connection', namespace: { match: '^/tenant-9' }, handler: 'e2e:on_connection' },
    { name: 'connection', namespace: { match: '^/guarded-\\w+$' }, handler: 'io:io_connection' },
  ],
  middleware: [
    { handler: 'io:mw_first', namespace: { match: '^/guarded-\\w+$' } },
    { handler: 'io:mw_second', namespace: { match: '^/guarded-\\w+$' } },
  ],
});
test.afterEach(() => h.closeAll());

for (const transport of ['websocket', 'polling']) {
  test(`two namespaces matching a pattern connect, with the pattern's events (${transport})`, T, async () => {
    const one = h.client(`${srv().url}/tenant-1`, { transports: [transport] });
    const two = h.client(`${srv().url}/tenant-2`, { transports: [transport] });
    const [w1, w2] = await Promise.all([one.welcome, two.welcome]);
    assert.equal(w1.nsp, '/tenant-1', 'the plugin sees the child namespace, not the pattern');
    assert.equal(w2.nsp, '/tenant-2');
    assert.equal(w1.build, 'a', "the pattern's connection handler ran");
    assert.equal(await call(one, 'build'), 'a', "an event reaches the pattern's handler");
    assert.equal(await call(two, 'build'), 'a');
  });
}

test('a namespace no pattern matches gets connect_error "Invalid namespace"', T, async () => {
  await ws(`${srv().url}/tenant-12`); // while one that matches connects
  assert.equal(await refusal(`${srv().url}/tenant-x`), 'Invalid namespace');
  assert.equal(await refusal(`${srv().url}/tenant-1/sub`), 'Invalid namespace', 'the $ anchor holds');
  assert.equal(await refusal(`${srv().url}/nope`, { transports: ['polling'] }), 'Invalid namespace');
  // And the connection's other namespaces are unaffected.
  const root = await ws(srv().url);
  const bad = root.io.socket('/tenant-');
  assert.equal((await h.connectError(bad)).message, 'Invalid namespace');
  assert.equal(await call(root, 'build'), 'a');
});

test('an exact namespace beats a pattern that matches it', T, async () => {
  const exact = h.client(`${srv().url}/tenant-7`, { transports: ['websocket'] });
  const welcome = await exact.welcome;
  assert.equal(welcome.nsp, '/tenant-7');
  assert.equal(welcome.build, undefined, "the e2e plugin's welcome, not the io plugin's");
  assert.equal(welcome.transport, 'websocket');
  assert.deepEqual(await h.ackAll(exact, 'build', 'echoed'), ['echoed'], 'build is e2e:echo here');
  // Its neighbour, which only the pattern names, is the pattern's.
  const child = h.client(`${srv().url}/tenant-8`, { transports: ['websocket'] });
  assert.equal((await child.welcome).build, 'a');
  assert.equal(await call(child, 'build'), 'a');
});

test('patterns are tried in configuration order: the first that matches wins', T, async () => {
  const nine = h.client(`${srv().url}/tenant-9`, { transports: ['websocket'] });
  const welcome = await nine.welcome;
  assert.equal(welcome.build, 'a', 'the first pattern (io) matched, not the later ^/tenant-9 (e2e)');
  assert.equal(await call(nine, 'build'), 'a');
});

test('rooms and broadcasts are per child namespace', T, async () => {
  const [a1, a2] = await Promise.all([ws(`${srv().url}/tenant-1`), ws(`${srv().url}/tenant-1`)]);
  const b1 = await ws(`${srv().url}/tenant-2`);
  const root = await ws(srv().url);
  for (const s of [a1, a2, b1, root]) await call(s, 'join', 'red');
  const got = [a1, a2, b1, root].map((s) => h.collect(s, 'color'));

  assert.deepEqual(await call(a1, 'bcast', { sel: { rooms: ['red'] }, event: 'color', args: ['t1 red'] }), [2]);
  assert.deepEqual(await call(a1, 'bcast', { event: 'color', args: ['t1 all'] }), [2]);
  assert.deepEqual(await call(b1, 'bcast', { sel: { rooms: ['red'] }, event: 'color', args: ['t2 red'] }), [1]);
  // A server operation from "/" addresses a child by its name.
  assert.deepEqual(await call(root, 'bcast', { sel: { nsp: '/tenant-2' }, event: 'color', args: ['from root'] }), [1]);
  assert.deepEqual(sorted(await call(root, 'sockets', { nsp: '/tenant-1' })), sorted([a1.id, a2.id]));
  assert.deepEqual(await call(root, 'sockets', { nsp: '/tenant-2' }), [b1.id]);
  const rooms = await call(root, 'rooms', '/tenant-1');
  assert.equal(rooms.red, 2, "/tenant-1's room red has its two sockets only");

  // Fence: a last broadcast to each namespace; everything before it arrived.
  const fence = (via, s) => Promise.all([h.next(s, 'color'), call(via, 'bcast', { event: 'color', args: ['fence'] })]);
  await Promise.all([fence(a1, a2), fence(b1, b1), fence(root, root)]);
  assert.deepEqual(got[0], ['t1 red', 't1 all', 'fence']);
  assert.deepEqual(got[1], ['t1 red', 't1 all', 'fence']);
  assert.deepEqual(got[2], ['t2 red', 'from root', 'fence'], 'nothing of /tenant-1 reached /tenant-2');
  assert.deepEqual(got[3], ['fence'], 'nor "/"');
});

test("a pattern's middleware runs, in order, before its connection handler", T, async () => {
  const g = h.client(`${srv().url}/guarded-one`, { transports: ['websocket'], auth: { room: 'vip' } });
  const welcome = await g.welcome;
  assert.equal(welcome.nsp, '/guarded-one');
  assert.deepEqual(welcome.trail, ['first', 'second']);
  assert.ok(welcome.rooms.includes('vip'), 'joined by mw_first');
  assert.equal(await refusal(`${srv().url}/guarded-two`, { auth: { reject: 'second', message: 'no entry' } }),
    'no entry');
  // The middleware of a pattern is not the middleware of other namespaces.
  const t = h.client(`${srv().url}/tenant-3`, { transports: ['websocket'], auth: { reject: 'first' } });
  assert.equal((await t.welcome).trail, null);
});

/* ---- limits and cleanup: servers of their own -------------------------- */

function limitedServer(serverOptions) {
  return h.startServer({
    plugins: { io: IO },
    events: [...ioEvents('/'), ...ioEvents({ match: '^/t-[0-9]+$' })],
    middleware: [{ handler: 'io:mw_first', namespace: { match: '^/t-[0-9]+$' } }],
    serverOptions,
  });
}

test('maxChildNamespaces refuses a new child beyond it, logged once per 10 s; existing children still take sockets', T, async () => {
  const s = await limitedServer({ maxChildNamespaces: 2 });
  try {
    const one = await ws(`${s.url}/t-1`);
    await ws(`${s.url}/t-2`);
    assert.equal(await refusal(`${s.url}/t-3`), 'Too many namespaces');
    assert.equal(await refusal(`${s.url}/t-4`, { transports: ['polling'] }), 'Too many namespaces');
    assert.equal(await refusal(`${s.url}/t-5`), 'Too many namespaces');
    const oneAgain = await ws(`${s.url}/t-1`);
    // Without cleanupEmptyChildNamespaces an emptied child stays, until the
    // bound needs its place: then a new child takes it.
    one.close();
    oneAgain.close();
    await until(async () => (await call(await ws(s.url), 'sockets', { nsp: '/t-1' })).length === 0,
      'the sockets to go');
    const six = await ws(`${s.url}/t-6`);
    assert.equal(await call(six, 'build'), 'a');
    assert.equal(await refusal(`${s.url}/t-7`), 'Too many namespaces', 'both children have sockets');
    const lines = s.stderr().split('\n').filter((l) => /refused to create namespace/.test(l));
    assert.equal(lines.length, 1, `one log line for four refusals:\n${s.stderr()}`);
    assert.match(lines[0], /WARN .*'\/t-3'.*2 child namespaces exist, serverOptions\.maxChildNamespaces is 2/);
  } finally {
    h.closeAll();
    await h.stopChecked(s);
  }
});

test('connections refused by middleware cannot use up maxChildNamespaces', T, async () => {
  const s = await limitedServer({ maxChildNamespaces: 2 });
  try {
    for (let i = 10; i < 20; i++) {
      assert.equal(await refusal(`${s.url}/t-${i}`, { auth: { reject: 'first', message: 'no' } }), 'no');
    }
    const ok = await ws(`${s.url}/t-20`);
    assert.equal(await call(ok, 'build'), 'a');
  } finally {
    h.closeAll();
    await h.stopChecked(s);
  }
});

test('cleanupEmptyChildNamespaces frees a child when its last socket leaves', T, async () => {
  const s = await limitedServer({ maxChildNamespaces: 1, cleanupEmptyChildNamespaces: true });
  try {
    const one = await ws(`${s.url}/t-1`);
    await call(one, 'join', 'kept?');
    assert.equal(await refusal(`${s.url}/t-2`), 'Too many namespaces');
    one.disconnect();
    // Once /t-1 is gone there is room for /t-2.
    let two;
    await until(async () => {
      try {
        two = await ws(`${s.url}/t-2`);
        return true;
      } catch (err) {
        assert.equal(err.message, 'Too many namespaces');
        return false;
      }
    }, '/t-1 to be cleaned up');
    assert.equal(await call(two, 'build'), 'a');
    two.close();
    // /t-1 comes back new: no rooms of the old one.
    let again;
    await until(async () => {
      try {
        again = await ws(`${s.url}/t-1`);
        return true;
      } catch (err) {
        if (err.message !== 'Too many namespaces') throw err;
        return false;
      }
    }, '/t-2 to be cleaned up');
    assert.deepEqual(await call(await ws(s.url), 'rooms', '/t-1'), { [again.id]: 1 });
    again.disconnect();
    // A connection refused by middleware does not leave its new child behind.
    await until(async () => (await refusal(`${s.url}/t-3`, { auth: { reject: 'first', message: 'go away' } })) === 'go away',
      '/t-1 to be cleaned up again');
    assert.equal(await call(await ws(`${s.url}/t-4`), 'build'), 'a');
  } finally {
    h.closeAll();
    await h.stopChecked(s);
  }
});

/* ---- configuration reload ----------------------------------------------- */

test('a reload that adds a pattern lets new children connect; removing it keeps connected ones', T, async () => {
  const s = await h.startServer({ plugins: { io: IO }, events: ioEvents('/') });
  const rewrite = (doc) => {
    const tmp = `${s.yamlFile}.tmp`;
    fs.writeFileSync(tmp, h.toYaml(doc));
    fs.renameSync(tmp, s.yamlFile);
  };
  const waitForLog = (re) => until(() => re.test(s.stderr()), `${re} in the log`);
  try {
    assert.equal(await refusal(`${s.url}/dyn-1`), 'Invalid namespace');

    const added = structuredClone(s.doc);
    added.events.push(...ioEvents({ match: '^/dyn-' }));
    rewrite(added);
    await waitForLog(/reload: event 'build' on \{match: \^\/dyn-\} added -> io:io_build/);
    const one = await ws(`${s.url}/dyn-1`);
    assert.equal(await call(one, 'build'), 'a');

    // Rebinding: the pattern's events change; the connected child follows.
    const rebound = structuredClone(s.doc);
    rebound.events.push({ name: 'build', namespace: { match: '^/dyn-' }, handler: 'e2e:echo' });
    rewrite(rebound);
    await waitForLog(/reload: event 'build' on \{match: \^\/dyn-\} rebound -> e2e:echo/);
    assert.deepEqual(await h.ackAll(one, 'build', 'now echo'), ['now echo']);

    // The pattern removed: the child keeps its socket (without handlers), new ones are refused.
    rewrite(s.doc);
    await waitForLog(/reload: event 'build' on \{match: \^\/dyn-\} removed/);
    assert.equal(await refusal(`${s.url}/dyn-2`), 'Invalid namespace');
    assert.equal(await refusal(`${s.url}/dyn-1`), 'Invalid namespace');
    assert.equal(one.connected, true);
    assert.equal(await answered(one, 'build'), false);

    // An invalid pattern is refused with its place in the file; the last good configuration serves.
    const broken = structuredClone(added);
    broken.events.push({ name: 'x', namespace: { match: '^/(broken' }, handler: 'io:io_build' });
    rewrite(broken);
    await waitForLog(/reload failed/);
    assert.match(s.stderr(), /plugio\.yaml:\d+:\d+: namespace: invalid pattern '\^\/\(broken': missing closing parenthesis/);
    assert.equal(await refusal(`${s.url}/dyn-3`), 'Invalid namespace');

    // Back again: the same child is matched anew.
    rewrite(added);
    await until(async () => answered(one, 'build'), 'the pattern to come back');
    assert.equal(await call(one, 'build'), 'a');
  } finally {
    h.closeAll();
    await h.stopChecked(s);
  }
});
