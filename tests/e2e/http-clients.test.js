'use strict';
// HTTP as clients other than socket.io-client's own behave: Node's default
// keep-alive agent, node-fetch 3 (Connection: close on every request),
// undici's fetch, HTTP/1.0 and raw sockets; query arguments and headers
// longer than a few kilobytes, and request heads over server.maxHeaderSize.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const undici = require('undici');
const h = require('./helpers');

const T = { timeout: 20000 };
const PATH = '/socket.io/';

/* What a polling client does, through `send(url, {method, headers, body})
 * -> {status, text}`: a handshake, a CONNECT, its answer, an event and its
 * ack, and the error answers a client can meet; every status is checked. */
async function pollingSession(base, send) {
  const steps = [];
  const step = async (what, url, opts, status) => {
    const res = await send(url, opts);
    steps.push(what);
    assert.equal(res.status, status, `${what}: HTTP ${res.status} ${res.text}`);
    return res.text;
  };
  const open = await step('handshake', `${base}?EIO=4&transport=polling`, {}, 200);
  const sid = JSON.parse(open.slice(1)).sid;
  const session = `${base}?EIO=4&transport=polling&sid=${encodeURIComponent(sid)}`;
  const post = (body) => ({ method: 'POST', body, headers: { 'content-type': 'text/plain;charset=UTF-8' } });
  assert.equal(await step('CONNECT', session, post('40'), 200), 'ok');
  assert.match(await step('CONNECT answer', session, {}, 200), /^40\{"sid"/);
  await step('bad EIO', `${base}?EIO=9&transport=polling`, {}, 400);
  await step('bad transport', `${base}?EIO=4&transport=carrier-pigeon`, {}, 400);
  assert.equal(await step('event', session, post('421["echo","hi"]'), 200), 'ok');
  const got = await step('poll', session, {}, 200);
  assert.ok(got.includes('431["hi"]'), `no ack in ${got}`);
  await step('bad method', `${base}?EIO=4&transport=polling`, { method: 'PUT' }, 400);
  await step('unknown sid', `${base}?EIO=4&transport=polling&sid=nope`, {}, 400);
  return steps.length;
}

test.describe('Connection: close and keep-alive', () => {
  const srv = h.serverFor(test);

  test('a request that says Connection: close is answered with Connection: close, then closed', T, async () => {
    const { data, closed } = await h.rawRequest(srv().port,
      `GET ${PATH}?EIO=4&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(data, /^HTTP\/1\.1 200/);
    assert.match(data, /\r\nconnection: close\r\n/i);
    assert.ok(closed, 'the server keeps the connection');
  });

  test('an error answer to Connection: close says so too', T, async () => {
    const { data, closed } = await h.rawRequest(srv().port,
      `GET ${PATH}?EIO=3&transport=polling HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    assert.match(data, /^HTTP\/1\.1 400/);
    assert.match(data, /\r\nconnection: close\r\n/i);
    assert.ok(closed);
  });

  test('HTTP/1.0 closes unless it asks for keep-alive', T, async () => {
    const plain = await h.rawRequest(srv().port,
      `GET ${PATH}?EIO=4&transport=polling HTTP/1.0\r\nHost: x\r\n\r\n`);
    assert.match(plain.data, /\r\nconnection: close\r\n/i);
    assert.ok(plain.closed);
    const kept = await h.rawRequest(srv().port,
      `GET ${PATH}?EIO=4&transport=polling HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`, 500);
    assert.match(kept.data, /^HTTP\/1\.0 200/);
    assert.doesNotMatch(kept.data, /connection: close/i);
    assert.ok(!kept.closed, 'closed although the client asked for keep-alive');
  });

  test('Node\'s keep-alive agent with Connection: close on every request (as node-fetch 3 sends it)', T, async () => {
    const base = `${srv().url}${PATH}`;
    const send = (url, opts) => h.nodeRequest(url, { ...opts, headers: { ...opts.headers, Connection: 'close' } });
    for (let round = 0; round < 3; round++) assert.equal(await pollingSession(base, send), 9);
  });

  test('Node\'s keep-alive agent reuses one connection for a whole session', T, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const base = `${srv().url}${PATH}`;
    const sockets = new Set();
    const send = async (url, opts) => {
      const res = await h.nodeRequest(url, { ...opts, agent });
      sockets.add(res.socket);
      return res;
    };
    assert.equal(await pollingSession(base, send), 9);
    assert.equal(sockets.size, 1, `${sockets.size} connections for one session`);
    agent.destroy();
  });

  test('node-fetch 3 (Connection: close, default agent)', T, async () => {
    const { default: nodeFetch } = await import('node-fetch');
    const base = `${srv().url}${PATH}`;
    const send = async (url, opts) => {
      const res = await nodeFetch(url, opts);
      return { status: res.status, text: await res.text() };
    };
    for (let round = 0; round < 3; round++) assert.equal(await pollingSession(base, send), 9);
  });

  test('undici fetch with its keep-alive pool', T, async () => {
    const dispatcher = new undici.Agent({ connections: 1 });
    const base = `${srv().url}${PATH}`;
    const send = async (url, opts) => {
      const res = await undici.fetch(url, { ...opts, dispatcher });
      return { status: res.status, text: await res.text() };
    };
    for (let round = 0; round < 3; round++) assert.equal(await pollingSession(base, send), 9);
    await dispatcher.close();
  });
});

test.describe('long query arguments', () => {
  const srv = h.serverFor(test);
  const token = 'T'.repeat(2048) + '.end';

  for (const transports of [['polling'], ['websocket'], ['polling', 'websocket']]) {
    test(`a 2 KB query argument before EIO reaches the plugin whole (${transports})`, T, async () => {
      const socket = await h.connect(srv().url, { transports, query: { token, other: 'x' } });
      const [info] = await h.ackAll(socket, 'handshake');
      assert.equal(info.query.token, token);
      assert.equal(info.query.other, 'x');
      assert.equal(info.query.EIO, '4');
      // the session's later requests carry the argument too
      for (let i = 0; i < 5; i++) assert.deepEqual(await h.ackAll(socket, 'echo', i), [i]);
      socket.close();
    });
  }

  test('a long argument after the session id does not hide it', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    raw.base += `&pad=${'p'.repeat(3000)}`;
    const posted = await raw.post('40');
    assert.equal(posted.res.status, 200, posted.text);
    await raw.take((p) => p.type === '4' && p.data.startsWith('0'));
  });
});

