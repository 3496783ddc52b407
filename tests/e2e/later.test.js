'use strict';
// Answers that wait (SDK 1.3): an event's ack sent later (pio_ack_defer,
// pio_ack_later, pio_ack_drop) and a connection middleware that decides
// later (pio_middleware_defer, pio_middleware_resolve), through the `later`
// test plugin (tests/plugins/later/later.c), with socket.io-client.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 30000 };
const PIO_ECLOSED = -6;

const LATER = path.join(h.BUILD, 'tests', 'plugins', 'later', 'liblater.so');
const EVENTS = ['later_ack', 'later_keep', 'later_answer_kept', 'later_drop', 'later_no_ack',
  'later_close_keep'];

const srv = h.serverFor({ before: test.before, after: test.after }, {
  plugins: { later: LATER },
  serverOptions: { connectTimeout: 1500 },
  events: [
    ...EVENTS.map((name) => ({ name: name.replace('later_', ''), handler: `later:${name}` })),
    ...EVENTS.map((name) => ({ name: name.replace('later_', ''), namespace: '/gated', handler: `later:${name}` })),
    { name: 'connection', namespace: '/gated', handler: 'later:later_connection' },
  ],
  middleware: [{ handler: 'later:later_gate', namespace: '/gated' }],
});

test.afterEach(() => h.closeAll());

test('a deferred ack is answered later, once, with what the handler sent', T, async () => {
  const s = await h.connect(srv().url);
  const t0 = Date.now();
  const reply = await h.ackAll(s, 'ack', 200, 'late value');
  assert.deepEqual(reply, ['late value']);
  assert.ok(Date.now() - t0 >= 150, 'answered after the timer, not at once');
  // Many in flight on one socket, answered in the order their timers fire.
  const got = await Promise.all([300, 100, 200].map((ms) => h.ackAll(s, 'ack', ms, `v${ms}`)));
  assert.deepEqual(got, [['v300'], ['v100'], ['v200']]);
  assert.doesNotMatch(srv().stderr(), /ack_later:/, 'the second answer of each was refused');
});

test('an ack kept by a socket that left is forgotten: a late answer gets PIO_ECLOSED', T, async () => {
  const keeper = await h.connect(srv().url);
  const other = await h.connect(srv().url);
  const kept = h.next(keeper, 'kept');
  keeper.emit('keep', () => assert.fail('the keeper is never answered'));
  const [id] = await kept;
  assert.match(id, /^[1-9][0-9]*$/);
  keeper.disconnect();
  await h.sleep(100);
  assert.deepEqual(await h.ackAll(other, 'answer_kept', id), [PIO_ECLOSED]);
});

test('an ack answered from another socket while its own is connected reaches its own', T, async () => {
  const keeper = await h.connect(srv().url);
  const other = await h.connect(srv().url);
  const kept = h.next(keeper, 'kept');
  const answered = new Promise((resolve) => keeper.emit('keep', (...a) => resolve(a)));
  const [id] = await kept;
  assert.deepEqual(await h.ackAll(other, 'answer_kept', id), [0]);
  assert.deepEqual(await answered, [], 'an answer with no arguments');
  assert.doesNotMatch(srv().stderr(), /took an ack handle|took a middleware handle/,
    'a handle of one kind is refused by the other kind\'s call');
  assert.deepEqual(await h.ackAll(other, 'answer_kept', id), [PIO_ECLOSED], 'exactly once');
});

test('a handler whose socket closed under it has no ack to defer', T, async () => {
  const s = await h.connect(srv().url);
  const gone = h.next(s, 'disconnect');
  s.emit('close_keep', () => assert.fail('never answered'));
  assert.equal((await gone)[0], 'io server disconnect');
  assert.doesNotMatch(srv().stderr(), /defer after disconnect/);
});

test('a dropped ack sends nothing; an event without an ack has none to defer', T, async () => {
  const s = await h.connect(srv().url);
  const dropped = h.next(s, 'dropped');
  let answered = false;
  s.emit('drop', () => { answered = true; });
  assert.deepEqual(await dropped, [1, PIO_ECLOSED]);
  const deferred = h.next(s, 'deferred');
  s.emit('no_ack');
  assert.deepEqual(await deferred, [0]);
  // The fence: an acked event after both; the dropped one never answers.
  assert.deepEqual(await h.ackAll(s, 'ack', 1, 'fence'), ['fence']);
  assert.equal(answered, false);
});

