'use strict';
// The Socket.IO Admin UI's server side (host/web/admin.c), with
// socket.io-client acting as the UI: logging in (credentials, a session id,
// refusals), what the UI is told (config, all_sockets, server_stats, every
// socket's life in development mode and none of it in production), and
// the UI's actions (emit, join, leave, _disconnect) and their refusal when
// read-only.
//
// Differential where cheap: the same script runs against the real Node
// socket.io 4.8.4 with the real instrument() of @socket.io/admin-ui 0.5.1,
// and the admin socket must hear the same messages, in the same order, of
// the same shapes (keys and types) from both.
//
// "Did not happen" is checked behind a fence: a second admin socket sees
// the first leave the admin namespace, so every packet the first sent
// before has been handled.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const h = require('./helpers');

// bcryptjs.hashSync('s3cret', 4): cost 4 keeps the tests fast.
const HASH = '$2a$04$bzwM8ZuMZhIZDJVvvKrtC.STACdiz4KlgqHnTvalkx/Fpho/9i5xe';
const CREDS = { username: 'admin', password: 's3cret' };
const WS = { transports: ['websocket'] };
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ACTIONS = ['EMIT', 'JOIN', 'LEAVE', 'DISCONNECT', 'MJOIN', 'MLEAVE', 'MDISCONNECT'];

const IO = path.join(h.BUILD, 'tests', 'plugins', 'io', 'libio_a.so');
const EVENTS = ['connection', 'join', 'leave', 'in_room', 'data_set', 'bcast', 'work'].map((name) => ({
  name, handler: `io:io_${name}`,
}));

function adminServer(admin) {
  return { plugins: { io: IO }, events: EVENTS, admin };
}

const call = (socket, event, ...args) => socket.timeout(5000).emitWithAck(event, ...args);

/* Every message of `socket`, in order: [{ev, args}]. */
function record(socket) {
  const log = [];
  socket.onAny((ev, ...args) => log.push({ ev, args }));
  return log;
}

/* Waits until `log` has a message for which pred holds, and returns it. */
async function until(log, pred, what, ms = 8000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const hit = log.find(pred);
    if (hit) return hit;
    if (Date.now() > deadline) {
      throw new Error(`no ${what} within ${ms} ms; got:\n` +
        log.map((m) => `${m.ev} ${JSON.stringify(m.args).slice(0, 200)}`).join('\n'));
    }
    await h.sleep(10);
  }
}

/* An admin socket logged in with `auth`, once it has its config. */
async function login(url, auth = CREDS, opts = {}) {
  const s = h.client(`${url}/admin`, { auth, ...WS, ...opts });
  const log = record(s);
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  await until(log, (m) => m.ev === 'config', 'config');
  return { s, log };
}

/* The message `err` of a refused login. */
async function refused(url, auth) {
  const s = h.client(`${url}/admin`, { auth, ...WS });
  const err = await h.connectError(s);
  s.close();
  return err.message;
}

/* Once `watcher` saw admin socket `a` leave, every packet a sent first was handled. */
async function fence(a, watcher) {
  const id = a.s.id;
  a.s.disconnect();
  await until(watcher.log, (m) => m.ev === 'socket_disconnected' && m.args[1] === id, 'the fence');
}

const names = (log) => log.map((m) => m.ev);

/* The messages of `log` about socket `id`, in order. */
function about(log, id) {
  return log.filter(({ ev, args }) => {
    switch (ev) {
      case 'socket_connected': case 'socket_updated': return args[0].id === id;
      case 'room_joined': case 'room_left': return args[2] === id;
      case 'event_received': case 'event_sent': case 'socket_disconnected': return args[1] === id;
      default: return false;
    }
  });
}

/* Keys and types, recursively; an array's distinct element shapes; the
 * free-form members (headers, query, data) only as their type. */
