'use strict';
/*
 * cluster/node-server.js - a Node.js socket.io 4.8 node of the cluster
 * tests: the reference implementation plugio joins.  Started by
 * cluster/nodes.js with fork(); its one argument is a JSON config:
 *
 *   {name, redis: <node-redis client options>, key, requestsTimeout,
 *    publishOnSpecificResponseChannel, namespaces: ["/", "/chat"],
 *    serverEvents: [{name, namespace}]}
 *
 * The adapter is @socket.io/redis-adapter's classic createAdapter(pub, sub).
 *
 * Clients (every namespace listed): the CONNECT auth payload {join, data}
 * joins rooms and sets socket.data; events "join" (room | [rooms]),
 * "leave" (room), "rooms" ack with the socket's rooms; "broadcast"
 * {event, args} is socket.broadcast.emit (all but the sender).
 *
 * serverEvents: each listed (namespace, name) is recorded to the parent as
 * {type: "server-event", nsp, event, args, wantsAck, socket: null}; when an
 * ack is wanted it answers {server: name, nsp, args} unless args[0] is
 * "no-ack".
 *
 * The parent drives the server through IPC: {id, op, params} -> {id, ok,
 * result | error}; values travel through cluster/codec.js (binary, Date).
 * ops: emit, emitWithAck, fetchSockets, remoteEmit, remoteEmitWithAck,
 * remoteJoin, remoteLeave, remoteDisconnect, allRooms, socketsJoin,
 * socketsLeave, disconnectSockets, serverSideEmit, serverSideEmitWithAck,
 * local (ids of this server's sockets), uid (the adapter's uid).
 */
const http = require('node:http');
const { Server } = require('socket.io');
const { createAdapter } = require('@socket.io/redis-adapter');
const { createClient } = require('redis');
const { encode, decode } = require('./codec');

const cfg = JSON.parse(process.argv[2]);

/* A PUBLISH in flight when Redis goes away rejects a promise nobody
 * handles inside the adapter (REDIS-ADAPTER.md §10); the reference node
 * must outlive a Redis restart, so it is logged, not fatal. */
process.on('unhandledRejection', (err) => {
  process.stderr.write(`${cfg.name}: unhandled rejection: ${err && err.message}\n`);
});

function redisOptions() {
  const o = JSON.parse(JSON.stringify(cfg.redis));
  o.socket = { ...o.socket, reconnectStrategy: (n) => Math.min(20 + n * 20, 200) };
  return o;
}

