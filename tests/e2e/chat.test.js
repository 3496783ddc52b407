'use strict';
// The example plugins chat (plugins/chat) and auth (plugins/auth), served
// by the repository's own config/plugio.yaml: /chat is behind the auth
// middleware (tokens from the plugin's config), "/" stays open for echo.
// The file is used as it is, with only its plugin paths pointed at this
// build and the listening address made 127.0.0.1 with a port the system
// picks.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const h = require('./helpers');

const T = { timeout: 20000 };

function defaultConfig() {
  const text = fs.readFileSync(path.join(h.REPO, 'config', 'plugio.yaml'), 'utf8')
    .replaceAll('../build/', `${h.BUILD}/`)
    .replaceAll('../web/', `${h.REPO}/web/`)
    .replace(/^( {2}host:) .*$/m, '$1 127.0.0.1')
    .replace(/^( {2}port:) .*$/m, '$1 0');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-chat-'));
  const file = path.join(dir, 'plugio.yaml');
  fs.writeFileSync(file, text);
  return file;
}

let child = null;
let stderr = '';
let url = null;

test.before(async () => {
  child = spawn(h.PLUGIO, [defaultConfig()], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.setEncoding('utf8');
  url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plugio did not start:\n${stderr}`)), 5000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(`http://127.0.0.1:${m[1]}`);
      }
    });
    child.on('exit', (code) => reject(new Error(`plugio exited (${code}):\n${stderr}`)));
  });
});

test.after(async () => {
  h.closeAll();
  if (!child) return;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  child.kill('SIGTERM');
  const { code, signal } = await exited;
  assert.equal(h.sanitizerReport(stderr), null, stderr);
  assert.equal(code, 0, `plugio exited with ${code} ${signal}\n${stderr}`);
});

test.afterEach(() => h.closeAll());

const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);
const chat = (token, opts = {}) =>
  h.connect(`${url}/chat`, { transports: ['websocket'], ...(token === undefined ? {} : { auth: { token } }), ...opts });

test('plugio --check config/plugio.yaml passes', T, () => {
  const r = spawnSync(h.PLUGIO, ['--check', defaultConfig()], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr + r.stdout);
  assert.match(r.stdout + r.stderr, /OK \(4 plugins, \d+ events\)/);
});

test('auth: an unknown or a missing token is refused with a message the client sees', T, async () => {
  for (const transports of [['websocket'], ['polling']]) {
    const stranger = h.client(`${url}/chat`, { transports, auth: { token: 'mallory-token' } });
    assert.equal((await h.connectError(stranger)).message, 'unknown token');
    const anonymous = h.client(`${url}/chat`, { transports });
    assert.equal((await h.connectError(anonymous)).message, 'missing token');
    const wrongType = h.client(`${url}/chat`, { transports, auth: { token: 42 } });
    assert.equal((await h.connectError(wrongType)).message, 'missing token');
  }
});

test('auth: a known token connects into its role room, with its role as socket data', T, async () => {
  const alice = await chat('alice-token');
  const bob = await chat('bob-token');
  assert.deepEqual(await call(alice, 'whoami'), { id: alice.id, role: 'admin' });
  assert.deepEqual(await call(bob, 'whoami'), { id: bob.id, role: 'user' });
  assert.deepEqual(await call(bob, 'users', 'role:admin'), [alice.id]);
  assert.deepEqual(await call(alice, 'users', 'role:user'), [bob.id]);
  // A client cannot give itself a role.
  assert.deepEqual(await call(bob, 'join', 'role:admin'), { error: 'join: role rooms are given by authentication' });
  assert.deepEqual(await call(bob, 'users', 'role:admin'), [alice.id]);
});

test('the default namespace stays open: echo needs no token', T, async () => {
  const open = await h.connect(url, { transports: ['websocket'] });
  assert.deepEqual(await call(open, 'echo', 'hi'), 'hi');
});

