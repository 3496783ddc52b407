'use strict';
// Engine.IO v4 / Socket.IO v5 on the wire, checked with raw HTTP and WebSocket.
const test = require('node:test');
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const h = require('./helpers');

const T = { timeout: 15000 };
const OPTS = { pingInterval: 1500, pingTimeout: 1000, maxHttpBufferSize: 12345 };
const srv = h.serverFor(test, { serverOptions: OPTS });

async function getJson(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let json;
  try { json = JSON.parse(text); } catch { json = text; }
  return { res, json };
}

const msg = (prefix) => (p) => p.type === '4' && !p.binary && p.data.startsWith(prefix);

/* Engine.IO handshake + Socket.IO CONNECT over raw polling; -> {raw, sid} */
async function sioPolling() {
  const raw = new h.RawPolling(srv().url);
  await raw.handshake();
  const posted = await raw.post('40');
  assert.equal(posted.res.status, 200);
  assert.equal(posted.text, 'ok');
  const ok = await raw.take(msg('0'));
  const sid = h.parseSio(ok.data).data.sid;
  return { raw, sid };
}

test.describe('handshake', () => {
  test('a polling handshake answers an open packet with the configured values', T, async () => {
    const res = await fetch(`${srv().url}/socket.io/?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') || '', /^text\/plain/);
    const body = await res.text();
    assert.equal(body[0], '0', body);
    const open = JSON.parse(body.slice(1));
    assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
    assert.equal(typeof open.sid, 'string');
    assert.ok(open.sid.length > 0);
    assert.deepEqual(open.upgrades, ['websocket']);
    assert.equal(open.pingInterval, OPTS.pingInterval);
    assert.equal(open.pingTimeout, OPTS.pingTimeout);
    assert.equal(open.maxPayload, OPTS.maxHttpBufferSize);
  });

  test('a websocket handshake sends the open packet first, with no upgrades', T, async () => {
    const raw = new h.RawWs(srv().url);
    await raw.opened;
    const first = await raw.take();
    assert.equal(first[0], '0');
    const open = JSON.parse(first.slice(1));
    assert.deepEqual(open.upgrades, []);
    assert.equal(open.pingInterval, OPTS.pingInterval);
    assert.equal(open.pingTimeout, OPTS.pingTimeout);
    assert.equal(open.maxPayload, OPTS.maxHttpBufferSize);
    raw.close();
  });

  test('every handshake gets a new sid', T, async () => {
    const sids = new Set();
    for (let i = 0; i < 5; i++) sids.add((await new h.RawPolling(srv().url).handshake()).sid);
    assert.equal(sids.size, 5);
  });

  test('the path also works with no trailing slash', T, async () => {
    const res = await fetch(`${srv().url}/socket.io?EIO=4&transport=polling`, { signal: AbortSignal.timeout(5000) });
    // socket.io (addTrailingSlash: true) only serves "/socket.io/"; either is fine as long as it is not a crash
    assert.ok([200, 400, 404].includes(res.status), `HTTP ${res.status}`);
    await res.arrayBuffer();
  });
});

test.describe('errors (engine.io Server.errors)', () => {
  const cases = [
    ['EIO=3', '?EIO=3&transport=polling', 'GET', { code: 5, message: 'Unsupported protocol version' }],
    ['no EIO', '?transport=polling', 'GET', { code: 5, message: 'Unsupported protocol version' }],
    ['an unknown transport', '?EIO=4&transport=carrier-pigeon', 'GET', { code: 0, message: 'Transport unknown' }],
    ['no transport', '?EIO=4', 'GET', { code: 0, message: 'Transport unknown' }],
    ['an unknown sid (GET)', '?EIO=4&transport=polling&sid=doesnotexist', 'GET', { code: 1, message: 'Session ID unknown' }],
    ['an unknown sid (POST)', '?EIO=4&transport=polling&sid=doesnotexist', 'POST', { code: 1, message: 'Session ID unknown' }],
    ['a PUT handshake', '?EIO=4&transport=polling', 'PUT', { code: 2, message: 'Bad handshake method' }],
    ['a POST handshake', '?EIO=4&transport=polling', 'POST', { code: 2, message: 'Bad handshake method' }],
    ['a websocket handshake without upgrade', '?EIO=4&transport=websocket', 'GET', { code: 3, message: 'Bad request' }],
  ];
  for (const [name, query, method, want] of cases) {
    test(`${name} -> 400 ${JSON.stringify(want)}`, T, async () => {
      const init = { method };
      if (method === 'POST' || method === 'PUT') init.body = '40';
      const { res, json } = await getJson(`${srv().url}/socket.io/${query}`, init);
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') || '', /^application\/json/);
      assert.deepEqual(json, want);
    });
  }

  test('an empty POST is malformed: HTTP 400, and the session is closed', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    const { res } = await raw.post('');
    assert.equal(res.status, 400);
    const after = await raw.get();
    assert.equal(after.res.status, 400, 'the session should be gone');
    assert.deepEqual(JSON.parse(after.text), { code: 1, message: 'Session ID unknown' });
  });

  test('a websocket upgrade with an unknown sid is refused with HTTP 400', T, async () => {
    const raw = new h.RawWs(srv().url, '&sid=doesnotexist');
    const err = await raw.opened.then(() => null, (e) => e);
    assert.ok(err, 'the upgrade was accepted');
    assert.equal(err.statusCode, 400);
  });

  test('a websocket upgrade with EIO=3 is refused', T, async () => {
    const ws = new WebSocket(`${srv().url.replace(/^http/, 'ws')}/socket.io/?EIO=3&transport=websocket`);
    const outcome = await new Promise((resolve) => {
      ws.on('unexpected-response', (req, res) => resolve(`HTTP ${res.statusCode}`));
      ws.on('message', (m) => resolve(`message ${m}`));
      ws.on('close', () => resolve('closed'));
      ws.on('error', () => resolve('error'));
    });
    ws.terminate();
    assert.ok(!outcome.startsWith('message 0'), `got an open packet: ${outcome}`);
  });
});

test.describe('Socket.IO over raw polling', () => {
  test('CONNECT is answered with the socket id, then the connection handler runs', T, async () => {
    const { raw, sid } = await sioPolling();
    assert.equal(typeof sid, 'string');
    assert.ok(sid.length > 0);
    const welcome = h.parseSio((await raw.take(msg('2'))).data);
    assert.equal(welcome.data[0], 'welcome');
    assert.equal(welcome.data[1].id, sid);
    assert.equal(welcome.data[1].transport, 'polling');
  });

  test('several packets in one POST are all handled, in order', T, async () => {
    const { raw } = await sioPolling();
    const posted = await raw.post('421["echo","a"]\x1e422["echo","b"]\x1e423["echo","c"]');
    assert.equal(posted.text, 'ok');
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(h.parseSio((await raw.take(msg('3'))).data));
    assert.deepEqual(acks.map((a) => [a.id, a.data]), [[1, ['a']], [2, ['b']], [3, ['c']]]);
  });

  test('a binary event travels base64-encoded with a "b" prefix, both ways', T, async () => {
    const { raw } = await sioPolling();
    const posted = await raw.post('451-7["echo",{"_placeholder":true,"num":0}]\x1ebAQIDBA==');
    assert.equal(posted.text, 'ok');
    const ack = h.parseSio((await raw.take(msg('6'))).data);
    assert.equal(ack.attachments, 1);
    assert.equal(ack.id, 7);
    assert.deepEqual(ack.data, [{ _placeholder: true, num: 0 }]);
    const attachment = await raw.take((p) => p.binary);
    assert.deepEqual([...attachment.data], [1, 2, 3, 4]);
  });

  test('server-built binary arrives as a BINARY_EVENT and its "b" packets', T, async () => {
    const { raw } = await sioPolling();
    await raw.post('42["binary"]');
    const ev = h.parseSio((await raw.take(msg('5'))).data);
    assert.equal(ev.attachments, 4);
    assert.equal(ev.data[0], 'binary');
    const atts = [];
    while (atts.length < 4) atts.push(await raw.take((p) => p.binary));
    const b = h.pluginBinary();
    const byNum = (ph) => atts[ph.num].data;
    assert.deepEqual(byNum(ev.data[1].small), b.small);
    assert.deepEqual(byNum(ev.data[1].list[0]), b.ramp);
    assert.deepEqual(byNum(ev.data[1].list[2].deep), b.deep);
    assert.deepEqual(byNum(ev.data[2]), b.second);
  });

  test('an unknown namespace gets CONNECT_ERROR {"message":"Invalid namespace"}', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    await raw.post('40/nope,');
    const err = h.parseSio((await raw.take(msg('4'))).data);
    assert.equal(err.type, 4);
    assert.equal(err.nsp, '/nope');
    assert.deepEqual(err.data, { message: 'Invalid namespace' });
  });

  test('CONNECT to /custom with auth', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    await raw.post('40/custom,{"token":"xyz"}');
    const open = h.parseSio((await raw.take(msg('0/custom,'))).data);
    assert.equal(open.nsp, '/custom');
    assert.equal(typeof open.data.sid, 'string');
    const welcome = h.parseSio((await raw.take(msg('2/custom,'))).data);
    assert.deepEqual(welcome.data, ['welcome', { id: open.data.sid, nsp: '/custom', auth: { token: 'xyz' }, transport: 'polling' }]);
    await raw.post('42/custom,5["echo","ns"]');
    const ack = h.parseSio((await raw.take(msg('3/custom,'))).data);
    assert.equal(ack.id, 5);
    assert.deepEqual(ack.data, ['ns']);
  });

  test('the server pings every pingInterval; answering keeps the session', T, async () => {
    const { raw } = await sioPolling();
    const started = Date.now();
    await raw.take((p) => p.type === '2', { ms: 6000 });
    await raw.take((p) => p.type === '2', { ms: 6000 });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= OPTS.pingInterval, `two pings after ${elapsed} ms`);
    const posted = await raw.post('421["echo","alive"]');
    assert.equal(posted.text, 'ok');
    assert.deepEqual(h.parseSio((await raw.take(msg('31'))).data).data, ['alive']);
  });

  test('a second concurrent GET is refused with 400', T, async () => {
    const { raw } = await sioPolling();
    await raw.take(msg('2["welcome"'));
    const first = raw.get(5000).catch((e) => e);
    await h.sleep(200);
    const second = await raw.get(5000);
    assert.equal(second.res.status, 400);
    await first;
  });

  test('a close packet ends the session with "transport close"', T, async () => {
    const { raw, sid } = await sioPolling();
    await raw.post('1').catch(() => {});
    assert.equal(await srv().waitForReason(sid), 'transport close');
    const after = await raw.get(3000);
    if (after.res.status === 200) {
      assert.ok(after.packets.some((p) => p.type === '1' || p.type === '6'), after.text);
    } else {
      assert.equal(after.res.status, 400);
    }
  });
});

test.describe('upgrade from polling to websocket', () => {
  test('probe, noop to the pending poll, upgrade, then traffic on the websocket', T, async () => {
    const { raw, sid } = await sioPolling();
    await raw.take(msg('2["welcome"'));
    const pending = raw.get(5000);
    await h.sleep(100);
    const ws = new h.RawWs(srv().url, `&sid=${encodeURIComponent(raw.sid)}`);
    await ws.opened;
    ws.send('2probe');
    assert.equal(await ws.take((m) => m === '3probe'), '3probe');
    // engine.io-client sends the upgrade packet only once its pending poll
    // has returned: the server must end that poll with a noop by itself.
    const poll = await pending;
    assert.equal(poll.res.status, 200);
    assert.ok(poll.packets.some((p) => p.type === '6'), `the pending poll got ${JSON.stringify(poll.text)}, no noop`);
    ws.send('5');
    ws.send('421["echo","over ws"]');
    const ack = await ws.take((m) => typeof m === 'string' && m.startsWith('431'));
    assert.deepEqual(h.parseSio(ack.slice(1)).data, ['over ws']);
    // polling is over for this session
    const late = await raw.get(3000).catch((e) => e);
    assert.ok(late instanceof Error || late.res.status === 400, `polling still served: ${late.res && late.res.status}`);
    // the socket id did not change with the transport
    ws.send('422["handshake"]');
    const hs = await ws.take((m) => typeof m === 'string' && m.startsWith('432'));
    const info = h.parseSio(hs.slice(1)).data[0];
    assert.equal(info.id, sid);
    assert.equal(info.transport, 'websocket');
    ws.close();
  });

  /* engine.io accepts the extra WebSocket and closes it at once: the client
   * sees a clean close, not an HTTP error, and the session goes on. */
  async function extraWebSocket(sid) {
    const again = new h.RawWs(srv().url, `&sid=${encodeURIComponent(sid)}`);
    const outcome = await Promise.race([
      again.opened.then(() => again.closed.then((c) => `closed ${c.code}`), (e) => `refused ${e.statusCode}`),
      h.sleep(3000).then(() => 'still open'),
    ]);
    assert.match(outcome, /^closed 100[05]$/);
  }

  test('a second websocket for an upgraded session is accepted and closed at once', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    await raw.post('40');
    const ws = new h.RawWs(srv().url, `&sid=${encodeURIComponent(raw.sid)}`);
    await ws.opened;
    ws.send('2probe');
    await ws.take((m) => m === '3probe');
    ws.send('5');
    await h.sleep(100);
    await extraWebSocket(raw.sid);
    ws.send('421["echo","still here"]');
    const ack = await ws.take((m) => typeof m === 'string' && m.startsWith('431'));
    assert.deepEqual(h.parseSio(ack.slice(1)).data, ['still here']);
    ws.close();
  });

  test('a second websocket while the session is upgrading is accepted and closed at once', T, async () => {
    const raw = new h.RawPolling(srv().url);
    await raw.handshake();
    await raw.post('40');
    const ws = new h.RawWs(srv().url, `&sid=${encodeURIComponent(raw.sid)}`);
    await ws.opened;
    ws.send('2probe');
    await ws.take((m) => m === '3probe');
    await extraWebSocket(raw.sid);
    // the first probe still completes the upgrade
    ws.send('5');
    ws.send('421["echo","upgraded"]');
    const ack = await ws.take((m) => typeof m === 'string' && m.startsWith('431'));
    assert.deepEqual(h.parseSio(ack.slice(1)).data, ['upgraded']);
    ws.close();
  });
});
