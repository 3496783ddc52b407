'use strict';
// Churn (REDIS-ADAPTER.md §9 item 14, §10): a member leaves - the others'
// server count drops with it and their requests stay answered; Redis
// restarts - every member subscribes again and the cluster works as
// before; Redis dies (SIGKILL) while members publish and ask - nothing
// crashes, what was asked completes, and the cluster works once Redis is
// back.  Every describe has its own redis-server, since these tests stop it.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { startRedis, waitFor } = require('./cluster/redis');
const { startCluster, settle, waitSubscribed } = require('./cluster/nodes');
const S = require('./cluster/support');

const T = { timeout: 60000 };
const REQUESTS_TIMEOUT = 1500;

/* [survivor, leaver]: each kind survives each kind leaving. */
const PAIRS = S.pick([
  { id: 'NN', specs: [{ kind: 'node', name: 'N1' }, { kind: 'node', name: 'N2' }] },
  { id: 'NP', specs: [{ kind: 'node', name: 'N' }, { kind: 'plugio', name: 'P' }] },
  { id: 'PN', specs: [{ kind: 'plugio', name: 'P' }, { kind: 'node', name: 'N' }] },
  { id: 'PP', specs: [{ kind: 'plugio', name: 'P1' }, { kind: 'plugio', name: 'P2' }] },
]);

/* A cluster on its own redis-server, for one describe. */
function clusterFor(c) {
  const ctx = { redis: null, cl: null };
  before(async () => {
    ctx.redis = await startRedis();
    ctx.cl = await startCluster(ctx.redis, c.specs, { key: `churn-${c.id.toLowerCase()}`, requestsTimeout: REQUESTS_TIMEOUT });
  });
  after(async () => {
    try {
      if (ctx.cl) await ctx.cl.stop();
    } finally {
      if (ctx.redis) await ctx.redis.close();
    }
  });
  afterEach(async () => { if (ctx.cl) await settle(ctx.cl); });
  return ctx;
}

/* The cluster works: a broadcast each way reaches the other member's
 * client, and each member's fetchSockets has both clients (and may have
 * others the test keeps). */
async function works(cl) {
  const [m1, m2] = cl.members;
  const s1 = await m1.connect('/');
  const s2 = await m2.connect('/');
  for (const [from, to] of [[m1, s2], [m2, s1]]) {
    const ev = S.uniq('works');
    const arrived = S.nextEvent(to, ev);
    await from.emit({ event: ev, args: [from.name] });
    assert.deepEqual(await arrived, [from.name]);
  }
  for (const m of [m1, m2]) {
    const r = await m.fetchSockets({});
    assert.equal(r.err, null, `${m.name} fetchSockets: ${r.err}`);
    const ids = r.sockets.map((s) => s.id);
    assert.ok(ids.includes(s1.id) && ids.includes(s2.id), `${m.name} fetches both: ${ids}`);
  }
  s1.close();
  s2.close();
}

for (const c of PAIRS) {
  const [survivor, leaver] = c.specs.map((s) => s.name);

  describe(`${c.id}: ${leaver} leaves, ${survivor} stays`, () => {
    const ctx = clusterFor(c);

    it(`${survivor}'s server count drops and its requests stay answered at once`, T, async () => {
      const { redis, cl } = ctx;
      const key = cl.key;
      await works(cl);
      await settle(cl);
      const S1 = cl.get(survivor);
      const stopped = await cl.get(leaver).stop();
      assert.deepEqual(stopped.problems, [], `${leaver} stops cleanly`);
      for (const nsp of ['/', '/chat']) {
        await waitFor(async () => (await redis.numsub(`${key}-request#${nsp}#`)) === 1,
          { what: `NUMSUB ${key}-request#${nsp}# back to 1` });
      }
      const mine = await S1.connect('/');
      const tag = S.uniq('alone');
      /* Each of these would time out if the leaver were still counted. */
      const fetched = await S1.fetchSockets({});
      assert.deepEqual(fetched, { err: null, sockets: fetched.sockets });
      assert.deepEqual(fetched.sockets.map((s) => s.id), [mine.id]);
      const rooms = await S1.allRooms({});
      assert.deepEqual(rooms, { err: null, rooms: [mine.id] });
      assert.deepEqual(await S1.serverSideEmitWithAck({ event: 'sse', args: [tag] }), { err: null, responses: [] });
      S.answerAsk(mine);
      assert.deepEqual(await S1.emitWithAck({ event: 'ask', args: [tag], timeout: 1000 }),
        { err: null, responses: [{ id: mine.id, x: tag }] });
      assert.equal(S1.exited(), null);
    });
  });

  describe(`${c.id}: Redis restarts`, () => {
    const ctx = clusterFor(c);

    it('every member subscribes again, and broadcasts and requests work as before', T, async () => {
      const { redis, cl } = ctx;
      await works(cl);
      /* Clients connected across the restart keep being served. */
      const [m1, m2] = cl.members;
      const s1 = await m1.connect('/');
      const s2 = await m2.connect('/chat');
      await redis.restart();
      await waitSubscribed(redis, cl.members, cl.key);
      await works(cl);
      const ev = S.uniq('after');
      const arrived = [S.nextEvent(s1, ev), S.nextEvent(s2, ev)];
      await m2.emit({ event: ev, args: ['to /'] });
      await m1.emit({ nsp: '/chat', event: ev, args: ['to /chat'] });
      assert.deepEqual(await Promise.all(arrived), [['to /'], ['to /chat']]);
      for (const m of cl.members) assert.equal(m.exited(), null, `${m.name} is running`);
    });
  });

  describe(`${c.id}: Redis dies while the members publish and ask`, () => {
    const ctx = clusterFor(c);

    it('nothing crashes, what was asked completes, and the cluster works once Redis is back', T, async () => {
      const { redis, cl } = ctx;
      const [m1, m2] = cl.members;
      await m1.connect('/');
      await m2.connect('/');
      /* A burst in flight when Redis is killed... */
      const burst = [];
      for (let i = 0; i < 50; i++) {
        for (const m of cl.members) burst.push(m.emit({ event: 'burst', args: [i, 'x'.repeat(1000)] }));
      }
      await redis.kill();
      /* ...and more while it is away: each completes, with what this
       * member has (null), after its time (timeout), or - plugio, which
       * knows its link is down - at once with PIO_EUNREACHABLE. */
      const done = (r) => r.err === null || r.err === 'timeout' || r.err === 'PIO_EUNREACHABLE';
      const asked = [];
      for (const m of cl.members) {
        asked.push(m.emit({ event: 'while-away', args: [m.name] }));
        asked.push(m.serverSideEmit({ event: 'sse', args: ['while-away'] }));
        asked.push(m.fetchSockets({}).then((r) => assert.ok(done(r), `${m.name}: ${r.err}`)));
        asked.push(m.allRooms({}).then((r) => assert.ok(done(r), `${m.name}: ${r.err}`)));
        asked.push(m.serverSideEmitWithAck({ event: 'sse', args: ['while-away'] })
          .then((r) => assert.ok(done(r), `${m.name}: ${r.err}`)));
        asked.push(m.emitWithAck({ event: 'ask', args: [], timeout: 1000 })
          .then((r) => assert.ok(done(r), `${m.name}: ${r.err}`)));
      }
      await redis.restart();
      await Promise.all([...burst, ...asked]);
      await waitSubscribed(redis, cl.members, cl.key);
      await works(cl);
      for (const m of cl.members) assert.equal(m.exited(), null, `${m.name} is running`);
    });
  });
}