test('chat: join, say to a room (not back to the sender), list users, leave', T, async () => {
  const alice = await chat('alice-token');
  const bob = await chat('bob-token');
  const carol = await chat('bob-token');
  const joined = h.next(alice, 'joined');
  assert.deepEqual(await call(alice, 'join', 'lobby'), { room: 'lobby', members: 1 });
  assert.deepEqual(await call(bob, 'join', 'lobby'), { room: 'lobby', members: 2 });
  assert.deepEqual(await joined, [{ room: 'lobby', from: bob.id, role: 'user' }]);
  assert.deepEqual((await call(carol, 'users', 'lobby')).sort(), [alice.id, bob.id].sort());

  const toAlice = h.collect(alice, 'message');
  const toCarol = h.collect(carol, 'message');
  const heard = h.next(bob, 'message');
  assert.deepEqual(await call(alice, 'say', 'lobby', 'hello room'), { delivered: 1 });
  assert.deepEqual(await heard, [{ room: 'lobby', from: alice.id, role: 'admin', text: 'hello room' }]);
  // Only members may speak.
  assert.deepEqual(await call(carol, 'say', 'lobby', 'let me in'), { error: 'say: join the room first' });

  const left = h.next(alice, 'left');
  assert.deepEqual(await call(bob, 'leave', 'lobby'), { room: 'lobby', members: 1 });
  assert.deepEqual(await left, [{ room: 'lobby', from: bob.id, role: 'user' }]);
  assert.deepEqual(await call(alice, 'say', 'lobby', 'anyone?'), { delivered: 0 });
  assert.deepEqual(await call(alice, 'users', 'lobby'), [alice.id]);

  // A round trip to each: anything misrouted has arrived by now.
  await call(alice, 'whoami');
  await call(carol, 'whoami');
  assert.deepEqual(toAlice, [], 'the sender got its own message back');
  assert.deepEqual(toCarol, [], 'a non-member got a room message');
});

test('chat: a whisper reaches exactly the socket it names', T, async () => {
  const alice = await chat('alice-token');
  const bob = await chat('bob-token');
  const carol = await chat('bob-token');
  const toCarol = h.collect(carol, 'whisper');
  const got = h.next(bob, 'whisper');
  assert.deepEqual(await call(alice, 'whisper', bob.id, 'psst'), { delivered: 1 });
  assert.deepEqual(await got, [{ from: alice.id, role: 'admin', text: 'psst' }]);
  assert.deepEqual(await call(alice, 'whisper', 'no-such-id', 'psst'), { error: 'whisper: no such user' });
  // Nobody can listen in by joining someone's id room.
  assert.deepEqual(await call(carol, 'join', bob.id), { error: 'join: that room is another user\'s private room' });
  await call(carol, 'whoami');
  assert.deepEqual(toCarol, []);
});

test('chat: an image reaches the others in the room as binary, byte for byte, on both transports', T, async () => {
  for (const transports of [['websocket'], ['polling']]) {
    const alice = await chat('alice-token', { transports });
    const bob = await chat('bob-token', { transports });
    const carol = await chat('bob-token', { transports });
    await call(alice, 'join', 'pics');
    await call(bob, 'join', 'pics');
    const png = Buffer.alloc(512 * 1024);
    for (let i = 0; i < png.length; i++) png[i] = (i * 7) & 0xff;
    const toAlice = h.collect(alice, 'image');
    const toCarol = h.collect(carol, 'image');
    const got = h.next(bob, 'image');
    assert.deepEqual(await call(alice, 'image', 'pics', 'image/png', png), { delivered: 1 });
    const [msg] = await got;
    assert.deepEqual({ ...msg, data: undefined }, { room: 'pics', from: alice.id, role: 'admin', type: 'image/png', data: undefined });
    assert.ok(h.toBuffer(msg.data).equals(png), 'the bytes differ');
    await call(alice, 'whoami');
    await call(carol, 'whoami');
    assert.deepEqual(toAlice, [], 'the sender got its own image back');
    assert.deepEqual(toCarol, [], 'a non-member got a room image');
    h.closeAll();
  }
});

test('chat: an image is refused when not binary, too large, of another type, or outside a joined room', T, async () => {
  const alice = await chat('alice-token');
  await call(alice, 'join', 'pics');
  const bad = { error: 'image: expected a room, an image type (png, jpeg, gif, webp) and bytes' };
  const badData = { error: 'image: expected binary data of 1 byte to 512 KiB' };
  const one = Buffer.from([1]);
  assert.deepEqual(await call(alice, 'image', 'pics', 'image/svg+xml', one), bad);
  assert.deepEqual(await call(alice, 'image', 'pics', 'text/html', one), bad);
  assert.deepEqual(await call(alice, 'image', 'pics', 42, one), bad);
  assert.deepEqual(await call(alice, 'image', '', 'image/png', one), bad);
  assert.deepEqual(await call(alice, 'image', 'pics', 'image/png', 'not bytes'), badData);
  assert.deepEqual(await call(alice, 'image', 'pics', 'image/png', Buffer.alloc(0)), badData);
  assert.deepEqual(await call(alice, 'image', 'pics', 'image/png', Buffer.alloc(512 * 1024 + 1)), badData);
  assert.deepEqual(await call(alice, 'image', 'elsewhere', 'image/gif', one), { error: 'image: join the room first' });
  assert.deepEqual(await call(alice, 'image', 'pics', 'image/gif', one), { delivered: 0 });
});