test.describe('long headers and server.maxHeaderSize', () => {
  const srv = h.serverFor(test, { server: { headers: ['x-test'] } });
  const header = 'H'.repeat(6000) + '.end';
  const bearer = `Bearer ${'J'.repeat(5000)}.end`;

  for (const transports of [['polling'], ['websocket']]) {
    test(`headers of 5-6 KB reach the plugin whole (${transports})`, T, async () => {
      const socket = await h.connect(srv().url, {
        transports,
        extraHeaders: { 'X-Test': header, Authorization: bearer },
      });
      const [info] = await h.ackAll(socket, 'handshake');
      assert.equal(info.header, header);
      assert.equal(info.authorization, bearer);
      socket.close();
    });
  }

  test('a head over the default 16 KB is refused with 431 and a log line', T, async () => {
    const res = await fetch(`${srv().url}${PATH}?EIO=4&transport=polling`, {
      headers: { Cookie: `big=${'c'.repeat(20000)}` },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 431);
    assert.equal(res.headers.get('connection'), 'close');
    await res.text();
    for (let i = 0; i < 100 && !/maxHeaderSize \(16384\): 431/.test(srv().stderr()); i++) await h.sleep(20);
    assert.match(srv().stderr(), /refused a request from 127\.0\.0\.1: its head is \d+ bytes, over server\.maxHeaderSize \(16384\): 431/);
  });

  test('a head just under the limit is served', T, async () => {
    const res = await fetch(`${srv().url}${PATH}?EIO=4&transport=polling`, {
      headers: { Cookie: `big=${'c'.repeat(15000)}` },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /^0\{/);
  });
});

test.describe('server.maxHeaderSize set lower', () => {
  const srv = h.serverFor(test, { server: { maxHeaderSize: 4096 } });

  test('polling: a 6 KB header gets 431', T, async () => {
    const res = await fetch(`${srv().url}${PATH}?EIO=4&transport=polling`, {
      headers: { Authorization: `Bearer ${'J'.repeat(6000)}` },
      signal: AbortSignal.timeout(5000),
    });
    assert.equal(res.status, 431);
    await res.text();
  });

  test('websocket: a 6 KB header gets 431 instead of the upgrade', T, async () => {
    const ws = new (require('ws'))(`${srv().url.replace('http', 'ws')}${PATH}?EIO=4&transport=websocket`, {
      headers: { Authorization: `Bearer ${'J'.repeat(6000)}` },
    });
    const status = await new Promise((resolve) => {
      ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
      ws.on('open', () => resolve('open'));
      ws.on('error', (err) => resolve(err.message));
    });
    assert.equal(status, 431);
    ws.terminate();
  });

  test('a client under the limit still connects', T, async () => {
    const socket = await h.connect(srv().url, { transports: ['websocket'] });
    assert.deepEqual(await h.ackAll(socket, 'echo', 'ok'), ['ok']);
    socket.close();
  });
});
