'use strict';
// How static files are sent, with a real plugio: a large response to a
// slow reader (server.headersTimeout/requestTimeout bound the time
// between two steps of the send, not the whole of it), to one that stops
// reading (cut, logged, counted apart), and the cache of compressed
// bodies (plugio_static_cache_hits_total), its limit per file.
//
// The readers are Python sockets: Node cannot set SO_RCVBUF on a TCP
// socket, and with the default (auto-tuned to megabytes on loopback) the
// kernel would take the whole 5 MB body at once, and there would be no
// slow reader to see.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const h = require('./helpers');

const T = { timeout: 60000 };
const LIMIT_MS = 1000;
const BIG = 5 * 1024 * 1024;
const CLIENT_DIST = path.join(h.REPO, 'web', 'node_modules', 'socket.io-client', 'dist');

/* A reader with a 4 KB receive buffer: sends `request`, waits `stall`
 * seconds, then reads the response at `rate` bytes a second (0: as fast
 * as it comes) for at most `limit` seconds; with `then`, sends it once the
 * first body is whole and reads the answer's status line.  Prints JSON:
 * {status, length (Content-Length), body (bytes of it read), sha256,
 * end: "eof" | "reset" | "timeout" | "done", elapsed, second}. */
const READER = `
import hashlib, json, socket, sys, time
port, request, rate, stall, limit, then = sys.argv[1:7]
rate, stall, limit = float(rate), float(stall), float(limit)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(('127.0.0.1', int(port)))
s.sendall(request.encode('latin1'))
t0 = time.monotonic()
time.sleep(stall)
s.settimeout(0.5)
got = bytearray()
end = 'timeout'
head = None
length = None
second = None
while time.monotonic() - t0 < limit:
    try:
        d = s.recv(16384)
    except socket.timeout:
        continue
    except ConnectionResetError:
        end = 'reset'
        break
    if not d:
        end = 'eof'
        break
    got += d
    if head is None and b'\\r\\n\\r\\n' in got:
        i = got.index(b'\\r\\n\\r\\n')
        head = got[:i].decode('latin1')
        got = got[i + 4:]
        for line in head.split('\\r\\n')[1:]:
            k, _, v = line.partition(':')
            if k.strip().lower() == 'content-length':
                length = int(v)
    if head is not None and length is not None and len(got) >= length and then:
        s.sendall(then.encode('latin1'))
        rest = bytearray(got[length:])
        got = got[:length]
        s.settimeout(5)
        while b'\\r\\n' not in rest:
            d = s.recv(4096)
            if not d:
                break
            rest += d
        second = rest.split(b'\\r\\n')[0].decode('latin1')
        end = 'done'
        break
    if rate > 0:
        ahead = len(got) / rate - (time.monotonic() - t0 - stall)
        if ahead > 0:
            time.sleep(ahead)
status = int(head.split(' ')[1]) if head else None
print(json.dumps({'status': status, 'length': length, 'body': len(got),
                  'sha256': hashlib.sha256(bytes(got)).hexdigest(), 'end': end,
                  'elapsed': time.monotonic() - t0, 'second': second}))
`;

function reader(port, { request, rate = 0, stall = 0, limit = 30, then = '' }) {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', ['-c', READER, String(port), request, String(rate),
      String(stall), String(limit), then], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`reader exited ${code}: ${err}`));
      else resolve(JSON.parse(out));
    });
  });
}

/* The value of one sample of the metrics scrape (exposition format:
 * `name{labels} value`). */
async function metric(srv, sample) {
  const res = await fetch(`${srv.url}/metrics`);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `no sample ${sample} in the scrape:\n${text}`);
  return Number(line.slice(sample.length + 1));
}
const refused = (srv, reason) => metric(srv, `plugio_connections_refused_total{reason="${reason}"}`);

