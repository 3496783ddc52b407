'use strict';
// serverOptions.cors, checked with raw HTTP requests as a browser would send them.
const test = require('node:test');
const assert = require('node:assert/strict');
const h = require('./helpers');

const T = { timeout: 15000 };
const HANDSHAKE = '/socket.io/?EIO=4&transport=polling';

function get(url, headers) {
  return fetch(url, { headers, signal: AbortSignal.timeout(5000) });
}

function preflight(url, origin, method = 'POST', headers = 'content-type') {
  return fetch(url, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers },
    signal: AbortSignal.timeout(5000),
  });
}

function methodsOf(res) {
  return (res.headers.get('access-control-allow-methods') || '').split(',').map((m) => m.trim().toUpperCase());
}

test.describe('cors.origin: one origin', () => {
  const srv = h.serverFor(test, {
    serverOptions: { cors: { origin: 'http://allowed.example', methods: ['GET', 'POST'], credentials: true } },
  });

  test('a handshake from the allowed origin gets access-control-allow-origin', T, async () => {
    const res = await get(srv().url + HANDSHAKE, { Origin: 'http://allowed.example' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://allowed.example');
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.match(await res.text(), /^0\{/);
  });

  test('a handshake from another origin is not allowed for it', T, async () => {
    // socket.io (the cors package) answers a fixed origin with that origin
    // whatever the request says, or not at all: either way the browser refuses.
    const res = await get(srv().url + HANDSHAKE, { Origin: 'http://evil.example' });
    const allow = res.headers.get('access-control-allow-origin');
    assert.ok(allow === null || allow === 'http://allowed.example', `access-control-allow-origin: ${allow}`);
    await res.arrayBuffer();
  });

  test('a preflight from the allowed origin answers 204 with methods and origin', T, async () => {
    const res = await preflight(srv().url + HANDSHAKE, 'http://allowed.example');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://allowed.example');
    const methods = methodsOf(res);
    assert.ok(methods.includes('GET') && methods.includes('POST'), `allow-methods: ${methods}`);
    assert.match(res.headers.get('access-control-allow-headers') || '', /content-type/i);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.equal(await res.text(), '');
  });

  test('a POST of an established session from the allowed origin carries the header too', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake({ Origin: 'http://allowed.example' });
    const res = await fetch(raw.sessionUrl, {
      method: 'POST',
      body: '40',
      headers: { Origin: 'http://allowed.example', 'content-type': 'text/plain;charset=UTF-8' },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://allowed.example');
    assert.equal(await res.text(), 'ok');
  });

  test('a request without Origin still works (not a browser)', T, async () => {
    const res = await get(srv().url + HANDSHAKE, {});
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^0\{/);
  });
});

test.describe('cors.origin: a list of origins', () => {
  const srv = h.serverFor(test, {
    serverOptions: { cors: { origin: ['http://allowed.example', 'http://other.example:8080'], methods: ['GET', 'POST'] } },
  });

  for (const origin of ['http://allowed.example', 'http://other.example:8080']) {
    test(`${origin} is reflected`, T, async () => {
      const res = await get(srv().url + HANDSHAKE, { Origin: origin });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('access-control-allow-origin'), origin);
      await res.arrayBuffer();
    });
  }

  test('an origin not in the list gets no access-control-allow-origin', T, async () => {
    const res = await get(srv().url + HANDSHAKE, { Origin: 'http://evil.example' });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await res.arrayBuffer();
  });

  test('a preflight from an origin not in the list is not allowed', T, async () => {
    const res = await preflight(srv().url + HANDSHAKE, 'http://evil.example');
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await res.arrayBuffer();
  });

  test('a preflight from a listed origin answers 204', T, async () => {
    const res = await preflight(srv().url + HANDSHAKE, 'http://other.example:8080', 'GET');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'http://other.example:8080');
    const methods = methodsOf(res);
    assert.ok(methods.includes('GET') && methods.includes('POST'), `allow-methods: ${methods}`);
  });
});

test.describe('cors.origin: "*"', () => {
  const srv = h.serverFor(test, { serverOptions: { cors: { origin: '*' } } });

  test('any origin gets access-control-allow-origin: *', T, async () => {
    const res = await get(srv().url + HANDSHAKE, { Origin: 'http://anything.example' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    await res.arrayBuffer();
  });
});

test.describe('no cors option (the default)', () => {
  const srv = h.serverFor(test);

  test('no access-control-allow-origin header is sent', T, async () => {
    const res = await get(srv().url + HANDSHAKE, { Origin: 'http://allowed.example' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    await res.arrayBuffer();
  });
});

test.describe('cors.maxAge', () => {
  const srv = h.serverFor(test, { serverOptions: { cors: { origin: '*', maxAge: 600 } } });

  test('a preflight carries Access-Control-Max-Age', T, async () => {
    const res = await preflight(srv().url + HANDSHAKE, 'http://a.example');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-max-age'), '600');
    await res.text();
  });

  test('other responses do not', T, async () => {
    const res = await get(srv().url + HANDSHAKE, { Origin: 'http://a.example' });
    assert.equal(res.headers.get('access-control-max-age'), null);
    await res.text();
  });
});

test.describe('cors with long request values', () => {
  const srv = h.serverFor(test, { serverOptions: { cors: { origin: true, credentials: true } } });

  test('a preflight asking for many headers gets them all back, and a long origin is reflected', T, async () => {
    const names = Array.from({ length: 200 }, (_, i) => `x-custom-header-${i}`).join(',');
    const origin = `http://${'o'.repeat(400)}.example`;
    const res = await preflight(srv().url + HANDSHAKE, origin, 'POST', names);
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-headers'), names);
    assert.equal(res.headers.get('access-control-allow-origin'), origin);
    await res.text();
  });
});
