'use strict';
// Sends that close the session they are made in.  A client lets its own
// queue fill to just under plugio's per-session bound (64 MiB) by not
// reading; then one more send pushes it over, and the session closes in
// the middle of what the host was doing:
//  - a recovery whose missed packets (7 MB) overflow it inside the CONNECT:
//    the socket must not be used after that (AddressSanitizer would say);
//  - a plugin's pio_emit_with_ack of 8 MB: it must return PIO_ECLOSED, not
//    register an ack that would never settle (LeakSanitizer would say).
// The server goes on either way.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');
const IO = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');

const T = { timeout: 120000 };
const OVERFLOW = /over 64 MiB queued/;

/* Bytes the kernel holds for the connection between `port` and `srvPort`
 * (both directions): what the server's queue has already handed off. */
function kernelHeld(port, srvPort) {
  let sum = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const l = parseInt(f[1].split(':')[1], 16), r = parseInt(f[2].split(':')[1], 16);
    if ((l === port && r === srvPort) || (l === srvPort && r === port)) {
      const [tx, rx] = f[4].split(':').map((x) => parseInt(x, 16));
      sum += tx + rx;
    }
  }
  return sum;
}

/* A raw client in /custom that stops reading and has its echoes queue on
 * the server until fewer than `room` bytes are left under the bound. */
async function nearlyFull(srv, room) {
  const c = new h.RawWs(srv.url);
  await c.opened;
  await c.take((m) => typeof m === 'string' && m[0] === '0');
  c.send('40/custom,');
  await c.take((m) => typeof m === 'string' && m.startsWith('40/custom,'));
  c.ws._socket.pause();
  const chunk = 'y'.repeat(990000);
  let sent = 0;
  for (let i = 0; i < 20; i++) { c.send(`42/custom,["echo","${chunk}"]`); sent += chunk.length + 30; }
  await h.sleep(2000);
  const held = kernelHeld(c.ws._socket.localPort, srv.port);
  const more = Math.floor((64 * 1048576 - room - (sent - held - 1000000)) / (chunk.length + 30));
  for (let i = 0; i < more; i++) c.send(`42/custom,["echo","${chunk}"]`);
  await h.sleep(3000);
  assert.doesNotMatch(srv.stderr(), OVERFLOW, 'the queue overflowed while filling: resize the fill');
  return c;
}

async function overflowed(srv) {
  for (let i = 0; i < 200 && !OVERFLOW.test(srv.stderr()); i++) await h.sleep(25);
  assert.match(srv.stderr(), OVERFLOW, 'the last send did not overflow the queue: the test missed its case');
  const d = await h.connect(srv.url, { transports: ['websocket'] }); // the server goes on
  d.close();
}

async function checkedStop(srv) {
  await srv.stop();
  assert.equal(h.sanitizerReport(srv.stderr()), null, srv.stderr());
}

test('a recovery replay that overflows the session queue', T, async () => {
  const srv = await h.startServer({
    plugins: { io: IO },
    serverOptions: { connectionStateRecovery: true },
    events: [
      { name: 'connection', handler: 'e2e:on_connection' },
      { name: 'bcast', handler: 'io:io_bcast' },
      { name: 'echo', namespace: '/custom', handler: 'e2e:echo' },
    ],
  });
  try {
    // A joins "/", gets its pid and the offset of its welcome, and its
    // connection dies: its session is kept.
    const a = new h.RawWs(srv.url);
    await a.opened;
    await a.take((m) => typeof m === 'string' && m[0] === '0');
    a.send('40');
    const conn = JSON.parse((await a.take((m) => typeof m === 'string' && m.startsWith('40'))).slice(2));
    const welcome = JSON.parse((await a.take((m) => typeof m === 'string' && m.startsWith('42'))).slice(2));
    const offset = welcome[welcome.length - 1];
    a.ws.terminate();
    await h.sleep(300);
    // 7 packets of 1 MB for "/" are logged while A is away.
    const b = await h.connect(srv.url, { transports: ['websocket'] });
    await b.timeout(20000).emitWithAck('bcast', { sel: {}, event: 'big', size: 1000000, repeat: 7 });
    // C, nearly full, recovers A's session on "/": the replay overflows it.
    const c = await nearlyFull(srv, 3 * 1000000);
    c.send(`40${JSON.stringify({ pid: conn.pid, offset })}`);
    await overflowed(srv);
  } finally {
    await checkedStop(srv);
  }
});

test("a plugin's emit with ack that overflows the session queue returns PIO_ECLOSED", T, async () => {
  const srv = await h.startServer({
    serverOptions: { maxHttpBufferSize: 10000000 },
    events: [
      { name: 'echo', namespace: '/custom', handler: 'e2e:echo' },
      { name: 'ask', namespace: '/custom', handler: 'e2e:ask' },
    ],
  });
  try {
    const c = await nearlyFull(srv, 3 * 1000000);
    // No timeout: an ack registered on the closed socket would never settle.
    c.send(`42/custom,["ask",{"args":["${'z'.repeat(8000000)}"]}]`);
    await overflowed(srv);
    for (let i = 0; i < 100 && !/pio_emit_with_ack: socket disconnected/.test(srv.stderr()); i++) await h.sleep(20);
    assert.match(srv.stderr(), /pio_emit_with_ack: socket disconnected/);
  } finally {
    await checkedStop(srv);
  }
});
