'use strict';
/*
 * cluster/redis.js - a real redis-server for the cluster tests, and what
 * the tests use to look at it:
 *
 *   startRedis(opts)   redis-server on 127.0.0.1 and a free port, nothing
 *                      saved (--save '' --appendonly no); opts.password
 *                      (requirepass), opts.users ([{name, password}] ACL
 *                      users, and the default user switched off), opts.unix
 *                      (a unix socket too).  stop() / kill() / restart() keep
 *                      the port.
 *   redis.admin        a node-redis client for PUBSUB NUMSUB and friends
 *   redis.capture()    every message published on any channel, as bytes
 *                      (PSUBSCRIBE * in binary mode), decoded on demand;
 *                      capture.sync() waits until it has caught up
 *   redis.emitter(o)   an @socket.io/redis-emitter Emitter on its own client
 *   redis.publish()    PUBLISH raw bytes (hand-made messages)
 *
 * Everything waits in bounded loops (waitFor), never in fixed sleeps.
 */
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { setTimeout: sleep } = require('node:timers/promises');
const { createClient } = require('redis');
const { Emitter } = require('@socket.io/redis-emitter');
const msgpack = require('notepack.io');

const REDIS_SERVER = process.env.REDIS_SERVER || 'redis-server';

/* Poll `fn` (sync or async) until it returns a truthy value, which is
 * returned; throws after `ms` with `what` and the last value seen. */
async function waitFor(fn, { ms = 5000, every = 20, what = 'condition' } = {}) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) {
      throw new Error(`waitFor: ${what} not reached within ${ms} ms (last: ${JSON.stringify(last)})`);
    }
    await sleep(every);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/* The node-redis options that reach this server (as `who`: a user
 * {name, password}, or the requirepass password, or nobody). */
function clientOptions(redis, { unix = false, who } = {}) {
  const o = {
    socket: unix
      ? { path: redis.socketPath, reconnectStrategy: (n) => Math.min(20 + n * 20, 200) }
      : { host: '127.0.0.1', port: redis.port, reconnectStrategy: (n) => Math.min(20 + n * 20, 200) },
  };
  const user = who === undefined ? (redis.users[0] || null) : who;
  if (user && user.name) {
    o.username = user.name;
    o.password = user.password;
  } else if (redis.password) {
    o.password = redis.password;
  }
  return o;
}

/* Every helper connection is named (`name`), so that CLIENT LIST tells
 * the plugio nodes' connections, which are not, from the others. */
async function connectClient(opts, name) {
  const client = createClient({ ...opts, name });
  client.on('error', () => { /* reconnects by itself; a dead server is a test's doing */ });
  await client.connect().catch((err) => { throw new Error(`redis client ${name}: ${err.message}`); });
  return client;
}

async function spawnRedis(r) {
  const args = ['--port', String(r.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--dir', r.dir, '--daemonize', 'no', '--loglevel', 'notice'];
  if (r.password) args.push('--requirepass', r.password);
  for (const u of r.users) args.push('--user', u.name, 'on', `>${u.password}`, '~*', '&*', '+@all');
  if (r.users.length) args.push('--user', 'default', 'off');
  if (r.socketPath) args.push('--unixsocket', r.socketPath, '--unixsocketperm', '700');
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let log = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { log += d; r.log += d; });
  child.stderr.on('data', (d) => { log += d; r.log += d; });
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    running.delete(child);
    resolve({ code, signal });
  }));
  const ready = await Promise.race([
    waitFor(() => /Ready to accept connections/.test(log), { ms: 10000, what: 'redis-server ready' })
      .then(() => true),
    exited.then(() => false),
  ]);
  if (!ready) return { child: null, log };
  return { child, exited, log };
}

/*
 * startRedis({password, users, unix}) -> redis
 *   {host, port, socketPath, password, users, admin, url,
 *    stop(), restart(), numsub(channel), numpat(), channels(pattern),
 *    clientList(), capture(), emitter(opts), publish(channel, bytes),
 *    clientOptions(opts), close()}
 */
