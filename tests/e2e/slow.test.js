'use strict';
// server.headersTimeout / server.requestTimeout: a request head or a polling
// POST body that trickles in (slowloris) is cut with 408 and closed, while
// other clients go on; a slow request that completes in time is served; an
// established WebSocket and a held long-poll GET are not subject to it.
// socket.serverOptions.maxQueueBytes: a client that does not read is
// disconnected once that much is queued for it; others go on.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 20000 };
const HEADERS_MS = 1000;
const REQUEST_MS = 1500;
test.afterEach(() => h.closeAll());

/* Acked echoes on `socket` until `done` resolves; resolves with how many
 * were answered (each within a bounded wait). */
async function exchange(socket, done) {
  let stop = false;
  done.finally(() => { stop = true; });
  let n = 0;
  while (!stop) {
    const [got] = await h.ackAll(socket, 'echo', `m${n}`);
    assert.equal(got, `m${n}`);
    n++;
    await h.sleep(50);
  }
  return n;
}

test.describe('slow requests', () => {
  const srv = h.serverFor(test, {
    server: { headersTimeout: HEADERS_MS, requestTimeout: REQUEST_MS },
    serverOptions: { pingInterval: 2500, pingTimeout: 5000 },
  });

  test('a request head trickled one byte per 200 ms is cut with 408; others go on', T, async (t) => {
    const other = await h.connect(srv().url, { transports: ['websocket'] });
    const conn = h.rawConn(srv().port);
    await conn.connected;
    const head = 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n\r\n';
    const start = Date.now();
    const [written, answered] = await Promise.all([h.trickle(conn, head), exchange(other, conn.closed)]);
    t.diagnostic(`cut after ${Date.now() - start} ms and ${written} of ${head.length} bytes; ` +
      `the other client had ${answered} acked echoes meanwhile`);
    assert.ok(written < head.length, 'the whole head was sent before the server cut it');
    assert.match(conn.data, /^HTTP\/1\.1 408 /);
    assert.ok(answered > 0);
    assert.match(srv().stderr(), /cut a slow request from 127\.0\.0\.1: its head had not arrived within server\.headersTimeout \(1000 ms\): 408, closed/);
    assert.deepEqual(await h.ackAll(other, 'echo', 'still'), ['still']);
  });

  test('a polling POST body trickled one byte per 200 ms is cut with 408; others go on', T, async (t) => {
    const other = await h.connect(srv().url, { transports: ['websocket'] });
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    const body = '42["echo","' + 'x'.repeat(40) + '"]';
    const conn = h.rawConn(srv().port);
    await conn.connected;
    conn.sock.write(`POST /socket.io/?EIO=4&transport=polling&sid=${raw.sid} HTTP/1.1\r\n` +
      `Host: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`);
    const start = Date.now();
    const [written, answered] = await Promise.all([h.trickle(conn, body), exchange(other, conn.closed)]);
    t.diagnostic(`cut after ${Date.now() - start} ms and ${written} of ${body.length} body bytes; ` +
      `the other client had ${answered} acked echoes meanwhile`);
    assert.ok(written < body.length, 'the whole body was sent before the server cut it');
    assert.match(conn.data, /^HTTP\/1\.1 408 /);
    assert.ok(answered > 0);
    assert.match(srv().stderr(), /cut a slow request from 127\.0\.0\.1: its body had not arrived within server\.requestTimeout \(1500 ms\): 408, closed/);
    assert.deepEqual(await h.ackAll(other, 'echo', 'still'), ['still']);
  });

  test('a slow request that completes within the limits is served', T, async () => {
    // The head in four pieces 150 ms apart, well inside headersTimeout.
    const conn = h.rawConn(srv().port);
    await conn.connected;
    const head = 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n';
    const q = Math.ceil(head.length / 4);
    for (let i = 0; i < head.length; i += q) {
      conn.sock.write(head.slice(i, i + q));
      await h.sleep(150);
    }
    await conn.closed;
    assert.match(conn.data, /^HTTP\/1\.1 200 /);
    const sid = /"sid":"([^"]+)"/.exec(conn.data)[1];

    // A POST whose body comes in pieces 150 ms apart, inside requestTimeout.
    const body = '40';
    const post = h.rawConn(srv().port);
    await post.connected;
    post.sock.write(`POST /socket.io/?EIO=4&transport=polling&sid=${sid} HTTP/1.1\r\n`);
    await h.sleep(150);
    post.sock.write(`Host: 127.0.0.1\r\nConnection: close\r\nContent-Type: text/plain;charset=UTF-8\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`);
    for (const c of body) {
      await h.sleep(150);
      post.sock.write(c);
    }
    await post.closed;
    assert.match(post.data, /^HTTP\/1\.1 200 [^]*\r\n\r\nok$/);
  });

  test('a kept-alive connection: an idle one is closed quietly, a trickled next head is cut', T, async () => {
    const head = 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n';
    const idle = h.rawConn(srv().port);
    await idle.connected;
    idle.sock.write(head);
    await idle.closed; // no next request within headersTimeout
    assert.equal(idle.data.match(/HTTP\/1\.1 /g).length, 1, idle.data);
    assert.match(idle.data, /^HTTP\/1\.1 200 /);

    const next = h.rawConn(srv().port);
    await next.connected;
    next.sock.write(head);
    while (!/\r\n\r\n0\{/.test(next.data)) await h.sleep(20); // the first response is in
    // The request line's start at once (it tells a next request from an
    // idle connection), the rest one byte per 200 ms.
    const begin = 'GET /socket.io/?EIO=4';
    next.sock.write(begin);
    const written = await h.trickle(next, head.slice(begin.length));
    await next.closed;
    assert.ok(written < head.length - begin.length);
    const answers = next.data.match(/HTTP\/1\.1 \d+/g);
    assert.deepEqual(answers, ['HTTP/1.1 200', 'HTTP/1.1 408'], next.data);
  });

  test('an established WebSocket idle longer than the timeouts is not cut', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    let reason = null;
    socket.on('disconnect', (r) => { reason = r; });
    await h.sleep(2 * REQUEST_MS + 500);
    assert.equal(reason, null);
    assert.deepEqual(await h.ackAll(socket, 'echo', 'awake'), ['awake']);
  });

  test('a held long-poll GET outlasts the timeouts and is answered by the heartbeat', T, async (t) => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    const start = Date.now();
    const { res, packets } = await raw.get(8000); // nothing to send: held until the ping
    t.diagnostic(`held ${Date.now() - start} ms`);
    assert.equal(res.status, 200);
    assert.deepEqual(packets.map((p) => p.type), ['2']);
    assert.equal((await raw.post('3')).res.status, 200);
  });
});

