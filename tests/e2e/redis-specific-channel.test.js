'use strict';
// publishOnSpecificResponseChannel (REDIS-ADAPTER.md §4, §9 item 8, §10):
// a member with it answers fetchSockets, allRooms and emit-with-ack
// (types 8 and 9) on the asker's own response channel K-response#N#<uid>#
// instead of the shared one, but always answers serverSideEmit on the
// shared channel.  A plugio asker must hear both; a plugio member with
// the option must answer like a Node.js one.  Each cluster has one member
// with the option and one without, and asks both ways.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { startRedis } = require('./cluster/redis');
const { startCluster, settle } = require('./cluster/nodes');
const S = require('./cluster/support');

const T = { timeout: 30000 };

const CLUSTERS = S.pick([
  {
    id: 'NNs',
    title: 'cluster NNs: N1 answers on the specific channel, N2 on the shared one (the reference)',
    specs: [{ kind: 'node', name: 'N1', publishOnSpecificResponseChannel: true }, { kind: 'node', name: 'N2' }],
    key: 'nns',
  },
  {
    id: 'NPs',
    title: 'cluster NPs: N answers on the specific channel, P on the shared one',
    specs: [{ kind: 'node', name: 'N', publishOnSpecificResponseChannel: true }, { kind: 'plugio', name: 'P' }],
    key: 'nps',
  },
  {
    id: 'PNs',
    title: 'cluster PNs: P answers on the specific channel, N on the shared one',
    specs: [{ kind: 'plugio', name: 'P', publishOnSpecificResponseChannel: true }, { kind: 'node', name: 'N' }],
    key: 'pns',
  },
]);

let redis;
let capture;
before(async () => {
  redis = await startRedis();
  capture = await redis.capture();
});
after(async () => {
  if (redis) await redis.close();
});

for (const c of CLUSTERS) {
  describe(c.title, () => {
    let cl;
    const key = () => cl.key;
    before(async () => { cl = await startCluster(redis, c.specs, { key: c.key, requestsTimeout: 1500 }); });
    after(async () => { if (cl) await cl.stop(); });
    afterEach(async () => { if (cl) await settle(cl); });

    const [x, y] = c.specs.map((s) => s.name);
    for (const [a, b] of [[x, y], [y, x]]) {
      describe(`${a} asks, ${b} answers`, () => {
        const A = () => cl.get(a);
        const B = () => cl.get(b);
        const specific = !!c.specs.find((s) => s.name === b).publishOnSpecificResponseChannel;

        /* The channel `b` must answer request `req` on. */
        const answerChannel = (req) => (specific ? `${key()}-response#/#${req.uid}#` : `${key()}-response#/#`);

        /* The request `pred` picks on the request channel, and b's answers to it. */
        async function exchange(pred, answerPred = () => true) {
          const req = (await capture.find((m) => m.channel === `${key()}-request#/#` && pred(m.decode()))).decode();
          await S.requestFence(A());
          await capture.sync();
          const answers = capture.filter((m) => m.channel.startsWith(`${key()}-response#/#`) &&
            m.decode().requestId === req.requestId && answerPred(m.decode()));
          return { req, answers };
        }

        it(`fetchSockets and allRooms collect ${b}'s answers (${specific ? 'specific' : 'shared'} channel)`, T, async () => {
          const room = S.uniq('room');
          const a1 = await A().connect('/', { join: [room] });
          const b1 = await B().connect('/', { join: [room], data: { on: b } });
          const r = await A().fetchSockets({ rooms: [room] });
          assert.equal(r.err, null, `fetchSockets: ${r.err}`);
          assert.deepEqual(S.sorted(r.sockets.map((s) => s.id)), S.sorted([a1.id, b1.id]));
          assert.deepEqual(r.sockets.find((s) => s.id === b1.id).data, { on: b });
          const fetch = await exchange((q) => q.type === 5 && q.opts && q.opts.rooms[0] === room);
          assert.equal(fetch.answers.length, 1, `one answer: ${fetch.answers.map((m) => m.channel)}`);
          assert.equal(fetch.answers[0].channel, answerChannel(fetch.req));

          const rooms = await A().allRooms({});
          assert.equal(rooms.err, null, `allRooms: ${rooms.err}`);
          assert.ok(rooms.rooms.includes(b1.id) && rooms.rooms.includes(room), S.show(rooms.rooms));
        });

        it(`emitWithAck: ${b}'s count and acks come on the ${specific ? 'specific' : 'shared'} channel`, T, async () => {
          const tag = S.uniq('ack');
          const clients = [await A().connect('/'), await B().connect('/'), await B().connect('/')]
            .map((s) => S.answerAsk(s));
          const r = await A().emitWithAck({ event: 'ask', args: [tag], timeout: 1000 });
          assert.equal(r.err, null, `emitWithAck: ${r.err}`);
          assert.deepEqual(r.responses.map((z) => z.id).sort(), S.sorted(clients.map((s) => s.id)));
          const { req, answers } = await exchange((q) => q.type === 7 && q.packet && q.packet.data[1] === tag);
          assert.deepEqual(answers.map((m) => m.decode().type).sort(), [8, 9, 9]);
          for (const m of answers) assert.equal(m.channel, answerChannel(req));
        });

        it('serverSideEmitWithAck: the answer is always on the shared channel', T, async () => {
          const tag = S.uniq('sse');
          const r = await A().serverSideEmitWithAck({ event: 'sse', args: [tag] });
          assert.deepEqual(r, { err: null, responses: [{ server: b, nsp: '/', args: [tag] }] });
          const { answers } = await exchange((q) => q.type === 6 && Array.isArray(q.data) && q.data.includes(tag));
          assert.deepEqual(answers.map((m) => m.channel), [`${key()}-response#/#`]);
        });
      });
    }
  });
}
