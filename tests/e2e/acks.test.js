'use strict';
// Acknowledgements in both directions, their timeout, and the closed case.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 15000 };
const PIO_ETIMEDOUT = -7;
const PIO_ECLOSED = -6;
const srv = h.serverFor(test);
test.afterEach(() => h.closeAll());

for (const transport of ['websocket', 'polling']) {
  test(`client -> server: acks carry every JSON type back (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const values = [
      ['a string'],
      [0, -1.5, 1e21, true, false, null],
      [{ nested: { deep: [1, [2, [3, { four: 4 }]]] } }],
      ['unicode: é ✓ 😀 "quotes" \\ \n \t'],
      [[], {}],
    ];
    for (const args of values) {
      assert.deepEqual(await h.ackAll(socket, 'echo', ...args), args, `echo of ${JSON.stringify(args)}`);
    }
  });

  test(`client -> server: a string with U+0000 survives the round trip (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    assert.deepEqual(await h.ackAll(socket, 'echo', 'a\u0000b'), ['a\u0000b']);
  });

  test(`client -> server: the ack callback receives every argument (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const got = await new Promise((resolve, reject) => {
      socket.timeout(3000).emit('echo', 1, 'two', { three: 3 }, [4], (err, ...args) => (err ? reject(err) : resolve(args)));
    });
    assert.deepEqual(got, [1, 'two', { three: 3 }, [4]]);
  });

  test(`client -> server: an ack with no arguments (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const got = await new Promise((resolve, reject) => {
      socket.timeout(3000).emit('echo', (err, ...args) => (err ? reject(err) : resolve(args)));
    });
    assert.deepEqual(got, []);
  });

  test(`client -> server: many acks in flight come back to the right callbacks (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => socket.timeout(5000).emitWithAck('echo', { i, s: 'x'.repeat(i) })),
    );
    answers.forEach((a, i) => assert.deepEqual(a, { i, s: 'x'.repeat(i) }));
  });

  test(`server -> client: emit_with_ack gets the client's answer (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const asked = h.next(socket, 'question');
    socket.on('question', (a, b, ack) => ack({ got: [a, b] }, 'second'));
    const answer = h.next(socket, 'answer');
    assert.equal(await socket.timeout(3000).emitWithAck('ask', { event: 'question', timeout: 5000, tag: 't1', args: ['hello', 2] }), 'sent');
    assert.deepEqual((await asked).slice(0, 2), ['hello', 2]);
    const [a] = await answer;
    assert.equal(a.status, 'ok');
    assert.equal(a.code, 0);
    assert.equal(a.tag, 't1');
    assert.deepEqual(a.reply, [{ got: ['hello', 2] }, 'second']);
  });

  test(`server -> client: an answer with no timeout (0 = until disconnect) arrives (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    socket.on('q0', (ack) => setTimeout(() => ack('late but fine'), 300));
    const answer = h.next(socket, 'answer');
    socket.emit('ask', { event: 'q0', timeout: 0, tag: 't0', args: [] });
    const [a] = await answer;
    assert.equal(a.status, 'ok');
    assert.deepEqual(a.reply, ['late but fine']);
  });

  test(`server -> client: the ack times out when the client never answers (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    let received = null;
    socket.on('ignored', (x, ack) => { received = [x, typeof ack]; /* never calls ack */ });
    const answer = h.next(socket, 'answer', 5000);
    const started = Date.now();
    socket.emit('ask', { event: 'ignored', timeout: 300, tag: 't2', args: ['nobody answers'] });
    const [a] = await answer;
    const elapsed = Date.now() - started;
    assert.deepEqual(received, ['nobody answers', 'function'], 'the client got the event with an ack function');
    assert.equal(a.code, PIO_ETIMEDOUT);
    assert.notEqual(a.status, 'ok');
    assert.equal(typeof a.status, 'string');
    assert.equal(a.tag, 't2');
    assert.deepEqual(a.reply, []);
    assert.ok(elapsed >= 250, `timed out after ${elapsed} ms, before the 300 ms timeout`);
    assert.ok(elapsed < 3000, `timed out after ${elapsed} ms`);
  });
}

test('server -> client: an answer after the timeout is ignored, the callback ran once', T, async () => {
  const socket = await h.connect(srv().url, { transports: ['websocket'] });
  socket.on('slow', (ack) => setTimeout(() => ack('too late'), 600));
  const answers = [];
  socket.on('answer', (a) => answers.push(a));
  socket.emit('ask', { event: 'slow', timeout: 200, tag: 'slow', args: [] });
  await h.sleep(1200);
  assert.equal(answers.length, 1, JSON.stringify(answers));
  assert.equal(answers[0].code, PIO_ETIMEDOUT);
  assert.deepEqual(await h.ackAll(socket, 'echo', 'alive'), ['alive']);
});

test('server -> client: a pending ack ends with PIO_ECLOSED when the client leaves', T, async () => {
  const socket = await h.connect(srv().url, { transports: ['websocket'] });
  const asked = h.next(socket, 'never');
  socket.emit('ask', { event: 'never', timeout: 0, tag: 'closed1', args: [] });
  await asked;
  socket.disconnect();
  const deadline = Date.now() + 5000;
  let line;
  while (!(line = srv().reasons().find((r) => r.id === 'ack' && r.reason.startsWith('closed1 ')))) {
    if (Date.now() > deadline) throw new Error(`no ack line in ${srv().reasonsFile}:\n${JSON.stringify(srv().reasons())}`);
    await h.sleep(25);
  }
  assert.equal(line.reason, `closed1 ${PIO_ECLOSED}`);
});

test('server -> client: a binary answer reaches the server callback intact', T, async () => {
  const socket = await h.connect(srv().url, { transports: ['websocket'] });
  const blob = Buffer.from([0, 1, 2, 250, 251, 252, 253, 254, 255]);
  socket.on('bin-question', (ack) => ack({ blob, list: [blob.subarray(0, 3)] }));
  const answer = h.next(socket, 'answer');
  socket.emit('ask', { event: 'bin-question', timeout: 3000, tag: 'b', args: [] });
  const [a] = await answer;
  assert.equal(a.status, 'ok');
  assert.deepEqual(h.toBuffer(a.reply[0].blob), blob);
  assert.deepEqual(h.toBuffer(a.reply[0].list[0]), blob.subarray(0, 3));
});

test('an event whose handler does not exist gets no ack (the client times out)', T, async () => {
  const socket = await h.connect(srv().url, { transports: ['websocket'] });
  await assert.rejects(socket.timeout(500).emitWithAck('no-such-event', 1));
  assert.deepEqual(await h.ackAll(socket, 'echo', 'alive'), ['alive']);
});