async function main() {
  /* Named, so the tests can tell this node's connections in CLIENT LIST. */
  const pub = createClient({ ...redisOptions(), name: `node-${cfg.name}-pub` });
  const sub = createClient({ ...redisOptions(), name: `node-${cfg.name}-sub` });
  for (const c of [pub, sub]) c.on('error', (err) => process.stderr.write(`${cfg.name}: redis: ${err.message}\n`));
  await Promise.all([pub.connect(), sub.connect()]);

  const adapterOpts = {};
  if (cfg.key !== undefined) adapterOpts.key = cfg.key;
  if (cfg.requestsTimeout !== undefined) adapterOpts.requestsTimeout = cfg.requestsTimeout;
  if (cfg.publishOnSpecificResponseChannel !== undefined) {
    adapterOpts.publishOnSpecificResponseChannel = cfg.publishOnSpecificResponseChannel;
  }

  const httpServer = http.createServer();
  const io = new Server(httpServer, { adapter: createAdapter(pub, sub, adapterOpts) });

  for (const name of cfg.namespaces || ['/', '/chat']) {
    io.of(name).on('connection', (socket) => {
      const auth = socket.handshake.auth || {};
      if (auth.join) socket.join(auth.join);
      if (auth.data !== undefined) socket.data = auth.data;
      socket.on('join', (rooms, ack) => {
        socket.join(rooms);
        if (typeof ack === 'function') ack([...socket.rooms]);
      });
      socket.on('leave', (room, ack) => {
        socket.leave(room);
        if (typeof ack === 'function') ack([...socket.rooms]);
      });
      socket.on('rooms', (ack) => ack([...socket.rooms]));
      socket.on('broadcast', ({ event, args }, ack) => {
        socket.broadcast.emit(event, ...(args || []));
        if (typeof ack === 'function') ack(true);
      });
    });
  }

  for (const { name, namespace } of cfg.serverEvents || []) {
    const nsp = namespace || '/';
    io.of(nsp).on(name, (...args) => {
      const cb = typeof args[args.length - 1] === 'function' ? args.pop() : null;
      process.send({ type: 'server-event', record: encode({ nsp, event: name, args, wantsAck: !!cb, socket: null }) });
      if (cb && args[0] !== 'no-ack') cb({ server: cfg.name, nsp, args });
    });
  }

  /* The RemoteSocket (or local Socket) instances of the last fetchSockets. */
  const fetched = new Map();

  /* io.of(nsp).to(rooms).except(except) with flags. */
  function operator(p) {
    let op = io.of(p.nsp || '/');
    if (p.rooms && p.rooms.length) op = op.to(p.rooms);
    if (p.except && p.except.length) op = op.except(p.except);
    if (p.volatile) op = op.volatile;
    if (p.compress !== undefined) op = op.compress(p.compress);
    if (p.local) op = op.local;
    if (p.timeout !== undefined) op = op.timeout(p.timeout);
    return op;
  }

  const failure = (err) => ({ err: err.message, responses: err.responses === undefined ? null : err.responses });

  function describe(s) {
    return { id: s.id, rooms: [...s.rooms], data: s.data, handshake: s.handshake };
  }

  function remote(p) {
    const s = fetched.get(`${p.nsp || '/'} ${p.id}`);
    if (!s) throw new Error(`no fetched socket ${p.id} in ${p.nsp || '/'}`);
    return s;
  }

  const ops = {
    emit(p) { operator(p).emit(p.event, ...(p.args || [])); return true; },
    async emitWithAck(p) {
      try {
        return { err: null, responses: await operator({ timeout: 1000, ...p }).emitWithAck(p.event, ...(p.args || [])) };
      } catch (err) { return failure(err); }
    },
    async fetchSockets(p) {
      try {
        const sockets = await operator(p).fetchSockets();
        for (const s of sockets) fetched.set(`${p.nsp || '/'} ${s.id}`, s);
        return { err: null, sockets: sockets.map(describe) };
      } catch (err) { return { err: err.message, sockets: null }; }
    },
    remoteEmit(p) { remote(p).emit(p.event, ...(p.args || [])); return true; },
    async remoteEmitWithAck(p) {
      try {
        return { err: null, response: await remote(p).timeout(p.timeout || 1000).emitWithAck(p.event, ...(p.args || [])) };
      } catch (err) { return { err: err.message, response: null }; }
    },
    remoteJoin(p) { remote(p).join(p.room); return true; },
    remoteLeave(p) { remote(p).leave(p.room); return true; },
    remoteDisconnect(p) { remote(p).disconnect(!!p.close); return true; },
    async allRooms(p) {
      try {
        return { err: null, rooms: [...await io.of(p.nsp || '/').adapter.allRooms()] };
      } catch (err) { return { err: err.message, rooms: null }; }
    },
    socketsJoin(p) { operator(p).socketsJoin(p.room); return true; },
    socketsLeave(p) { operator(p).socketsLeave(p.room); return true; },
    disconnectSockets(p) { operator(p).disconnectSockets(!!p.close); return true; },
    serverSideEmit(p) { io.of(p.nsp || '/').serverSideEmit(p.event, ...(p.args || [])); return true; },
    async serverSideEmitWithAck(p) {
      try {
        return { err: null, responses: await io.of(p.nsp || '/').serverSideEmitWithAck(p.event, ...(p.args || [])) };
      } catch (err) { return failure(err); }
    },
    local(p) { return [...io.of(p.nsp || '/').sockets.keys()]; },
    uid(p) { return io.of(p.nsp || '/').adapter.uid; },
  };

  process.on('message', async (msg) => {
    const { id, op, params } = msg;
    try {
      if (!ops[op]) throw new Error(`unknown op ${op}`);
      const result = await ops[op](decode(params || {}));
      process.send({ id, ok: true, result: encode(result) });
    } catch (err) {
      process.send({ id, ok: false, error: err.stack || String(err) });
    }
  });
  process.on('disconnect', () => process.exit(0)); /* the parent went away */
  process.on('SIGTERM', async () => {
    io.close();
    try { await Promise.all([pub.disconnect(), sub.disconnect()]); } catch { /* Redis gone */ }
    process.exit(0);
  });

  httpServer.listen(0, '127.0.0.1', () => {
    process.send({ type: 'ready', port: httpServer.address().port });
  });
}

main().catch((err) => {
  process.stderr.write(`${cfg.name}: ${err.stack || err}\n`);
  process.exit(1);
});