test.describe('socket.serverOptions.maxQueueBytes', () => {
  const CAP = 64 * 1024;
  const srv = h.serverFor(test, { serverOptions: { maxQueueBytes: CAP } });

  test('a client that does not read is disconnected past the cap; others go on', T, async (t) => {
    const good = await h.connect(srv().url, { transports: ['websocket'] });
    const slow = new h.RawWs(srv().url);
    const sid = await slow.connectSio();
    slow.ws.pause(); // stop reading: the server's writes back up
    const SIZE = 60000;
    // Echoes answered with as many bytes as they carry, until the server gives up on it.
    const sent = await h.floodUntilDropped(srv(), slow, sid, good, SIZE, 15000);
    t.diagnostic(`closed after ${sent} echoes of ${SIZE} bytes sent`);
    assert.match(srv().stderr(), new RegExp(`session \\S+: over 64 KiB queued for a client that does not read; ` +
      `closing \\(transport error\\): \\d+ bytes queued, \\d+ more, socket\\.serverOptions\\.maxQueueBytes is ${CAP}`));
    slow.ws.resume();
    await Promise.race([slow.closed, h.sleep(10000).then(() => { throw new Error('the slow client was not closed'); })]);
    assert.deepEqual(await h.ackAll(good, 'echo', 'fine'), ['fine']);
  });
});
