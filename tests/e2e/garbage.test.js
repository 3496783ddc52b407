'use strict';
// Malformed input closes that one connection; everyone else keeps being served.
const test = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const h = require('./helpers');

const T = { timeout: 15000 };
const srv = h.serverFor(test);

let bystander = null;
let bystanderDisconnect = null;
let counter = 0;

test.after(() => bystander && bystander.close());

/* A plain client connected through the whole file: it must never notice. */
async function bystanderStillServed() {
  if (!bystander) {
    bystander = await h.connect(srv().url, { transports: ['websocket'] });
    bystander.on('disconnect', (reason) => { bystanderDisconnect = reason; });
  }
  const n = ++counter;
  assert.deepEqual(await h.ackAll(bystander, 'echo', 'bystander', n), ['bystander', n]);
  assert.equal(bystanderDisconnect, null, 'the bystander was disconnected');
}

async function assertClosed(raw, what) {
  const closed = await Promise.race([raw.closed, h.sleep(3000).then(() => null)]);
  assert.ok(closed, `the server did not close the connection after ${what}`);
}

/* [name, frames to send after the Socket.IO CONNECT] */
const AFTER_CONNECT = [
  ['invalid JSON in an event', ['42[invalid json']],
  ['an unknown Socket.IO packet type', ['4{}']],
  ['an unknown Socket.IO packet type (letter)', ['4nonsense']],
  ['an unknown Engine.IO packet type', ['99']],
  ['an empty text frame', ['']],
  ['an event whose payload is an object', ['42{"a":1}']],
  ['an event whose payload is an empty array', ['42[]']],
  ['a binary event without an attachment count', ['45["x"]']],
  ['a binary frame nobody announced', [Buffer.from([1, 2, 3])]],
  ['a placeholder pointing past the attachments', ['451-["echo",{"_placeholder":true,"num":5}]', Buffer.from([9])]],
  ['a second CONNECT to the same namespace', ['40']],
  ['invalid UTF-8 in a text frame', [{ text: Buffer.from([0x34, 0x32, 0x5b, 0x22, 0xff, 0xfe, 0x22, 0x5d]) }]],
];

function sendFrame(raw, frame) {
  if (typeof frame === 'string') raw.send(frame);
  else if (Buffer.isBuffer(frame)) raw.send(frame, { binary: true });
  else raw.send(frame.text, { binary: false }); // bytes in a text frame, unchecked by ws
}

for (const [name, frames] of AFTER_CONNECT) {
  test(`websocket: ${name} closes the connection, others are still served`, T, async () => {
    await bystanderStillServed();
    const raw = new h.RawWs(srv().url);
    await raw.connectSio();
    for (const f of frames) sendFrame(raw, f);
    await assertClosed(raw, name);
    await bystanderStillServed();
  });
}

test('websocket: an event before the Socket.IO CONNECT closes the connection', T, async () => {
  await bystanderStillServed();
  const raw = new h.RawWs(srv().url);
  await raw.opened;
  await raw.take((m) => typeof m === 'string' && m[0] === '0');
  raw.send('42["echo","too early"]');
  await assertClosed(raw, 'an event before CONNECT');
  await bystanderStillServed();
});

test('websocket: an ack for an id the server never used is ignored, the connection stays', T, async () => {
  const raw = new h.RawWs(srv().url);
  await raw.connectSio();
  raw.send('43999["nobody asked"]');
  raw.send('42["unbound-event",1]');
  raw.send('421["echo","still alive"]');
  const ack = await raw.take((m) => typeof m === 'string' && m.startsWith('431'));
  assert.deepEqual(h.parseSio(ack.slice(1)).data, ['still alive']);
  raw.close();
  await bystanderStillServed();
});

test('websocket: a burst of garbage connections at once', T, async () => {
  const raws = await Promise.all(AFTER_CONNECT.map(async ([, frames]) => {
    const raw = new h.RawWs(srv().url);
    await raw.connectSio();
    for (const f of frames) sendFrame(raw, f);
    return raw;
  }));
  await Promise.all(raws.map((r, i) => assertClosed(r, AFTER_CONNECT[i][0])));
  await bystanderStillServed();
});

for (const [name, body] of [
  ['invalid JSON in an event', '42[invalid json'],
  ['an unknown Engine.IO packet type', '99'],
  ['an unknown Socket.IO packet type', '4{}'],
  ['invalid base64 binary', 'b!!!not-base64'],
]) {
  test(`polling: ${name} ends the session, others are still served`, T, async () => {
    await bystanderStillServed();
    const raw = new h.RawPolling(srv().url);
    await raw.connectSio();
    await raw.take((p) => p.type === '4' && p.data.startsWith('2["welcome"'));
    await raw.post(body).catch(() => {}); // the answer may be an error or a reset
    // the session is over: a poll sees a close packet or 'Session ID unknown'
    const deadline = Date.now() + 3000;
    let ended = false;
    while (!ended && Date.now() < deadline) {
      const r = await raw.get(Math.max(100, deadline - Date.now())).catch(() => null);
      if (!r) break;
      if (r.res.status === 400) ended = true;
      else if (r.packets.some((p) => p.type === '1')) ended = true;
    }
    assert.ok(ended, `the session survived ${name}`);
    await bystanderStillServed();
  });
}

test('raw TCP: a non-HTTP request does not disturb the server', T, async () => {
  await bystanderStillServed();
  await new Promise((resolve) => {
    const sock = net.connect(new URL(srv().url).port, '127.0.0.1', () => {
      sock.write('GARBAGE \x00\xff\r\n\r\n\r\n');
    });
    sock.on('data', () => {});
    sock.on('error', () => resolve());
    sock.on('close', () => resolve());
    setTimeout(() => { sock.destroy(); resolve(); }, 2000);
  });
  await bystanderStillServed();
});

test('raw TCP: a client that opens connections and says nothing does not stall others', T, async () => {
  const idle = [];
  for (let i = 0; i < 20; i++) {
    idle.push(net.connect(new URL(srv().url).port, '127.0.0.1'));
    idle[i].on('error', () => {});
  }
  await h.sleep(200);
  await bystanderStillServed();
  const fresh = await h.connect(srv().url, { transports: ['polling'] });
  assert.deepEqual(await h.ackAll(fresh, 'echo', 'fresh'), ['fresh']);
  fresh.close();
  for (const s of idle) s.destroy();
});

test('a websocket upgrade with a bad Sec-WebSocket-Version is refused without harm', T, async () => {
  const port = new URL(srv().url).port;
  const answer = await new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1', () => {
      sock.write('GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
        'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
        'Sec-WebSocket-Version: 99\r\n\r\n');
    });
    let data = '';
    sock.on('data', (d) => { data += d; });
    sock.on('error', () => resolve(data));
    sock.on('close', () => resolve(data));
    setTimeout(() => { sock.destroy(); resolve(data); }, 2000);
  });
  assert.ok(!/^HTTP\/1\.1 101/.test(answer), `upgraded anyway: ${answer.slice(0, 80)}`);
  await bystanderStillServed();
});