test('a middleware that decides later lets the socket through, then connection runs', T, async () => {
  const t0 = Date.now();
  const s = h.client(`${srv().url}/gated`, { auth: { token: 'ok', ms: 200 } });
  const [welcome] = await h.next(s, 'welcome');
  assert.deepEqual(welcome, { mw: 'gate' });
  assert.ok(s.connected);
  assert.ok(Date.now() - t0 >= 150, 'after the middleware answered');
  assert.deepEqual(await h.ackAll(s, 'ack', 1, 'in'), ['in'], 'events flow once admitted');
  assert.doesNotMatch(srv().stderr(), /took a middleware handle/);
});

test('a middleware that refuses later sends its connect_error; one that never answers times out', T, async () => {
  const bad = h.client(`${srv().url}/gated`, { auth: { token: 'wrong' } });
  const err = await h.connectError(bad);
  assert.equal(err.message, 'bad token: wrong');
  // On a connection already in "/" (its connectTimeout no longer runs), a
  // middleware that never answers is refused after connectTimeout (1.5 s).
  const main = await h.connect(srv().url);
  const never = main.io.socket('/gated', { auth: { token: 'never' } });
  const t0 = Date.now();
  never.connect();
  const timedOut = await h.connectError(never, 5000);
  assert.equal(timedOut.message, 'middleware timeout');
  assert.ok(Date.now() - t0 >= 1300, 'not before connectTimeout');
  assert.ok(main.connected, '"/" goes on');
  never.close();
});

test('a middleware may answer before it returns: through, or refused', T, async () => {
  const ok = h.client(`${srv().url}/gated`, { auth: { token: 'now-ok' } });
  assert.deepEqual((await h.next(ok, 'welcome'))[0], { mw: 'gate' });
  const bad = h.client(`${srv().url}/gated`, { auth: { token: 'now-bad' } });
  assert.equal((await h.connectError(bad)).message, 'bad now');
  assert.doesNotMatch(srv().stderr(), /resolve at once:/);
  // A second defer in the same call, after the answer came, is refused.
  const again = h.client(`${srv().url}/gated`, { auth: { token: 'again' } });
  assert.deepEqual((await h.next(again, 'welcome'))[0], { mw: 'gate' });
  assert.doesNotMatch(srv().stderr(), /defer again:/);
});

test('a client that leaves while a middleware decides costs nothing; the answer finds no one', T, async () => {
  const s = h.client(`${srv().url}/gated`, { auth: { token: 'ok', ms: 300 } });
  await h.sleep(50);
  s.disconnect();
  await h.sleep(500);
  assert.match(srv().stderr(), new RegExp(`middleware_resolve: ${PIO_ECLOSED}`));
  // The server goes on: another client gets through.
  const t = h.client(`${srv().url}/gated`, { auth: { token: 'ok' } });
  assert.deepEqual((await h.next(t, 'welcome'))[0], { mw: 'gate' });
});

test('a reload while a middleware decides runs the new configuration\'s middleware from the first', T, async () => {
  const IO = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');
  const s = await h.startServer({
    plugins: { later: LATER, io: IO },
    serverOptions: { connectTimeout: 10000 },
    events: [{ name: 'connection', namespace: '/gated', handler: 'later:later_connection' }],
    middleware: [{ handler: 'later:later_gate', namespace: '/gated' }],
  });
  try {
    // Waits 1.5 s in later_gate; io's mw_first refuses auth.reject "first".
    const waiting = h.client(`${s.url}/gated`, { auth: { token: 'ok', ms: 1500, reject: 'first' } });
    const outcome = Promise.race([
      h.connectError(waiting, 8000).then((e) => `refused: ${e.message}`),
    ]).catch((e) => `connected or nothing: ${e.message}`);
    await h.sleep(300);
    const doc = structuredClone(s.doc);
    doc.middleware = [{ handler: 'io:mw_first', namespace: '/gated' }, ...doc.middleware];
    fs.writeFileSync(`${s.yamlFile}.tmp`, h.toYaml(doc));
    fs.renameSync(`${s.yamlFile}.tmp`, s.yamlFile);
    for (let i = 0; i < 200 && !/reload #[0-9]+ done/.test(s.stderr()); i++) await h.sleep(20);
    assert.match(s.stderr(), /reload #[0-9]+ done/);
    // The gate the reload put in front applies to the connection that was
    // waiting too: it is not let through past it.
    const first = h.client(`${s.url}/gated`, { auth: { token: 'ok', ms: 10, reject: 'first' } });
    const refusedFresh = (await h.connectError(first)).message;
    assert.equal(await outcome, `refused: ${refusedFresh}`);
    assert.equal(waiting.connected, false);
  } finally {
    const { code } = await s.stop();
    assert.equal(h.sanitizerReport(s.stderr()), null);
    assert.equal(code, 0);
  }
});