function request(url, { method = 'GET', headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(20000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

function decode(res) {
  const enc = res.headers['content-encoding'];
  if (enc === 'gzip') return zlib.gunzipSync(res.body);
  if (enc === 'deflate') return zlib.inflateSync(res.body);
  return res.body;
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

test.describe('a large response, headersTimeout and requestTimeout at 1000 ms', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-send-'));
  const big = crypto.randomBytes(BIG);
  fs.writeFileSync(path.join(dir, 'big.bin'), big);
  fs.writeFileSync(path.join(dir, 'small.txt'), 'small\n');
  const srv = h.serverFor(test, {
    server: {
      headersTimeout: LIMIT_MS,
      requestTimeout: LIMIT_MS,
      metrics: true,
      static: [{ path: '/', dir }],
    },
  });
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a slow reader gets every byte over 3.5 times the timeout, and its connection serves the next request', T, async (t) => {
    const r = await reader(srv().port, {
      request: 'GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n',
      rate: BIG / 3.5, // bytes a second
      then: 'GET /small.txt HTTP/1.1\r\nHost: x\r\n\r\n',
    });
    t.diagnostic(`read ${r.body} bytes in ${r.elapsed.toFixed(1)} s`);
    assert.equal(r.status, 200);
    assert.equal(r.length, BIG);
    assert.equal(r.body, BIG, JSON.stringify(r));
    assert.equal(r.sha256, sha(big));
    assert.ok(r.elapsed > 3 * LIMIT_MS / 1000, `the read took ${r.elapsed} s: not slow enough to test anything`);
    assert.equal(r.end, 'done');
    assert.equal(r.second, 'HTTP/1.1 200 OK', 'the kept-alive connection answers the next request');
  });

  test('with Connection: close, a reader slower than lws\'s 5 s flush gets every byte, then the close', T, async (t) => {
    const r = await reader(srv().port, {
      request: 'GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
      rate: BIG / 6.5,
    });
    t.diagnostic(`read ${r.body} bytes in ${r.elapsed.toFixed(1)} s`);
    assert.equal(r.status, 200);
    assert.equal(r.body, BIG, JSON.stringify(r));
    assert.equal(r.sha256, sha(big));
    assert.ok(r.elapsed > 6, `the read took ${r.elapsed} s`);
    assert.equal(r.end, 'eof', 'closed after the body');
  });

  test('neither slow reader counts as a timeout', T, async () => {
    assert.equal(await refused(srv(), 'timeout'), 0);
    assert.equal(await refused(srv(), 'send_stalled'), 0);
    assert.doesNotMatch(srv().stderr(), /cut a/);
  });

  test('a reader that stops reading is cut, logged and counted, within a bounded time', T, async () => {
    for (const close of ['', 'Connection: close\r\n']) {
      const before = await refused(srv(), 'send_stalled');
      // It reads nothing for 6 s; the server cuts it after 1 s without
      // progress (checked each second), then it reads what is left.
      const r = await reader(srv().port, { request: `GET /big.bin HTTP/1.1\r\nHost: x\r\n${close}\r\n`, stall: 6, limit: 12 });
      assert.ok(['reset', 'eof'].includes(r.end), JSON.stringify(r));
      assert.ok(r.body < BIG / 2, `${close || 'keep-alive'}: ${r.body} bytes arrived: the response was not cut`);
      assert.equal(await refused(srv(), 'send_stalled'), before + 1, close || 'keep-alive');
    }
    assert.match(srv().stderr(), /WARN +plugio: cut a response to 127\.0\.0\.1: the peer read nothing of it for 1000 ms \(the shorter of server\.headersTimeout and server\.requestTimeout\): closed \(1 cut so far\)/);
    assert.equal(await refused(srv(), 'timeout'), 0, 'not a slow request');
    // The server goes on.
    assert.equal((await request(`${srv().url}/small.txt`)).body.toString(), 'small\n');
  });
});

test.describe('the cache of compressed bodies', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-zipcache-'));
  const text = (n, word) => Buffer.from(`// ${word}: plugio compresses this file once\n`.repeat(n));
  const app = text(5000, 'app'); // ~230 KB
  const huge = text(Math.ceil((4 * 1024 * 1024 + 1) / 40), 'huge').subarray(0, 4 * 1024 * 1024 + 1);
  const edge = text(Math.ceil((4 * 1024 * 1024) / 40), 'edge').subarray(0, 4 * 1024 * 1024);
  fs.writeFileSync(path.join(dir, 'app.js'), app);
  fs.writeFileSync(path.join(dir, 'huge.js'), huge);
  fs.writeFileSync(path.join(dir, 'edge.js'), edge);
  const srv = h.serverFor(test, { server: { metrics: true, static: [{ path: '/', dir }] } });
  test.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const hits = () => metric(srv(), 'plugio_static_cache_hits_total');
  const misses = () => metric(srv(), 'plugio_static_cache_misses_total');
  const get = (p, accept, method) => request(`${srv().url}${p}`, { method, headers: accept ? { 'accept-encoding': accept } : {} });

  test('the second request for a compressed file, GET or HEAD, is served from the cache', T, async () => {
    assert.equal(await hits(), 0);
    const first = await get('/app.js', 'gzip');
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.deepEqual(decode(first), app);
    assert.equal(await hits(), 0);
    assert.equal(await misses(), 1);
    const second = await get('/app.js', 'gzip');
    assert.deepEqual(second.body, first.body, 'the same compressed bytes');
    assert.equal(second.headers.etag, first.headers.etag);
    assert.equal(await hits(), 1);
    const head = await get('/app.js', 'gzip', 'HEAD');
    assert.equal(head.headers['content-length'], String(first.body.length));
    assert.equal(await hits(), 2);
    // deflate is another body: compressed once, then kept too.
    const deflated = await get('/app.js', 'deflate', 'HEAD');
    assert.equal(deflated.headers['content-encoding'], 'deflate');
    assert.equal(await misses(), 2);
    assert.deepEqual(decode(await get('/app.js', 'deflate')), app);
    assert.equal(await hits(), 3);
    assert.ok(await metric(srv(), 'plugio_static_cache_bytes') >= first.body.length);
    // Identity is read from the file: no cache involved.
    assert.deepEqual((await get('/app.js')).body, app);
    assert.equal(await hits(), 3);
    assert.equal(await misses(), 2);
  });

  test('a changed file is compressed again: a new modification time, or the same size and time put back', T, async () => {
    const file = path.join(dir, 'app.js');
    const changed = Buffer.from(app.toString().replace(/app/g, 'new'));
    assert.equal(changed.length, app.length);
    const { atime, mtime } = fs.statSync(file);
    fs.writeFileSync(file, changed);
    fs.utimesSync(file, atime, new Date(mtime.getTime() + 5000));
    const h0 = await hits();
    const res = await get('/app.js', 'gzip');
    assert.deepEqual(decode(res), changed, 'a new modification time');
    assert.equal(await hits(), h0);
    // Back to the old size and modification time, other bytes: the
    // change time tells.
    const again = Buffer.from(app.toString().replace(/app/g, 'old'));
    fs.writeFileSync(file, again);
    fs.utimesSync(file, atime, new Date(mtime.getTime() + 5000));
    assert.deepEqual(decode(await get('/app.js', 'gzip')), again, 'the same size and modification time');
    assert.equal(await hits(), h0);
    assert.deepEqual(decode(await get('/app.js', 'gzip')), again);
    assert.equal(await hits(), h0 + 1);
  });

  test('a file over 4 MiB is sent as it is even to a client that asks for gzip; one of exactly 4 MiB is compressed', T, async () => {
    for (const method of ['GET', 'HEAD']) {
      const res = await get('/huge.js', 'gzip', method);
      assert.equal(res.status, 200, method);
      assert.equal(res.headers['content-encoding'], undefined, method);
      assert.equal(res.headers.vary, undefined, `${method}: the answer does not depend on Accept-Encoding`);
      assert.equal(res.headers['content-length'], String(huge.length), method);
      if (method === 'GET') assert.equal(sha(res.body), sha(huge));
    }
    const res = await get('/edge.js', 'gzip');
    assert.equal(res.headers['content-encoding'], 'gzip');
    assert.equal(sha(decode(res)), sha(edge));
  });

  test('the client bundles go through the same cache', T, async () => {
    const want = fs.readFileSync(path.join(CLIENT_DIST, 'socket.io.js'));
    const h0 = await hits();
    const first = await get('/socket.io/socket.io.js', 'gzip');
    assert.equal(first.headers['content-encoding'], 'gzip');
    assert.deepEqual(decode(first), want);
    assert.equal(await hits(), h0);
    const second = await get('/socket.io/socket.io.js', 'gzip');
    assert.deepEqual(second.body, first.body);
    assert.equal(await hits(), h0 + 1);
  });
});
