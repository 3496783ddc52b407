'use strict';
// httpCompression (socket.io's default: on, threshold 1024): a polling
// response of 1024 bytes or more is gzipped (or deflated) when the request
// offers it; smaller ones, requests without Accept-Encoding, and servers
// with httpCompression: false answer plain.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const zlib = require('node:zlib');
const undici = require('undici');
const h = require('./helpers');

const T = { timeout: 15000 };
const on = h.serverFor(test, {});
const off = h.serverFor(test, { serverOptions: { httpCompression: false } });
const low = h.serverFor(test, { serverOptions: { httpCompression: { threshold: 100, level: 1 } } });
test.afterEach(() => h.closeAll());

/* A raw GET that leaves the body as sent: {status, headers, body: Buffer}. */
function rawGet(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

/* A connected polling session whose next GET carries the ack of an
 * "echo" of `text`: resolves with the session and that payload. */
async function sessionWithEcho(url, text) {
  const raw = new h.RawPolling(url);
  await raw.connectSio();
  const packet = `421${JSON.stringify(['echo', text])}`;
  const posted = await raw.post(packet);
  assert.equal(posted.res.status, 200);
  return { raw, expected: `431${JSON.stringify([text])}` };
}

const BIG = JSON.stringify(Array.from({ length: 60 }, (_, i) => ({ id: i, name: `user-${i}`, online: i % 2 === 0 })));

test('a big polling payload comes back gzipped to undici fetch, intact', T, async () => {
  const { raw, expected } = await sessionWithEcho(on().url, BIG);
  const res = await undici.fetch(raw.sessionUrl, { signal: AbortSignal.timeout(5000) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-encoding'), 'gzip');
  assert.equal(await res.text(), expected);
});

test('a raw GET with Accept-Encoding: gzip gets gzip, with the compressed length', T, async () => {
  const { raw, expected } = await sessionWithEcho(on().url, BIG);
  const res = await rawGet(raw.sessionUrl, { 'accept-encoding': 'gzip' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.equal(Number(res.headers['content-length']), res.body.length);
  assert.ok(res.body.length < expected.length / 3, `${res.body.length} bytes for ${expected.length}`);
  assert.equal(zlib.gunzipSync(res.body).toString(), expected);
});

test('Accept-Encoding: deflate gets zlib deflate', T, async () => {
  const { raw, expected } = await sessionWithEcho(on().url, BIG);
  const res = await rawGet(raw.sessionUrl, { 'accept-encoding': 'deflate' });
  assert.equal(res.headers['content-encoding'], 'deflate');
  assert.equal(zlib.inflateSync(res.body).toString(), expected);
});

test('a payload under the threshold stays plain', T, async () => {
  const { raw, expected } = await sessionWithEcho(on().url, 'x'.repeat(900));
  const res = await rawGet(raw.sessionUrl, { 'accept-encoding': 'gzip' });
  assert.equal(res.headers['content-encoding'], undefined);
  assert.equal(res.body.toString(), expected);
});

test('without Accept-Encoding, or with only other codings, the payload is plain', T, async () => {
  for (const headers of [{}, { 'accept-encoding': 'br' }, { 'accept-encoding': 'gzip;q=0' }]) {
    const { raw, expected } = await sessionWithEcho(on().url, BIG);
    const res = await rawGet(raw.sessionUrl, headers);
    assert.equal(res.headers['content-encoding'], undefined, JSON.stringify(headers));
    assert.equal(res.body.toString(), expected);
  }
});

test('httpCompression: false answers plain', T, async () => {
  const { raw, expected } = await sessionWithEcho(off().url, BIG);
  const res = await rawGet(raw.sessionUrl, { 'accept-encoding': 'gzip, deflate' });
  assert.equal(res.headers['content-encoding'], undefined);
  assert.equal(res.body.toString(), expected);
});

test('httpCompression: {threshold} sets where compression starts', T, async () => {
  const { raw, expected } = await sessionWithEcho(low().url, 'y'.repeat(200));
  const res = await rawGet(raw.sessionUrl, { 'accept-encoding': 'gzip' });
  assert.equal(res.headers['content-encoding'], 'gzip');
  assert.equal(zlib.gunzipSync(res.body).toString(), expected);
});

test('stock socket.io-client over polling still round-trips big events', T, async () => {
  const socket = await h.connect(on().url, { transports: ['polling'] });
  const payload = { list: JSON.parse(BIG), pad: 'z'.repeat(5000) };
  assert.deepEqual(await h.ackAll(socket, 'echo', payload), [payload]);
});
