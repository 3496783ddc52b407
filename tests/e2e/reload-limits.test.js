'use strict';
// A configuration reload changes server.headersTimeout, server.requestTimeout
// and socket.serverOptions.maxQueueBytes on a running server: the YAML is
// rewritten on disk (written elsewhere, renamed into place) and the new
// values hold once the reload is logged.
//
// What was already open (host/engineio/http.c, eio_session.c):
// - the timeouts are read when a request's deadline is armed: at the
//   accept, after each response on a kept-alive connection, and when a
//   POST's head is in (its body's deadline).  A connection accepted before
//   the reload keeps the deadline its pending request got; its next
//   request, after a response, is held to the new values.
// - maxQueueBytes is read each time something is queued for a session, so
//   a session opened before the reload is held to the new cap from then on.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const h = require('./helpers');

const T = { timeout: 30000 };
test.afterEach(() => h.closeAll());

function rewrite(srv, doc) {
  const tmp = `${srv.yamlFile}.tmp`;
  fs.writeFileSync(tmp, h.toYaml(doc));
  fs.renameSync(tmp, srv.yamlFile);
}

async function waitForLog(srv, re, ms = 10000) {
  const deadline = Date.now() + ms;
  while (!re.test(srv.stderr())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${re} in:\n${srv.stderr()}`);
    await h.sleep(20);
  }
}

/* Rewrite the configuration with `edit` applied and wait for reload #n. */
async function reloadWith(srv, n, edit) {
  const doc = structuredClone(srv.doc);
  edit(doc);
  rewrite(srv, doc);
  await waitForLog(srv, new RegExp(`reload #${n} done`));
  assert.doesNotMatch(srv.stderr(), /reload failed/);
}

const HEAD = 'GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: slowloris\r\n\r\n';

test('server.headersTimeout lowered by a reload: new connections are cut with 408; one accepted before keeps its deadline until its next request', T, async (t) => {
  const srv = await h.startServer({ server: { headersTimeout: 60000, requestTimeout: 30000 } });
  try {
    const before = h.rawConn(srv.port);
    await before.connected; // its head's deadline: 30 s from now

    await reloadWith(srv, 1, (doc) => { doc.server.headersTimeout = 1000; doc.server.requestTimeout = 1500; });

    // A connection after the reload: its trickled head is cut.
    const after = h.rawConn(srv.port);
    await after.connected;
    const written = await h.trickle(after, HEAD);
    await after.closed;
    t.diagnostic(`a new connection was cut after ${written} of ${HEAD.length} bytes`);
    assert.ok(written < HEAD.length, 'the whole head was sent before the server cut it');
    assert.match(after.data, /^HTTP\/1\.1 408 /);
    assert.match(srv.stderr(), /cut a slow request from 127\.0\.0\.1: its head had not arrived within server\.headersTimeout \(1000 ms\): 408, closed/);

    // The connection accepted before: its head in five pieces over 2.4 s,
    // past the new limit, within the one its deadline was armed with.
    const q = Math.ceil(HEAD.length / 5);
    for (let i = 0; i < HEAD.length; i += q) {
      before.sock.write(HEAD.slice(i, i + q));
      if (i + q < HEAD.length) await h.sleep(600);
    }
    while (!/\r\n\r\n0\{/.test(before.data) && !before.ended) await h.sleep(20);
    assert.match(before.data, /^HTTP\/1\.1 200 /, 'the request begun before the reload is served');

    // Its next request is held to the new limit.
    const begin = 'GET /socket.io/?EIO=4';
    before.sock.write(begin);
    const next = await h.trickle(before, HEAD.slice(begin.length));
    await before.closed;
    assert.ok(next < HEAD.length - begin.length);
    assert.deepEqual(before.data.match(/HTTP\/1\.1 \d+/g), ['HTTP/1.1 200', 'HTTP/1.1 408'], before.data);
  } finally {
    await h.stopChecked(srv);
  }
});

test('server.requestTimeout lowered by a reload: a polling POST body trickled on a new connection is cut with 408', T, async (t) => {
  const srv = await h.startServer({});
  try {
    const other = await h.connect(srv.url, { transports: ['websocket'] });
    await reloadWith(srv, 1, (doc) => { doc.server.requestTimeout = 1500; });

    const raw = new h.RawPolling(srv.url);
    await raw.handshake();
    const body = '42["echo","' + 'x'.repeat(40) + '"]';
    const conn = h.rawConn(srv.port);
    await conn.connected;
    conn.sock.write(`POST /socket.io/?EIO=4&transport=polling&sid=${raw.sid} HTTP/1.1\r\n` +
      `Host: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: ${body.length}\r\n\r\n`);
    const written = await h.trickle(conn, body);
    await conn.closed;
    t.diagnostic(`cut after ${written} of ${body.length} body bytes`);
    assert.ok(written < body.length, 'the whole body was sent before the server cut it');
    assert.match(conn.data, /^HTTP\/1\.1 408 /);
    assert.match(srv.stderr(), /cut a slow request from 127\.0\.0\.1: its body had not arrived within server\.requestTimeout \(1500 ms\): 408, closed/);
    assert.deepEqual(await h.ackAll(other, 'echo', 'still'), ['still'], 'the WebSocket client is not affected');
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('socket.serverOptions.maxQueueBytes lowered by a reload: sessions opened before and after it are held to the new cap', T, async (t) => {
  const CAP = 64 * 1024;
  const srv = await h.startServer({ serverOptions: { maxQueueBytes: 64 * 1024 * 1024 } });
  try {
    const good = await h.connect(srv.url, { transports: ['websocket'] });
    const old = new h.RawWs(srv.url);
    const oldSid = await old.connectSio();

    await reloadWith(srv, 1, (doc) => { doc.socket.serverOptions.maxQueueBytes = CAP; });
    const young = new h.RawWs(srv.url);
    const youngSid = await young.connectSio();

    /* Echoes of 60 KB to a client that stopped reading, until the server
     * gives up on it; resolves with how many were sent. */
    async function flood(raw, sid) {
      raw.ws.pause();
      const sent = await h.floodUntilDropped(srv, raw, sid, good);
      raw.ws.resume();
      return sent;
    }
    const sentOld = await flood(old, oldSid);
    const sentYoung = await flood(young, youngSid);
    t.diagnostic(`the session from before the reload was closed after ${sentOld} echoes of 60 KB, ` +
      `the one from after it after ${sentYoung}`);
    for (const raw of [old, young]) {
      assert.match(srv.stderr(), new RegExp(`session ${raw.open.sid}: over 64 KiB queued for a client that does not ` +
        `read; closing \\(transport error\\): \\d+ bytes queued, \\d+ more, socket\\.serverOptions\\.maxQueueBytes is ${CAP}`));
    }
    assert.deepEqual(await h.ackAll(good, 'echo', 'fine'), ['fine'], 'a client that reads goes on');
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});
