'use strict';
// Requests asked before Redis has counted this server.  An asker counts the
// servers with PUBSUB NUMSUB on the request channel and waits for that
// many answers less its own - right only once its own SUBSCRIBE is
// confirmed, and plugio's NUMSUB goes out on its other connection, in no
// order with it.  Asked earlier (just after connecting or reconnecting, or
// in a child namespace just created), a request would count one server too
// few: with one other server, none, and complete with plugio's part only.
//
// Here plugio reaches Redis through a proxy that holds every command
// carrying SUBSCRIBE on its way to Redis for HOLD_MS, so that window is
// wide open: plugio is connected (both connections answered PING) but not
// yet subscribed.  A request asked in it must wait for the subscription,
// then count and reach the Node.js node - fetchSockets after connecting,
// emitWithAck after a reconnection, serverSideEmitWithAck and allRooms
// after another, fetchSockets in a child namespace just created.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startRedis, waitFor } = require('./cluster/redis');
const { startNode, startPlugio } = require('./cluster/nodes');
const h = require('./helpers');
const S = require('./cluster/support');

const T = { timeout: 60000 };
const KEY = 'ready';
const HOLD_MS = 2000;

/* A TCP proxy to Redis that holds what a client sends, from a chunk that
 * carries SUBSCRIBE (or PSUBSCRIBE...) on, for HOLD_MS, then passes it on
 * in order.  holding(): some connection's commands are held now. */
function startProxy(redisPort) {
  const pairs = new Set();
  let held = 0;
  const server = net.createServer((client) => {
    const upstream = net.connect(redisPort, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    let queue = null;
    client.on('data', (chunk) => {
      if (queue) return void queue.push(chunk);
      if (!/SUBSCRIBE/i.test(chunk.toString('latin1'))) return void upstream.write(chunk);
      queue = [chunk];
      held++;
      setTimeout(() => {
        held--;
        const q = queue;
        queue = null;
        if (!upstream.destroyed) for (const c of q) upstream.write(c);
      }, HOLD_MS);
    });
    upstream.on('data', (d) => { if (!client.destroyed) client.write(d); });
    const close = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    holding: () => held > 0,
    dropAll() { for (const p of [...pairs]) { p.client.destroy(); p.upstream.destroy(); } },
    close() {
      this.dropAll();
      return new Promise((r) => server.close(r));
    },
  })));
}

function waitLog(member, re, n = 1, ms = 10000) {
  const g = new RegExp(re.source, 'g');
  return waitFor(() => (member.stderr().match(g) || []).length >= n,
    { ms, what: `${re} x${n} in ${member.name}'s log` }).catch((err) => {
    throw new Error(`${err.message}\n${member.stderr()}`);
  });
}

describe('requests asked before Redis confirmed plugio\'s subscription wait for it', () => {
  let redis;
  let proxy;
  let N;
  let P;
  before(async () => {
    redis = await startRedis();
    N = await startNode(redis, { kind: 'node', name: 'N', key: KEY, requestsTimeout: 8000 });
    proxy = await startProxy(redis.port);
  });
  afterEach(() => h.closeAll());
  after(async () => {
    const problems = [];
    if (P) problems.push(...(await P.stop()).problems);
    if (N) await N.stop();
    if (proxy) await proxy.close();
    if (redis) await redis.close();
    if (problems.length) throw new Error(problems.join('\n'));
  });

  /* The window is open: plugio is connected, Redis counts only N. */
  async function inWindow(nsp = '/') {
    await waitFor(() => proxy.holding(), { ms: 1000, what: 'the proxy holding plugio\'s SUBSCRIBE' });
    assert.equal(await redis.numsub(`${KEY}-request#${nsp}#`), 1, 'Redis does not count plugio yet');
  }

  it('fetchSockets just after connecting has the other server\'s sockets', T, async () => {
    const n = await N.connect('/');
    P = await startPlugio(redis, {
      kind: 'plugio',
      name: 'P',
      key: KEY,
      requestsTimeout: 8000,
      edit(doc) {
        doc.plugins.redis.config.port = proxy.port;
        doc.events.push({ name: 'connection', namespace: { match: '^/dyn-[0-9]+$' }, handler: 'cluster:on_connection' });
      },
    });
    await waitLog(P, /\bconnected to redis at /);
    await inWindow();
    const t0 = Date.now();
    const r = await P.fetchSockets({ nsp: '/' });
    assert.equal(r.err, null, S.show(r));
    assert.deepEqual(r.sockets.map((s) => s.id), [n.id], 'N\'s socket, counted after the subscription');
    assert.ok(Date.now() - t0 < 7000, 'answered once subscribed, not at the time limit');
  });

  it('emitWithAck just after a reconnection has every client\'s answer', T, async () => {
    const n = S.answerAsk(await N.connect('/'));
    const p = S.answerAsk(await P.connect('/'));
    proxy.dropAll();
    await waitLog(P, /reconnected to redis at /);
    await inWindow();
    const tag = S.uniq('ask');
    const r = await P.emitWithAck({ event: 'ask', args: [tag], timeout: 6000 });
    assert.equal(r.err, null, S.show(r));
    assert.deepEqual(S.sorted(r.responses.map((x) => x.id)), S.sorted([n.id, p.id]), S.show(r));
  });

  it('serverSideEmitWithAck and allRooms just after a reconnection have the other server\'s answers', T, async () => {
    const n = await N.connect('/', { join: ['n-room'] });
    proxy.dropAll();
    await waitLog(P, /reconnected to redis at /, 2);
    await inWindow();
    const tag = S.uniq('sse');
    const [sse, rooms] = await Promise.all([
      P.serverSideEmitWithAck({ event: 'sse', args: [tag], timeout: 6000 }),
      P.allRooms({ nsp: '/', timeout: 6000 }),
    ]);
    assert.equal(sse.err, null, S.show(sse));
    assert.deepEqual(sse.responses, [{ server: 'N', nsp: '/', args: [tag] }], S.show(sse));
    assert.equal(rooms.err, null, S.show(rooms));
    assert.ok(rooms.rooms.includes('n-room') && rooms.rooms.includes(n.id), S.show(rooms));
  });

  it('fetchSockets in a child namespace just created has the other server\'s sockets', T, async () => {
    await waitFor(() => !proxy.holding(), { what: 'the last hold over' });
    await N.local('/dyn-7'); /* io.of('/dyn-7') on the Node.js node */
    await waitFor(async () => (await redis.numsub(`${KEY}-request#/dyn-7#`)) === 1, { what: 'N subscribed to /dyn-7' });
    const n = await N.connect('/dyn-7');
    const p = await P.connect('/dyn-7'); /* plugio creates the child and subscribes */
    await inWindow('/dyn-7');
    const r = await P.fetchSockets({ nsp: '/dyn-7' });
    assert.equal(r.err, null, S.show(r));
    assert.deepEqual(S.sorted(r.sockets.map((s) => s.id)), S.sorted([n.id, p.id]), S.show(r));
  });
});
