'use strict';
// HTTP/1.1 pipelining: requests sent in one write on one connection.  A
// request with a body pipelined behind another used to freeze the whole
// server (libwebsockets 4.1.6 looped for ever over the connection's
// buffered input: see "pipelined requests" in host/engineio/http.c); now
// the requests before it are answered and that connection is closed.
// Pipelined requests without a body, and a body first, are served.  After
// each case a new connection is answered and the server stops on SIGTERM.
// The last cases have another connection keep pipelined input meanwhile (a
// Python reader: Node cannot shrink SO_RCVBUF to make a response stall).
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 30000 };
const ROUTE = { route: path.join(h.BUILD, 'tests', 'plugins', 'route', 'libroute_a.so') };

const GET = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
const post = (target, body, type = 'text/plain') =>
  `POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: ${type}\r\n` +
  `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

/* The status lines of the responses in raw text, in order. */
const statuses = (data) => [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

async function waitFor(pred, what, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await h.sleep(20);
  }
}

/* `text` in one write on a new connection; resolves once `n` responses
 * came, or the server closed the connection: {data, closed}. */
async function pipeline(port, text, n) {
  const conn = h.rawConn(port, 5000);
  await conn.connected;
  conn.sock.write(text);
  await waitFor(() => conn.ended || statuses(conn.data).length >= n,
    `no ${n} responses and no close; got ${JSON.stringify(conn.data)}`);
  return conn;
}

/* A new connection is answered: the server did not freeze. */
async function healthy(srv) {
  const conn = h.rawConn(srv.port, 3000);
  await conn.connected;
  conn.sock.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await conn.closed.catch((err) => {
    throw new Error(`a new connection was not answered (server frozen?): ${err.message}`);
  });
  assert.deepEqual(statuses(conn.data), [200], conn.data);
}

/* Each case on a server of its own, stopped on SIGTERM with exit 0. */
async function withServer(opts, fn) {
  const srv = await h.startServer(opts);
  try {
    await fn(srv);
    await healthy(srv);
  } finally {
    await h.stopChecked(srv);
  }
}

test.afterEach(() => h.closeAll());

test('GET + GET: both answered, the connection kept', T, () => withServer({}, async (srv) => {
  const conn = await pipeline(srv.port, GET + GET, 2);
  assert.deepEqual(statuses(conn.data), [200, 200]);
  await h.sleep(100);
  assert.equal(conn.ended, false, 'kept alive');
  conn.sock.write(GET);
  await waitFor(() => statuses(conn.data).length === 3, 'a third request on the same connection');
  conn.sock.destroy();
}));

test('GET + POST with a body to a 404 path: the GET answered, the connection closed', T,
  () => withServer({}, async (srv) => {
    const conn = await pipeline(srv.port, GET + post('/anything', 'abc'), 2);
    await conn.closed;
    assert.deepEqual(statuses(conn.data), [200], conn.data);
    assert.match(srv.stderr(), /a request with a body was pipelined behind another/);
  }));

test('GET + a polling POST of a real Engine.IO session: closed unserved, the session unharmed', T,
  () => withServer({}, async (srv) => {
    const raw = new h.RawPolling(srv.url);
    await raw.handshake();
    const target = `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(raw.sid)}`;
    const conn = await pipeline(srv.port, GET + post(target, '40', 'text/plain;charset=UTF-8'), 2);
    await conn.closed;
    assert.deepEqual(statuses(conn.data), [200], conn.data);
    // The POST was not read: the same payload on its own connects the socket.
    const { res, text } = await raw.post('40');
    assert.deepEqual([res.status, text], [200, 'ok']);
    const packet = await raw.take((p) => p.type === '4');
    assert.match(packet.data, /^0\{"sid":/);
  }));

test('a held polling GET + a POST of its session: the GET answered at the ping, then closed', T,
  () => withServer({ serverOptions: { pingInterval: 1000, pingTimeout: 5000 } }, async (srv) => {
    const raw = new h.RawPolling(srv.url);
    await raw.handshake();
    const target = `/socket.io/?EIO=4&transport=polling&sid=${encodeURIComponent(raw.sid)}`;
    const conn = await pipeline(srv.port,
      `GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n` + post(target, '40', 'text/plain;charset=UTF-8'), 2);
    await conn.closed;
    assert.deepEqual(statuses(conn.data), [200], conn.data);
    assert.match(conn.data, /\r\n\r\n2$/, 'the ping, and nothing for the POST');
  }));

test('GET + a WebSocket upgrade: both answered, the WebSocket opens', T, () => withServer({}, async (srv) => {
  const upgrade = 'GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\n' +
    'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
    'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
  const conn = await pipeline(srv.port, GET + upgrade, 2);
  await waitFor(() => conn.data.includes('"sid"'), 'no open packet over the WebSocket');
  assert.deepEqual(statuses(conn.data), [200, 101], conn.data);
  conn.sock.destroy();
}));

test('GET + a plugin route POST with a body: closed unserved; the route serves it alone', T,
  () => withServer({ plugins: ROUTE }, async (srv) => {
    const conn = await pipeline(srv.port, GET + post('/hook', 'hello'), 2);
    await conn.closed;
    assert.deepEqual(statuses(conn.data), [200], conn.data);
    const alone = await pipeline(srv.port, post('/hook', 'hello'), 1);
    assert.deepEqual(statuses(alone.data), [200], alone.data);
    assert.equal(JSON.parse(alone.data.slice(alone.data.indexOf('\r\n\r\n') + 4)).body, 'hello');
    alone.sock.destroy();
  }));

test('POST with a body + GET: both answered (the body is read from the socket)', T,
  () => withServer({ plugins: ROUTE }, async (srv) => {
    const conn = await pipeline(srv.port, post('/hook', 'abc') + GET, 2);
    assert.deepEqual(statuses(conn.data), [200, 200], conn.data);
    assert.match(conn.data, /"body":"abc"/);
    const missing = await pipeline(srv.port, post('/anything', 'abc') + GET, 2);
    assert.deepEqual(statuses(missing.data), [404, 200], missing.data);
    conn.sock.destroy();
    missing.sock.destroy();
  }));

test('three requests and a body pipelined: the two GETs answered, then closed', T,
  () => withServer({}, async (srv) => {
    const conn = await pipeline(srv.port, GET + GET + post('/anything', 'abc') + GET, 4);
    await conn.closed;
    assert.deepEqual(statuses(conn.data), [200, 200], conn.data);
  }));

test('a POST without Content-Length pipelined (lws waits for a body): closed, not frozen', T,
  () => withServer({}, async (srv) => {
    const conn = await pipeline(srv.port, `${GET}POST /anything HTTP/1.1\r\nHost: x\r\n\r\nabc`, 2);
    await conn.closed;
    assert.deepEqual(statuses(conn.data), [200], conn.data);
  }));

/* Sends a large GET with a GET pipelined behind it, reads nothing for
 * `hold` seconds (lws keeps the rest of the response, and the second
 * request unparsed), then closes.  Prints "sent" once written. */
const LINGER = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', int(sys.argv[1])))
s.sendall(b'GET /big.bin HTTP/1.1\\r\\nHost: x\\r\\n\\r\\nGET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n')
print('sent', flush=True)
time.sleep(float(sys.argv[2]))
s.close()
`;

