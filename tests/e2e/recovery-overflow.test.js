'use strict';
// Recovery that closes the session it recovers into: a client lets its own
// queue fill to just under plugio's per-session bound (64 MiB), then
// recovers a session whose missed packets (7 MB) push it over, so the
// session closes in the middle of the CONNECT.  The socket must not be
// used after that (AddressSanitizer would report it) and the server goes on.
const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const WebSocket = require('ws');
const h = require('./helpers');
const IO = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');

test('recovery replay that overflows the session queue', { timeout: 120000 }, async () => {
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
    // 1. A joins "/", gets its pid and the offset of its welcome.
    const a = new h.RawWs(srv.url);
    await a.opened;
    await a.take((m) => typeof m === 'string' && m[0] === '0');
    a.send('40');
    const conn = JSON.parse((await a.take((m) => typeof m === 'string' && m.startsWith('40'))).slice(2));
    const welcome = JSON.parse((await a.take((m) => typeof m === 'string' && m.startsWith('42'))).slice(2));
    const offset = welcome[welcome.length - 1];
    // 2. A's connection dies: its session is kept.
    a.ws.terminate();
    await h.sleep(300);
    // 3. 7 packets of 1 MB for "/" are logged while A is away.
    const b = await h.connect(srv.url, { transports: ['websocket'] });
    await b.timeout(20000).emitWithAck('bcast', { sel: {}, event: 'big', size: 1000000, repeat: 7 });
    // 4. C fills its own queue with echoes it does not read.
    const c = new h.RawWs(srv.url);
    await c.opened;
    await c.take((m) => typeof m === 'string' && m[0] === '0');
    c.send('40/custom,');
    await c.take((m) => typeof m === 'string' && m.startsWith('40/custom,'));
    c.ws._socket.pause();
    const chunk = 'y'.repeat(990000);
    const fs = require('node:fs');
    const absorbed = () => {
      let sum = 0;
      const lp = c.ws._socket.localPort, sp = srv.port;
      for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f.length < 5) continue;
        const l = parseInt(f[1].split(':')[1], 16), r = parseInt(f[2].split(':')[1], 16);
        if ((l === lp && r === sp) || (l === sp && r === lp)) {
          const [tx, rx] = f[4].split(':').map((x) => parseInt(x, 16));
          sum += tx + rx;
        }
      }
      return sum;
    };
    let sent = 0;
    for (let i = 0; i < 20; i++) { c.send(`42/custom,["echo","${chunk}"]`); sent += chunk.length + 30; }
    await h.sleep(2000);
    const abs = absorbed();
    const target = 64 * 1048576 - 3 * 1000000; // leave less room than the 7 MB replay
    const more = Math.floor((target - (sent - abs - 1000000)) / (chunk.length + 30));
    for (let i = 0; i < more; i++) c.send(`42/custom,["echo","${chunk}"]`);
    await h.sleep(3000);
    const overflow = /over 64 MiB queued/;
    assert.doesNotMatch(srv.stderr(), overflow, 'the queue overflowed before the recovery: resize the fill');
    // 5. C recovers A's session on "/": the replay overflows C's queue.
    c.send(`40${JSON.stringify({ pid: conn.pid, offset })}`);
    for (let i = 0; i < 200 && !overflow.test(srv.stderr()); i++) await h.sleep(25);
    assert.match(srv.stderr(), overflow, 'the replay did not overflow the queue: the test missed its case');
    // The server goes on.
    const d = await h.connect(srv.url, { transports: ['websocket'] });
    d.close();
  } finally {
    await srv.stop();
    assert.equal(h.sanitizerReport(srv.stderr()), null, srv.stderr());
  }
});
