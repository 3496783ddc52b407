'use strict';
// @socket.io/redis-emitter 5.1.0 toward the members of a cluster
// (REDIS-ADAPTER.md §5, §9 item 6): emit, to(room), to([a, b]).except(b),
// of("chat"), volatile and compress, binary and Date, serverSideEmit to
// the serverEvents handlers, socketsJoin / socketsLeave /
// disconnectSockets.  The emitter talks to Redis only; every member of
// the cluster must act on what it publishes.  The Node.js + plugio
// cluster uses the default key, "socket.io", on both sides.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { startRedis, waitFor } = require('./cluster/redis');
const { startCluster, settle } = require('./cluster/nodes');
const { normalize } = require('./cluster/codec');
const S = require('./cluster/support');

const T = { timeout: 30000 };

let redis;
let capture;
before(async () => {
  redis = await startRedis();
  capture = await redis.capture();
});
after(async () => {
  if (redis) await redis.close();
});

for (const c of S.clusters({ npKey: undefined })) {
  describe(c.title, () => {
    let cl;
    let emitter;
    before(async () => {
      cl = await startCluster(redis, c.specs, c.shared);
      emitter = await redis.emitter(c.key === undefined ? {} : { key: c.key });
    });
    after(async () => { if (cl) await cl.stop(); });
    afterEach(async () => { if (cl) await settle(cl); });

    const members = () => cl.members;
    /* One client per member in "/" (and in `join`). */
    const onEach = (nsp = '/', o = {}) => Promise.all(members().map((m) => m.connect(nsp, o)));

    /* The emitter's messages stay in order: "fence" to every socket of
     * nsp, through the same emitter. */
    async function emitterFence(sockets, nsp = '/') {
      const tag = S.uniq('fence');
      const arrived = sockets.map((s) => S.nextEvent(s, 'fence', (t) => t === tag));
      (nsp === '/' ? emitter : emitter.of(nsp)).emit('fence', tag);
      await Promise.all(arrived);
    }

    /* For requests: a serverSideEmit through the same emitter, once every
     * member has run its handler for it. */
    async function requestFence() {
      const tag = S.uniq('fence');
      emitter.serverSideEmit('sse', tag);
      await waitFor(() => members().every((m) => m.serverEvents.some((e) => e.args[0] === tag)),
        { what: 'every member ran the fence serverSideEmit' });
    }

    it('emit reaches every socket of "/" on every member (and published as the emitter does)', T, async () => {
      const ev = S.uniq('em');
      const clients = await onEach();
      const arrived = clients.map((s) => S.nextEvent(s, ev));
      emitter.emit(ev, 1, 'a', { n: null });
      assert.deepEqual(await Promise.all(arrived), clients.map(() => [1, 'a', { n: null }]));
      const m = await capture.find((x) => x.event === ev);
      assert.equal(m.decode()[0], 'emitter');
    });

    it('to(room) and to([a, b]).except(b) select on every member', T, async () => {
      const ev = S.uniq('rooms');
      const r1 = S.uniq('r1');
      const r2 = S.uniq('r2');
      const only1 = await onEach('/', { join: [r1] });
      const both = await onEach('/', { join: [r1, r2] });
      const none = await onEach('/');
      const wrong = [...both, ...none].map((s) => S.record(s, ev));
      let arrived = [...only1, ...both].map((s) => S.nextEvent(s, ev, (x) => x === 'to r1'));
      emitter.to(r1).emit(ev, 'to r1');
      await Promise.all(arrived);
      arrived = only1.map((s) => S.nextEvent(s, ev, (x) => x === 'except'));
      emitter.to([r1, r2]).except(r2).emit(ev, 'except');
      await Promise.all(arrived);
      await emitterFence([...only1, ...both, ...none]);
      assert.deepEqual(wrong.map((g) => g.map((args) => args[0])),
        [...both.map(() => ['to r1']), ...none.map(() => [])]);
    });

    it('of("chat") reaches "/chat" only', T, async () => {
      const ev = S.uniq('chat');
      const chat = await onEach('/chat');
      const root = await onEach('/');
      const wrong = root.map((s) => S.record(s, ev));
      const arrived = chat.map((s) => S.nextEvent(s, ev));
      emitter.of('chat').emit(ev, 'chat');
      assert.deepEqual(await Promise.all(arrived), chat.map(() => ['chat']));
      await emitterFence(root);
      assert.deepEqual(wrong, root.map(() => []));
    });

    it('volatile and compress(false) reach idle sockets', T, async () => {
      const ev = S.uniq('flags');
      const clients = await onEach();
      let arrived = clients.map((s) => S.nextEvent(s, ev, (x) => x === 'volatile'));
      emitter.volatile.emit(ev, 'volatile');
      await Promise.all(arrived);
      arrived = clients.map((s) => S.nextEvent(s, ev, (x) => x === 'compress'));
      emitter.compress(false).emit(ev, 'compress');
      await Promise.all(arrived);
      const m = await capture.find((x) => x.event === ev && x.decode()[2].flags.volatile === true);
      assert.deepEqual(m.decode()[2].flags, { volatile: true });
    });

    it('binary arrives as binary, a Date as its ISO string', T, async () => {
      const ev = S.uniq('bin');
      const clients = await onEach();
      const arrived = clients.map((s) => S.nextEvent(s, ev));
      emitter.emit(ev, Buffer.from([1, 2, 3]), { buf: Buffer.from('hi'), list: [Buffer.alloc(300, 5)] }, new Date(0));
      const want = normalize([Buffer.from([1, 2, 3]), { buf: Buffer.from('hi'), list: [Buffer.alloc(300, 5)] },
        '1970-01-01T00:00:00.000Z']);
      for (const got of await Promise.all(arrived)) assert.deepEqual(normalize(got), want);
    });

    it('serverSideEmit runs the serverEvents handler of every member, in its namespace', T, async () => {
      const tag = S.uniq('sse');
      emitter.serverSideEmit('sse', tag, 7, { deep: [true] });
      emitter.of('/chat').serverSideEmit('sse', tag, 'chat');
      await waitFor(() => members().every((m) => m.serverEvents.filter((e) => e.args[0] === tag).length === 2),
        { what: 'every member ran both' });
      await requestFence();
      for (const m of members()) {
        assert.deepEqual(m.serverEvents.filter((e) => e.args[0] === tag).sort((p, q) => p.nsp.localeCompare(q.nsp)), [
          { nsp: '/', event: 'sse', args: [tag, 7, { deep: [true] }], wantsAck: false, socket: null },
          { nsp: '/chat', event: 'sse', args: [tag, 'chat'], wantsAck: false, socket: null },
        ], m.name);
      }
    });

    it('socketsJoin, socketsLeave and disconnectSockets act on every member\'s sockets', T, async () => {
      const r1 = S.uniq('r1');
      const r2 = S.uniq('r2');
      const j = S.uniq('j');
      const in1 = await onEach('/', { join: [r1] });
      const in12 = await onEach('/', { join: [r1, r2] });
      const none = await onEach('/');
      emitter.in(r1).except(r2).socketsJoin(j);
      await requestFence();
      for (const s of in1) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, r1, j]));
      for (const s of in12) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, r1, r2]));
      for (const s of none) assert.deepEqual(await S.roomsOf(s), [s.id]);

      emitter.socketsLeave(r1);
      await requestFence();
      for (const s of in1) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, j]));
      for (const s of in12) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, r2]));

      const reasons = in1.map((s) => S.disconnected(s));
      const stayed = [...in12, ...none].map((s) => S.record(s, 'disconnect'));
      emitter.in(j).disconnectSockets();
      assert.deepEqual(await Promise.all(reasons), in1.map(() => 'io server disconnect'));
      await requestFence();
      await emitterFence([...in12, ...none]);
      assert.deepEqual(stayed, [...in12, ...none].map(() => []));

      const closing = in12.map((s) => S.disconnected(s));
      emitter.in(r2).disconnectSockets(true);
      assert.deepEqual(await Promise.all(closing), in12.map(() => 'io server disconnect'));
      await emitterFence(none);
    });
  });
}