test('while another connection keeps pipelined input: a body request from the socket is served, a pipelined one refused', T, async () => {
  await whileOthersKeepInput(async (srv) => {
    // A body request read from the socket: served (405 from the site).
    const fresh = await pipeline(srv.port, post('/anything', 'abc'), 1);
    assert.deepEqual(statuses(fresh.data), [405], fresh.data);
    fresh.sock.destroy();
    // One sent after a response on the same connection: served too.
    assert.deepEqual(await thenPost(srv.port, GET), [200, 405]);
    // Pipelined behind a GET: refused, the connection closed.
    const piped = await pipeline(srv.port, GET + post('/anything', 'abc'), 2);
    await piped.closed;
    assert.deepEqual(statuses(piped.data), [200], piped.data);
  });
});

/* Whether the request after `first` on one kept connection, sent once
 * `first` was answered (not pipelined), is answered: the statuses. */
async function thenPost(port, first, bytes = 0) {
  const conn = await pipeline(port, first, 1);
  if (bytes)
    await waitFor(() => conn.data.length >= bytes, 'the whole first response');
  conn.sock.write(post('/anything', 'abc'));
  await waitFor(() => statuses(conn.data).length === 2 || conn.ended,
    'no answer to a request on a kept connection');
  conn.sock.destroy();
  return statuses(conn.data);
}

/* Runs `fn(srv)` while another connection keeps pipelined input (behind a
 * 5 MB response its reader does not read), with mid.bin (300 KB) served. */
async function whileOthersKeepInput(fn) {
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'plugio-pipe-'));
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(5 * 1024 * 1024, 7));
  fs.writeFileSync(path.join(dir, 'mid.bin'), Buffer.alloc(300 * 1024, 7));
  await withServer({ server: { static: [{ path: '/', dir }] } }, async (srv) => {
    const reader = spawn('/usr/bin/python3', ['-c', LINGER, String(srv.port), '10'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      reader.stdout.on('data', (d) => { out += d; });
      await waitFor(() => out.includes('sent'), 'the reader did not send');
      await h.sleep(300); /* the large response is under way and stalls */
      await fn(srv);
    } finally {
      reader.kill();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}

const MID = 'GET /mid.bin HTTP/1.1\r\nHost: x\r\n\r\n';

test('while another connection keeps pipelined input: a body request after a response lws sent the rest of is served; one pipelined behind it refused', T,
  () => whileOthersKeepInput(async (srv) => {
    // Read whole, then a POST on the same connection: served.
    assert.deepEqual(await thenPost(srv.port, MID, 300 * 1024), [200, 405]);
    // Pipelined behind it: refused once the response is out, the connection closed.
    const piped = await pipeline(srv.port, MID + post('/anything', 'abc'), 1);
    await piped.closed;
    assert.deepEqual(statuses(piped.data), [200], piped.data.slice(0, 200));
  }));

// Known false positive (left): a response written before its request's body
// was read leaves lws discarding the body afterwards, so the bytes read no
// longer tell a request from the socket from a buffered one; while another
// connection keeps input, the next request with a body is refused.
test('while another connection keeps pipelined input: a body request after a 405 whose body lws discarded is served', { ...T, todo: 'http.c input_buffered: MARK_UNKNOWN after a discarded body' },
  () => whileOthersKeepInput(async (srv) => {
    assert.deepEqual(await thenPost(srv.port, post('/anything', 'abc')), [405, 405]);
  }));