async function startRedis(opts = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-redis-'));
  const r = {
    host: '127.0.0.1',
    port: 0,
    dir,
    log: '',
    password: opts.password || null,
    users: opts.users || [],
    socketPath: opts.unix ? path.join(dir, 'redis.sock') : null,
    child: null,
    exited: null,
    clients: [],
  };
  /* A free port can be taken between the probe and the bind: try again. */
  for (let attempt = 0; ; attempt++) {
    r.port = await freePort();
    const started = await spawnRedis(r);
    if (started.child) {
      r.child = started.child;
      r.exited = started.exited;
      break;
    }
    if (attempt === 4) throw new Error(`redis-server did not start:\n${started.log}`);
  }

  r.clientOptions = (o) => clientOptions(r, o);
  r.admin = await connectClient(clientOptions(r), 'test-admin');
  r.clients.push(r.admin);

  r.numsub = async (channel) => {
    const reply = await r.admin.sendCommand(['PUBSUB', 'NUMSUB', channel]);
    return Number(reply[1]);
  };
  r.numpat = async () => Number(await r.admin.sendCommand(['PUBSUB', 'NUMPAT']));
  r.channels = async (pattern = '*') => (await r.admin.sendCommand(['PUBSUB', 'CHANNELS', pattern])).sort();
  /* CLIENT LIST as [{id, addr, name, sub, psub, cmd, ...}] (strings). */
  r.clientList = async () => {
    const text = await r.admin.sendCommand(['CLIENT', 'LIST']);
    return text.split('\n').filter(Boolean).map((line) => Object.fromEntries(
      line.split(' ').map((kv) => {
        const i = kv.indexOf('=');
        return [kv.slice(0, i), kv.slice(i + 1)];
      })));
  };
  r.publish = (channel, bytes) => r.admin.sendCommand(['PUBLISH', channel, Buffer.from(bytes)]);

  r.capture = async () => {
    const client = await connectClient(clientOptions(r), 'test-capture');
    r.clients.push(client);
    const cap = new Capture(client);
    await client.pSubscribe('*', (message, channel) => cap.push(channel, message), true);
    /* Once this returns, the capture holds every message Redis had
     * published before it was called. */
    cap.sync = async () => {
      const tag = `sync-${cap.seq}-${Math.random().toString(36).slice(2)}`;
      await r.publish('test-capture-sync', Buffer.from(tag));
      await cap.find((m) => m.channel === 'test-capture-sync' && m.bytes.toString() === tag, 5000, 'capture sync');
    };
    return cap;
  };

  r.emitter = async (emitterOpts = {}) => {
    const client = await connectClient(clientOptions(r), 'test-emitter');
    r.clients.push(client);
    return new Emitter(client, emitterOpts);
  };

  /* SIGTERM and wait; the port stays this server's for restart(). */
  r.stop = async () => {
    if (!r.child) return;
    r.child.kill('SIGTERM');
    const timer = setTimeout(() => r.child && r.child.kill('SIGKILL'), 5000);
    await r.exited;
    clearTimeout(timer);
    r.child = null;
  };
  /* SIGKILL: Redis goes away mid-command, as a crash or a power cut. */
  r.kill = async () => {
    if (!r.child) return;
    r.child.kill('SIGKILL');
    await r.exited;
    r.child = null;
  };
  /* Start again on the same port (after stop() or kill(), or at once). */
  r.restart = async () => {
    await r.stop();
    for (let attempt = 0; ; attempt++) {
      const started = await spawnRedis(r);
      if (started.child) {
        r.child = started.child;
        r.exited = started.exited;
        break;
      }
      if (attempt === 20) throw new Error(`redis-server did not restart on ${r.port}:\n${started.log}`);
      await sleep(100); /* the old socket may linger a moment */
    }
    /* The admin client reconnects by itself. */
    await waitFor(async () => {
      try { return (await r.admin.ping()) === 'PONG'; } catch { return false; }
    }, { ms: 10000, what: 'admin client back after restart' });
  };
  r.close = async () => {
    for (const c of r.clients) {
      try { await c.disconnect(); } catch { /* closed already */ }
    }
    await r.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  return r;
}

/* ---- The capture ----------------------------------------------------- */

/* One captured message: {channel, bytes, at} with decode() giving what a
 * socket.io adapter would read (msgpack on broadcast channels; JSON when
 * the first byte is '{', msgpack otherwise, on the others). */
class Captured {
  constructor(channel, bytes, seq) {
    this.channel = channel;
    this.bytes = bytes;
    this.seq = seq;
    this._decoded = undefined;
  }

  get json() {
    return this.bytes[0] === 0x7b;
  }

  decode() {
    if (this._decoded === undefined) {
      try {
        this._decoded = this.json ? JSON.parse(this.bytes.toString('utf8')) : msgpack.decode(this.bytes);
      } catch (err) {
        this._decoded = { undecodable: err.message };
      }
    }
    return this._decoded;
  }

  /* For a broadcast message [uid, packet, opts]: the event name. */
  get event() {
    const d = this.decode();
    return Array.isArray(d) && d[1] && Array.isArray(d[1].data) ? d[1].data[0] : undefined;
  }
}

class Capture {
  constructor(client) {
    this.client = client;
    this.messages = [];
    this.seq = 0;
  }

  push(channel, message) {
    this.messages.push(new Captured(channel.toString('utf8'), Buffer.from(message), this.seq++));
  }

  /* Messages `pred` accepts. */
  filter(pred) {
    return this.messages.filter(pred);
  }

  /* The first message `pred` accepts (waits for it, bounded). */
  async find(pred, ms = 5000, what = 'a captured message') {
    return waitFor(() => this.messages.find(pred), { ms, what });
  }

  /* Wait until `n` messages match `pred`; returns them. */
  async count(pred, n, ms = 5000, what = `${n} captured messages`) {
    return waitFor(() => {
      const got = this.messages.filter(pred);
      return got.length >= n ? got : null;
    }, { ms, what });
  }
}

/* Does `bytes` contain the byte sequence `seq`? */
function hasBytes(bytes, seq) {
  return Buffer.from(bytes).indexOf(Buffer.from(seq)) !== -1;
}

module.exports = { startRedis, waitFor, hasBytes, msgpack, freePort };