function shape(v, key) {
  if (['headers', 'query', 'data'].includes(key)) return typeof v;
  if (Array.isArray(v)) {
    return ['array', ...[...new Set(v.map((x) => JSON.stringify(shape(x))))].sort()];
  }
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape(v[k], k)]));
  }
  return v === null ? 'null' : typeof v;
}

/* ---- development mode, with a login ------------------------------------ */

describe('admin, development mode', () => {
  const srv = h.serverFor({ before, after }, adminServer({
    auth: { username: 'admin', password: HASH },
    serverId: 'plugio-test',
  }));
  afterEach(() => h.closeAll());

  it('logs in with the credentials: a session id, config, all_sockets', async () => {
    const a = await login(srv().url);
    const session = a.log.find((m) => m.ev === 'session');
    assert.ok(session, 'a session event');
    assert.match(session.args[0], /^[0-9a-f]{16}$/);
    const config = a.log.find((m) => m.ev === 'config').args[0];
    assert.deepEqual(config, { supportedFeatures: [...ACTIONS, 'AGGREGATED_EVENTS', 'ALL_EVENTS'] });
    const all = (await until(a.log, (m) => m.ev === 'all_sockets', 'all_sockets')).args[0];
    const me = all.find((s) => s.id === a.s.id);
    assert.ok(me, `all_sockets lists the admin socket: ${JSON.stringify(all)}`);
    assert.equal(me.nsp, '/admin');
    assert.equal(me.transport, 'websocket');
    assert.equal(me.clientId.length, 12);
    assert.deepEqual(me.rooms, [a.s.id]);
    assert.deepEqual(me.data, {});
    assert.equal(me.handshake.address, '127.0.0.1');
    assert.equal(me.handshake.query.EIO, '4');
    assert.equal(typeof me.handshake.issued, 'number');
    assert.equal(me.handshake.auth, undefined, 'auth (the password) is not shown');
    // The UI hears of itself before config, as Node orders it.
    assert.deepEqual(names(a.log).slice(0, 5),
      ['session', 'room_joined', 'socket_connected', 'config', 'all_sockets']);
  });

  it('accepts the session id of a login, without a new session', async () => {
    const first = await login(srv().url);
    const sessionId = first.log.find((m) => m.ev === 'session').args[0];
    first.s.close();
    const again = await login(srv().url, { sessionId });
    assert.ok(!again.log.some((m) => m.ev === 'session'), 'no new session');
  });

  it('sends server_stats every 2 s with the traffic and the namespaces', async () => {
    const a = await login(srv().url);
    const c = await h.connect(srv().url, { auth: { join: ['r1'] } }); // polling, upgrades
    await call(c, 'in_room', 'r1');
    c.disconnect();
    // Each server_stats carries what happened since the one before: wait
    // for the one with the client's disconnection.
    await until(a.log, (m) => m.ev === 'server_stats' &&
      m.args[0].aggregatedEvents.some((e) => e.type === 'rawDisconnection'), 'the disconnection');
    const stats = a.log.filter((m) => m.ev === 'server_stats').map((m) => m.args[0]);
    const last = stats[stats.length - 1];
    assert.equal(last.serverId, 'plugio-test');
    assert.equal(typeof last.hostname, 'string');
    assert.equal(last.pid, srv().child.pid);
    assert.equal(typeof last.uptime, 'number');
    assert.ok(last.clientsCount >= 1);
    assert.equal(typeof last.pollingClientsCount, 'number');
    const nsps = Object.fromEntries(last.namespaces.map((n) => [n.name, n.socketsCount]));
    assert.ok(nsps['/admin'] >= 1, JSON.stringify(last.namespaces));
    assert.equal(typeof nsps['/'], 'number');
    const events = stats.flatMap((st) => st.aggregatedEvents);
    const types = new Set(events.map((e) => e.type));
    for (const t of ['rawConnection', 'rawDisconnection', 'packetsIn', 'packetsOut', 'bytesIn', 'bytesOut']) {
      assert.ok(types.has(t), `${t} in ${JSON.stringify(events)}`);
    }
    for (const e of events) {
      assert.equal(e.timestamp % 1000, 0);
      assert.ok(e.count > 0);
    }
    assert.ok(events.some((e) => e.type === 'rawDisconnection' && e.subType === 'transport close'),
      JSON.stringify(events));
  });

  it('tells every socket\'s life: connected, rooms, events, data, upgrade, disconnected', async () => {
    const a = await login(srv().url);
    const c = await h.connect(srv().url, { auth: { join: ['r1'] } }); // polling, then the upgrade
    const id = c.id;
    await until(a.log, (m) => m.ev === 'socket_updated' && m.args[0].id === id && m.args[0].transport,
      'the upgrade');
    await call(c, 'join', ['r2']);
    await call(c, 'data_set', 'k', { v: 1 });
    await call(c, 'leave', 'r2');
    c.disconnect();
    await until(a.log, (m) => m.ev === 'room_left' && m.args[1] === 'r1' && m.args[2] === id, 'room_left r1');
    const mine = about(a.log, id);
    assert.deepEqual(names(mine), ['room_joined', 'socket_connected', 'room_joined', 'event_sent',
      'socket_updated', 'event_received', 'room_joined', 'event_received', 'socket_updated',
      'event_received', 'room_left', 'socket_disconnected', 'room_left', 'room_left']);
    const [connected, at] = mine[1].args;
    assert.equal(connected.transport, 'polling');
    assert.equal(connected.nsp, '/');
    assert.deepEqual(connected.rooms, [id], 'its connection handler joins r1 after');
    assert.match(at, ISO);
    assert.deepEqual(mine[2].args.slice(0, 3), ['/', 'r1', id]);
    assert.equal(mine[3].args[2][0], 'welcome');
    assert.deepEqual(mine[4].args, [{ id, nsp: '/', transport: 'websocket' }]);
    assert.deepEqual(mine[5].args.slice(0, 3), ['/', id, ['join', ['r2']]]);
    assert.deepEqual(mine[8].args, [{ id, nsp: '/', data: { k: { v: 1 } } }]);
    assert.deepEqual(mine[10].args.slice(0, 3), ['/', 'r2', id]);
    assert.deepEqual(mine[11].args.slice(0, 3), ['/', id, 'client namespace disconnect']);
    for (const m of mine.filter((x) => x.ev !== 'socket_updated')) assert.match(m.args[m.args.length - 1], ISO);
    // The admin namespace's own events are actions, not event_received.
    assert.ok(!a.log.some((m) => m.ev === 'event_received' && m.args[0] === '/admin'));
  });

  it('emit: to a namespace and to a room', async () => {
    const a = await login(srv().url);
    const inRoom = await h.connect(srv().url, { auth: { join: ['r1'] }, ...WS });
    const other = await h.connect(srv().url, WS);
    const got = { inRoom: h.collect(inRoom, 'hello', { all: true }), other: h.collect(other, 'hello', { all: true }) };
    const fenced = Promise.all([h.next(inRoom, 'bye'), h.next(other, 'bye')]);
    a.s.emit('emit', '/', 'r1', 'hello', 1, { two: 2 });
    a.s.emit('emit', '/', undefined, 'hello', 'all');
    a.s.emit('emit', '/', '', 'bye');
    await fenced;
    assert.deepEqual(got.inRoom, [[1, { two: 2 }], ['all']]);
    assert.deepEqual(got.other, [['all']]);
  });

  it('join and leave: a room\'s sockets or a namespace\'s', async () => {
    const a = await login(srv().url);
    const inRoom = await h.connect(srv().url, { auth: { join: ['r1'] }, ...WS });
    const other = await h.connect(srv().url, WS);
    a.s.emit('join', '/', 'vip', 'r1');
    await until(a.log, (m) => m.ev === 'room_joined' && m.args[1] === 'vip' && m.args[2] === inRoom.id, 'vip joined');
    assert.deepEqual(await call(inRoom, 'in_room', 'vip'), 1);
    assert.deepEqual(await call(other, 'in_room', 'vip'), 0);
    a.s.emit('join', '/', 'everyone');
    await until(a.log, (m) => m.ev === 'room_joined' && m.args[1] === 'everyone' && m.args[2] === other.id, 'everyone joined');
    assert.deepEqual(await call(inRoom, 'in_room', 'everyone'), 1);
    a.s.emit('leave', '/', 'vip');
    await until(a.log, (m) => m.ev === 'room_left' && m.args[1] === 'vip' && m.args[2] === inRoom.id, 'vip left');
    assert.deepEqual(await call(inRoom, 'in_room', 'vip'), 0);
  });

  it('_disconnect: a room\'s sockets', async () => {
    const a = await login(srv().url);
    const inRoom = await h.connect(srv().url, { auth: { join: ['r1'] }, ...WS });
    const other = await h.connect(srv().url, WS);
    const gone = h.next(inRoom, 'disconnect');
    a.s.emit('_disconnect', '/', false, 'r1');
    assert.equal((await gone)[0], 'io server disconnect');
    assert.ok(other.connected);
    assert.deepEqual(await call(other, 'in_room', 'r1'), 0);
  });
});

