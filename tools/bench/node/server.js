#!/usr/bin/env node
'use strict';
/*
 * server.js - the Node.js socket.io 4.8 baseline for tools/bench: the same
 * three handlers as tools/bench/plugin/bench.c, with socket.io's defaults
 * (path /socket.io, pingInterval 25000, pingTimeout 20000).
 *
 *   node server.js [PORT] [--per-message-deflate] [--no-http-compression]
 *                  [--redis REDIS_PORT]
 *                              PORT 0 (the default) lets the system pick;
 *                              the flags set socket.io's compression options
 *                              (defaults: perMessageDeflate false,
 *                              httpCompression true), for tools/bench/compress;
 *                              --redis joins the node to the others on that
 *                              redis-server (127.0.0.1) with
 *                              @socket.io/redis-adapter, for the cluster
 *                              scenario
 *
 * Listens on 127.0.0.1 and prints "listening on 127.0.0.1:PORT" on stderr,
 * as plugio does; SIGTERM exits 0.
 *
 *   ack     acks with the event's arguments
 *   join    joins room "bench", acks with no arguments
 *   fanout  emits the event's arguments to room "bench", sender excluded
 */
const http = require('node:http');
const { Server } = require('socket.io');

const port = Number(process.argv[2] || 0);
const flags = process.argv.slice(3);
const httpServer = http.createServer();
const io = new Server(httpServer, {
  path: '/socket.io',
  pingInterval: 25000,
  pingTimeout: 20000,
  maxHttpBufferSize: 1e6,
  transports: ['polling', 'websocket'],
  serveClient: false,
  perMessageDeflate: flags.includes('--per-message-deflate'),
  httpCompression: !flags.includes('--no-http-compression'),
});

io.on('connection', (socket) => {
  socket.on('ack', (...args) => {
    const ack = args.pop();
    if (typeof ack === 'function') ack(...args);
  });
  socket.on('join', (...args) => {
    socket.join('bench');
    const ack = args.pop();
    if (typeof ack === 'function') ack();
  });
  socket.on('fanout', (...args) => {
    socket.to('bench').emit('fanout', ...args);
  });
});

async function main() {
  const r = flags.indexOf('--redis');
  if (r >= 0) {
    const { createClient } = require('redis');
    const { createAdapter } = require('@socket.io/redis-adapter');
    const pub = createClient({ url: `redis://127.0.0.1:${Number(flags[r + 1])}` });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub));
  }
  httpServer.listen(port, '127.0.0.1', () => {
    process.stderr.write(`listening on 127.0.0.1:${httpServer.address().port}\n`);
  });
}
main().catch((e) => {
  process.stderr.write(`server.js: ${e.stack || e}\n`);
  process.exit(1);
});
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
