'use strict';
// How static files are sent, with a real plugio: a large response to a
// slow reader (server.headersTimeout/requestTimeout bound the time
// between two steps of the send, not the whole of it), and to one that
// stops reading (cut, logged, counted apart).
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
const h = require('./helpers');

const T = { timeout: 60000 };
const LIMIT_MS = 1000;
const BIG = 5 * 1024 * 1024;

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