/* ---- failed logins ------------------------------------------------------ */

const BACKING_OFF = 'too many attempts, try again later';
const BUSY = 'another login is being checked, try again';

describe('admin, failed logins', () => {
  const srv = h.serverFor({ before, after }, adminServer({ auth: { username: 'admin', password: HASH } }));
  afterEach(() => h.closeAll());

  it('refuses a wrong password, a wrong user and no credentials; then backs off', async () => {
    const url = srv().url;
    assert.equal(await refused(url, {}), 'invalid credentials');
    assert.equal(await refused(url, { sessionId: '0123456789abcdef' }), 'invalid credentials');
    assert.equal(await refused(url, { username: 'admin', password: 'nope' }), 'invalid credentials');
    // 127.0.0.1 now waits 1 s: refused unchecked, even with the right pair.
    assert.equal(await refused(url, { username: 'root', password: 's3cret' }), BACKING_OFF);
    assert.equal(await refused(url, CREDS), BACKING_OFF);
    await h.sleep(1100);
    assert.equal(await refused(url, { username: 'root', password: 's3cret' }), 'invalid credentials');
    assert.equal(await refused(url, CREDS), BACKING_OFF, 'a second failure: 2 s');
    await h.sleep(2100);
    const a = await login(url);
    assert.ok(a.log.some((m) => m.ev === 'session'));
    // The login forgot the failures: the next one waits 1 s again.
    assert.equal(await refused(url, { username: 'admin', password: 'nope' }), 'invalid credentials');
    await h.sleep(1100);
    await login(url);
    assert.match(srv().stderr(), /admin: the Admin UI's namespace is \/admin/);
  });
});

/* ---- production, read-only, no auth ----------------------------------- */

describe('admin, production mode', () => {
  const srv = h.serverFor({ before, after }, adminServer({
    auth: { username: 'admin', password: HASH },
    mode: 'production',
  }));
  afterEach(() => h.closeAll());

  it('sends config and server_stats, and nothing about sockets or events', async () => {
    const a = await login(srv().url);
    assert.deepEqual(a.log.find((m) => m.ev === 'config').args[0],
      { supportedFeatures: [...ACTIONS, 'AGGREGATED_EVENTS'] });
    const c = await h.connect(srv().url, { auth: { join: ['r1'] } });
    await call(c, 'join', ['r2']);
    await call(c, 'data_set', 'k', 1);
    c.disconnect();
    // The notifications of a turn go out before a later server_stats: one
    // that counts the disconnection comes after anything about it.
    await until(a.log, (m) => m.ev === 'server_stats' &&
      m.args[0].aggregatedEvents.some((e) => e.type === 'rawDisconnection'), 'the disconnection');
    assert.deepEqual([...new Set(names(a.log))].sort(), ['config', 'server_stats', 'session']);
  });
});

describe('admin, read-only', () => {
  const srv = h.serverFor({ before, after }, adminServer({ auth: false, readonly: true, namespace: '/ops' }));
  afterEach(() => h.closeAll());

  it('logs in without credentials on its namespace, and offers no action', async () => {
    const a = await login(srv().url, undefined, { path: '/socket.io' }).catch(() => null);
    assert.equal(a, null, 'no /admin namespace here');
    const s = h.client(`${srv().url}/ops`, WS);
    const log = record(s);
    await h.next(s, 'connect');
    const config = await until(log, (m) => m.ev === 'config', 'config');
    assert.deepEqual(config.args[0], { supportedFeatures: ['AGGREGATED_EVENTS', 'ALL_EVENTS'] });
    assert.ok(!log.some((m) => m.ev === 'session'), 'no session without a login');
  });

  it('ignores the actions', async () => {
    const url = srv().url;
    const opsLogin = async () => {
      const s = h.client(`${url}/ops`, WS);
      const log = record(s);
      await h.next(s, 'connect');
      await until(log, (m) => m.ev === 'all_sockets', 'all_sockets');
      return { s, log };
    };
    const watcher = await opsLogin();
    const a = await opsLogin();
    const c = await h.connect(url, { auth: { join: ['r1'] }, ...WS });
    const hello = h.collect(c, 'hello');
    a.s.emit('emit', '/', undefined, 'hello');
    a.s.emit('join', '/', 'vip');
    a.s.emit('leave', '/', 'r1');
    a.s.emit('_disconnect', '/', true);
    await fence(a, watcher);
    assert.ok(c.connected);
    assert.deepEqual(hello, []);
    assert.deepEqual(await call(c, 'in_room', 'vip'), 0);
    assert.deepEqual(await call(c, 'in_room', 'r1'), 1);
  });
});

/* ---- the same script against Node's socket.io and instrument() -------- */

/* Node socket.io 4.8.4 with @socket.io/admin-ui 0.5.1's instrument(), and
 * handlers doing what the io plugin's do. */
async function nodeServer() {
  const { Server } = require('socket.io');
  const { instrument } = require('@socket.io/admin-ui');
  const server = http.createServer();
  const io = new Server(server);
  instrument(io, { auth: { type: 'basic', username: 'admin', password: HASH }, mode: 'development' });
  io.on('connection', (socket) => {
    socket.join(socket.handshake.auth.join || []);
    socket.emit('welcome', { id: socket.id, nsp: '/', rooms: [...socket.rooms], trail: null, build: 'node' });
    socket.on('join', (rooms, ack) => { socket.join(rooms); ack([...socket.rooms]); });
    socket.on('leave', (room, ack) => { socket.leave(room); ack([...socket.rooms]); });
    socket.on('data_set', (key, value, ack) => { socket.data[key] = value; ack(0); });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => { io.close(); server.close(resolve); }),
  };
}

/* Log in, then a client connects in r1, joins r2, sets data, leaves r2 and
 * disconnects; until its disconnection is in a server_stats. */
async function script(url) {
  const a = await login(url);
  await until(a.log, (m) => m.ev === 'all_sockets', 'all_sockets');
  const c = await h.connect(url, { auth: { join: ['r1'] }, ...WS });
  const id = c.id;
  await call(c, 'join', ['r2']);
  await call(c, 'data_set', 'k', { v: 1 });
  await call(c, 'leave', 'r2');
  c.disconnect();
  await until(a.log, (m) => m.ev === 'room_left' && m.args[1] === 'r1' && m.args[2] === id, 'room_left r1');
  await until(a.log, (m) => m.ev === 'server_stats' &&
    m.args[0].aggregatedEvents.some((e) => e.type === 'rawDisconnection'), 'the disconnection in server_stats');
  a.s.close();
  return { log: a.log, id };
}

describe('admin, against Node\'s instrument()', () => {
  const srv = h.serverFor({ before, after }, adminServer({ auth: { username: 'admin', password: HASH } }));
  let node;
  before(async () => { node = await nodeServer(); });
  after(async () => { if (node) await node.close(); });
  afterEach(() => h.closeAll());

  it('says the same things, in the same order, of the same shapes', async () => {
    const ours = await script(srv().url);
    const theirs = await script(node.url);
    // The login: the same first messages.
    assert.deepEqual(names(ours.log).slice(0, 5), names(theirs.log).slice(0, 5));
    // The client's life: the same sequence.
    assert.deepEqual(names(about(ours.log, ours.id)), names(about(theirs.log, theirs.id)));
    assert.deepEqual(names(about(ours.log, ours.id)), ['room_joined', 'socket_connected', 'room_joined',
      'event_sent', 'event_received', 'room_joined', 'event_received', 'socket_updated',
      'event_received', 'room_left', 'socket_disconnected', 'room_left', 'room_left']);
    // Each kind of message: the same shape.
    const kinds = new Set([...names(ours.log), ...names(theirs.log)]);
    assert.deepEqual([...kinds].sort(), [...new Set(names(theirs.log))].sort(), 'the same kinds');
    for (const kind of kinds) {
      const shapes = (log) => [...new Set(log.filter((m) => m.ev === kind).map((m) => JSON.stringify(shape(m.args))))].sort();
      if (kind === 'server_stats') {
        // aggregatedEvents' entries vary from one to the next: their union.
        const union = (log) => shape(log.filter((m) => m.ev === kind).flatMap((m) => m.args[0].aggregatedEvents));
        assert.deepEqual(union(ours.log), union(theirs.log), 'aggregatedEvents');
        const rest = (log) => [...new Set(log.filter((m) => m.ev === kind).map((m) => {
          const { aggregatedEvents, ...others } = m.args[0];
          return JSON.stringify(shape(others));
        }))];
        assert.deepEqual(rest(ours.log), rest(theirs.log), 'server_stats');
        continue;
      }
      assert.deepEqual(shapes(ours.log), shapes(theirs.log), `the shape of ${kind}`);
    }
    // The same values where they are not random.
    const config = (log) => log.find((m) => m.ev === 'config').args[0];
    assert.deepEqual(config(ours.log), config(theirs.log));
    const reasons = (log) => log.filter((m) => m.ev === 'socket_disconnected').map((m) => m.args[2]);
    assert.deepEqual(reasons(ours.log), reasons(theirs.log));
  });
});

/* ---- a reload ------------------------------------------------------------ */

describe('admin, across a reload', () => {
  const srv = h.serverFor({ before, after }, adminServer({ auth: { username: 'admin', password: HASH } }));
  afterEach(() => h.closeAll());

  it('keeps the running admin namespace when the admin: section changes', async () => {
    const s = srv();
    const doc = JSON.parse(JSON.stringify(s.doc));
    doc.admin = { namespace: '/ops', auth: false };
    fs.writeFileSync(`${s.yamlFile}.tmp`, h.toYaml(doc));
    fs.renameSync(`${s.yamlFile}.tmp`, s.yamlFile);
    const deadline = Date.now() + 5000;
    while (!/reload #1 done/.test(s.stderr()) && Date.now() < deadline) await h.sleep(20);
    assert.match(s.stderr(), /the admin: section changed; a restart is needed/);
    assert.match(s.stderr(), /reload #1 done/);
    await login(s.url); // still /admin, still with credentials
    assert.equal(await refused(s.url, {}), 'invalid credentials');
    const ops = h.client(`${s.url}/ops`, WS);
    assert.equal((await h.connectError(ops)).message, 'Invalid namespace');
  });
});

describe('admin, binary arguments', () => {
  const srv = h.serverFor({ before, after }, adminServer({ auth: false }));
  afterEach(() => h.closeAll());

  it('event_received carries them as binary', async () => {
    const s = h.client(`${srv().url}/admin`, WS);
    const log = record(s);
    await h.next(s, 'connect');
    await until(log, (m) => m.ev === 'all_sockets', 'all_sockets');
    const c = await h.connect(srv().url, WS);
    c.emit('upload', 'name', Buffer.from([1, 2, 3]));
    const got = await until(log, (m) => m.ev === 'event_received' && m.args[1] === c.id, 'event_received');
    assert.equal(got.args[2][0], 'upload');
    assert.equal(got.args[2][1], 'name');
    assert.deepEqual([...Buffer.from(got.args[2][2])], [1, 2, 3]);
  });
});

describe('admin, a slow password check', () => {
  // bcryptjs.hashSync('slow', 13): some 400 ms of bcrypt.
  const SLOW = '$2a$13$pOZ0RA.MjsUbpvGYTK1n1OJi3J4lzD0gi3dp5UV1q5pBu9bzXLhAC';
  const srv = h.serverFor({ before, after }, adminServer({ auth: { username: 'admin', password: SLOW } }));
  afterEach(() => h.closeAll());

  it('runs off the event loop: other clients are served meanwhile', async () => {
    const c = await h.connect(srv().url, WS);
    const order = [];
    const admin = h.client(`${srv().url}/admin`, { auth: { username: 'admin', password: 'slow' }, ...WS });
    const loggedIn = h.next(admin, 'connect', 10000).then(() => order.push('login'));
    // Once the check has begun (the CONNECT is on its way), a round trip.
    await h.sleep(50);
    for (let i = 0; i < 3; i++) {
      await call(c, 'in_room', 'x');
      order.push('answer');
    }
    await loggedIn;
    assert.deepEqual(order, ['answer', 'answer', 'answer', 'login']);
  });

  it('checks one login at a time, leaves a worker to the plugins, backs off unchecked', async () => {
    const url = srv().url;
    const c = await h.connect(url, WS);
    const order = [];
    const wrong = { username: 'admin', password: 'wrong' };
    const logins = [0, 1, 2].map(() => h.client(`${url}/admin`, { auth: wrong, ...WS }));
    const refusals = logins.map((s) => h.connectError(s, 10000).then((err) => {
      order.push(err.message);
      return err.message;
    }));
    // One login is being checked once another is refused as BUSY; the
    // plugins' work runs meanwhile on the other worker.
    await Promise.race(refusals);
    const worked = h.next(c, 'worked', 10000).then(() => order.push('worked'));
    assert.equal(await call(c, 'work', { ms: 0, n: 10 }), 0);
    await worked;
    assert.deepEqual((await Promise.all(refusals)).sort(), [BUSY, BUSY, 'invalid credentials']);
    assert.deepEqual(order.filter((x) => x !== BUSY), ['worked', 'invalid credentials']);
    // The failure's back-off: refused at once, bcrypt not run (no BUSY).
    assert.equal(await refused(url, wrong), BACKING_OFF);
    assert.equal(await refused(url, { username: 'admin', password: 'slow' }), BACKING_OFF);
    await h.sleep(1100);
    const a = await login(url, { username: 'admin', password: 'slow' });
    assert.ok(a.log.some((m) => m.ev === 'session'));
  });
});

describe('admin, server_stats for an admin socket that connects late', () => {
  const srv = h.serverFor({ before, after }, adminServer({ auth: false, mode: 'production' }));
  afterEach(() => h.closeAll());

  it('counts the clients and sockets there are, though none was built before', async () => {
    // Several server_stats ticks with no admin socket: nothing built.
    const clients = await Promise.all([WS, WS, { transports: ['polling'] }].map((o) => h.connect(srv().url, o)));
    await h.sleep(2500);
    const s = h.client(`${srv().url}/admin`, WS);
    const log = record(s);
    await h.next(s, 'connect');
    const stats = (await until(log, (m) => m.ev === 'server_stats', 'server_stats', 5000)).args[0];
    assert.equal(stats.clientsCount, 4, JSON.stringify(stats));
    assert.equal(stats.pollingClientsCount, 1);
    const nsps = Object.fromEntries(stats.namespaces.map((n) => [n.name, n.socketsCount]));
    assert.equal(nsps['/'], 3);
    assert.equal(nsps['/admin'], 1);
    assert.ok(stats.aggregatedEvents.some((e) => e.type === 'rawConnection'), 'its own connection');
    for (const c of clients) assert.ok(c.connected);
  });
});

/* The largest memory the process has had, in kB. */
function vmHWM(pid) {
  return Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
}

describe('admin, a large broadcast in development mode', () => {
  const srv = h.serverFor({ before, after },
    { ...adminServer({ auth: false }), serverOptions: { maxHttpBufferSize: 2e6 } });
  afterEach(() => h.closeAll());

  it('queues event_sent within a byte budget, drops the rest and says so', async () => {
    const MB = 1 << 20;
    const clients = await h.connectMany(srv().url, 50, WS);
    const s = h.client(`${srv().url}/admin`, WS);
    const log = record(s);
    await h.next(s, 'connect');
    await until(log, (m) => m.ev === 'all_sockets', 'all_sockets');
    const before = vmHWM(srv().child.pid);
    const got = clients.map((c) => h.next(c, 'big', 20000));
    const counts = await call(clients[0], 'bcast', { event: 'big', args: [Buffer.alloc(MB, 7)] });
    assert.deepEqual(counts, [50]);
    for (const [buf] of await Promise.all(got)) assert.equal(buf.length, MB);
    // The notifications of that turn, fenced by a later server_stats.
    const mark = log.length;
    await until(log, (m, i) => i >= mark && m.ev === 'server_stats', 'a server_stats after');
    const sent = log.filter((m) => m.ev === 'event_sent' && m.args[2][0] === 'big');
    assert.ok(sent.length >= 1 && sent.length <= 8, `${sent.length} event_sent of 1 MiB within 8 MiB`);
    assert.equal(Buffer.from(sent[0].args[2][1]).length, MB);
    assert.match(srv().stderr(), /admin: \d+ notifications dropped \(more than 10000 or 8 MiB in one turn\)/);
    // Under AddressSanitizer, 92 MiB with the budget (the broadcast's own
    // copies among them), 289 MiB without: a generous bound between.
    const grown = (vmHWM(srv().child.pid) - before) / 1024;
    assert.ok(grown < 160, `the server's peak memory grew by ${grown.toFixed(0)} MiB`);
  });

  it('builds event_sent once per broadcast, each broadcast with its own args', async () => {
    const clients = await h.connectMany(srv().url, 3, WS);
    const s = h.client(`${srv().url}/admin`, WS);
    const log = record(s);
    await h.next(s, 'connect');
    await until(log, (m) => m.ev === 'all_sockets', 'all_sockets');
    // Three broadcasts in one handler (one turn), each of a new pio_out
    // that may well sit where the one before was freed.
    assert.deepEqual(await call(clients[0], 'bcast', { event: 'rep', repeat: 3, size: 2 }), [3, 3, 3]);
    const mark = log.length;
    await until(log, (m, i) => i >= mark && m.ev === 'server_stats', 'a server_stats after');
    for (const c of clients) {
      const mine = log.filter((m) => m.ev === 'event_sent' && m.args[1] === c.id && m.args[2][0] === 'rep');
      assert.deepEqual(mine.map((m) => m.args[2]), [['rep', 0, 'xx'], ['rep', 1, 'xx'], ['rep', 2, 'xx']]);
    }
  });
});
