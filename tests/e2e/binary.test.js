'use strict';
// Binary events and acks, both directions, both transports.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const h = require('./helpers');

const T = { timeout: 20000 };
const srv = h.serverFor(test);
test.afterEach(() => h.closeAll());

function bytes(n, seed) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/* Deep-compare `got` with `want`, where binary in `want` is a Buffer and in
 * `got` any binary type the client produced. */
function assertSameDeep(got, want, where = '$') {
  if (Buffer.isBuffer(want)) {
    assert.ok(Buffer.isBuffer(got) || got instanceof ArrayBuffer || ArrayBuffer.isView(got),
      `${where}: expected binary, got ${JSON.stringify(got)}`);
    const g = h.toBuffer(got);
    assert.equal(g.length, want.length, `${where}: length`);
    assert.ok(g.equals(want), `${where}: bytes differ`);
    return;
  }
  if (Array.isArray(want)) {
    assert.ok(Array.isArray(got), `${where}: expected an array, got ${JSON.stringify(got)}`);
    assert.equal(got.length, want.length, `${where}: length`);
    want.forEach((w, i) => assertSameDeep(got[i], w, `${where}[${i}]`));
    return;
  }
  if (want !== null && typeof want === 'object') {
    assert.ok(got !== null && typeof got === 'object' && !Array.isArray(got), `${where}: expected an object`);
    assert.deepEqual(Object.keys(got).sort(), Object.keys(want).sort(), `${where}: keys`);
    for (const k of Object.keys(want)) assertSameDeep(got[k], want[k], `${where}.${k}`);
    return;
  }
  assert.deepEqual(got, want, where);
}

for (const transport of ['polling', 'websocket']) {
  test(`several buffers nested in objects and arrays come back byte-identical (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const args = [
      bytes(10, 1),
      { name: 'file', data: bytes(1000, 2), parts: [bytes(1, 3), 'text', { inner: bytes(300, 4) }] },
      [bytes(256, 5), [bytes(7, 6)], 42],
      Buffer.from([0x00, 0xff, 0x1e, 0x0a, 0x62]), // NUL, 0xff, record separator, \n, 'b'
    ];
    const got = await h.ackAll(socket, 'echo', ...args);
    assertSameDeep(got, args);
  });

  test(`a binary event without ack comes back as an 'echo' event (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const payload = { a: bytes(64, 7), b: [bytes(65, 8), bytes(66, 9)] };
    const echoed = h.next(socket, 'echo');
    socket.emit('echo', payload, 'tail');
    assertSameDeep(await echoed, [payload, 'tail']);
  });

  test(`an empty buffer and a large buffer survive (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const big = crypto.randomBytes(200 * 1024);
    const got = await h.ackAll(socket, 'echo', Buffer.alloc(0), big);
    assertSameDeep(got, [Buffer.alloc(0), big]);
  });

  test(`a placeholder-looking object that is not binary stays JSON (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    // No attachment: the server must not treat it as one.
    const tricky = { _placeholder: 'no', num: 'zero' };
    assert.deepEqual(await h.ackAll(socket, 'echo', tricky), [tricky]);
  });

  test(`server-created binary with several attachments, as ack and as event (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const b = h.pluginBinary();
    const want = [{ small: b.small, list: [b.ramp, 'text', { deep: b.deep }], count: 3 }, b.second];
    assertSameDeep(await h.ackAll(socket, 'binary'), want);
    const ev = h.next(socket, 'binary');
    socket.emit('binary');
    assertSameDeep(await ev, want);
  });

  test(`binary and text events interleave without mixing attachments (${transport})`, T, async () => {
    const socket = await h.connect(srv().url, { transports: [transport] });
    const jobs = [];
    for (let i = 0; i < 30; i++) {
      const args = i % 2 ? [{ i, data: bytes(50 + i, i) }, bytes(i, 100 + i)] : [{ i, text: `t${i}` }];
      jobs.push(h.ackAll(socket, 'echo', ...args).then((got) => assertSameDeep(got, args, `#${i}`)));
    }
    await Promise.all(jobs);
  });
}

test('binary after an upgrade from polling to websocket', T, async () => {
  const socket = h.client(srv().url);
  await h.next(socket.io.engine, 'upgrade');
  assert.equal(socket.io.engine.transport.name, 'websocket');
  const args = [{ x: bytes(500, 11) }, bytes(3, 12)];
  assertSameDeep(await h.ackAll(socket, 'echo', ...args), args);
});
