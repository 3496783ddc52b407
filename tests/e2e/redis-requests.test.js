'use strict';
// Requests through the Redis adapter (REDIS-ADAPTER.md §9 items 7-13):
// fetchSockets (ids, rooms, data, handshake) and what a RemoteSocket does
// to a socket on another server, allRooms, socketsJoin / socketsLeave /
// disconnectSockets (each socket affected once), serverSideEmit with and
// without an ack, emit with acks across servers (type 7 and the type 8 /
// 9 answers), and the legacy requests (type 0, the sid forms of 2/3/4).
// The asker is either kind of member; the same tests run between two
// Node.js nodes first, as the reference.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { startRedis, waitFor } = require('./cluster/redis');
const { startCluster, settle } = require('./cluster/nodes');
const { normalize } = require('./cluster/codec');
const S = require('./cluster/support');

const T = { timeout: 30000 };
/* Short enough that the tests of "no answer" stay short; a member that
 * answers does so in milliseconds. */
const REQUESTS_TIMEOUT = 1500;

let redis;
let capture;
before(async () => {
  redis = await startRedis();
  capture = await redis.capture();
});
after(async () => {
  if (redis) await redis.close();
});

/* What socket.io's handshake looks like for a client of `member`. */
function checkHandshake(hs, { member, auth, t0, t1 }) {
  assert.equal(typeof hs, 'object');
  assert.equal(typeof hs.headers, 'object');
  assert.equal(hs.headers.host, `127.0.0.1:${member.port}`);
  assert.equal(hs.headers['x-cluster-test'], 'yes');
  assert.equal(typeof hs.time, 'string');
  assert.ok(!Number.isNaN(Date.parse(hs.time)), `time is a date: ${hs.time}`);
  assert.equal(hs.address, '127.0.0.1');
  assert.equal(hs.xdomain, false);
  assert.equal(hs.secure, false);
  assert.ok(Number.isInteger(hs.issued), `issued: ${hs.issued}`);
  assert.ok(hs.issued >= t0 && hs.issued <= t1, `issued ${hs.issued} while connecting [${t0}, ${t1}]`);
  /* Two clock readings in socket.io (time to the second, issued to the ms). */
  assert.ok(Math.abs(Date.parse(hs.time) - Math.floor(hs.issued / 1000) * 1000) <= 1000,
    `time ${hs.time} and issued ${hs.issued} are one moment`);
  assert.equal(typeof hs.url, 'string');
  assert.ok(hs.url.startsWith('/socket.io/?'), hs.url);
  assert.ok(hs.url.includes('EIO=4') && hs.url.includes('q=v%201') && hs.url.includes('transport=websocket'), hs.url);
  assert.equal(hs.query.EIO, '4');
  assert.equal(hs.query.transport, 'websocket');
  assert.equal(hs.query.q, 'v 1');
  assert.deepEqual(hs.auth, auth);
}

const ids = (sockets) => S.sorted(sockets.map((s) => s.id));

for (const c of S.clusters({ shared: { requestsTimeout: REQUESTS_TIMEOUT } })) {
  describe(c.title, () => {
    let cl;
    const key = () => cl.key;
    before(async () => { cl = await startCluster(redis, c.specs, c.shared); });
    after(async () => { if (cl) await cl.stop(); });
    afterEach(async () => { if (cl) await settle(cl); });

    for (const [a, b] of c.directions) {
      describe(`${a} asks, ${b} answers`, () => {
        const A = () => cl.get(a);
        const B = () => cl.get(b);
        const aKind = S.kindOf(c, a);

        /* ---- fetchSockets ---- */

        it(`fetchSockets returns ${b}'s sockets (id, rooms, data, handshake) with ${a}'s, each once`, T, async () => {
          const r1 = S.uniq('r1');
          const r2 = S.uniq('r2');
          const a1 = await A().connect('/', { join: [r1] });
          const t0 = Date.now();
          const auth = { join: [r1, r2], data: { user: 'b1', n: 1, nested: { list: [1, 'two', null] } } };
          const b1 = await B().connect('/', { ...auth, query: { q: 'v 1' }, headers: { 'x-cluster-test': 'yes' } });
          const t1 = Date.now();
          const b2 = await B().connect('/');
          const r = await A().fetchSockets({});
          assert.equal(r.err, null, `fetchSockets: ${r.err}`);
          assert.deepEqual(ids(r.sockets), S.sorted([a1.id, b1.id, b2.id]), S.show(r.sockets.map((s) => s.id)));
          const d1 = r.sockets.find((s) => s.id === b1.id);
          assert.deepEqual(S.sorted(d1.rooms), S.sorted([b1.id, r1, r2]));
          assert.deepEqual(d1.data, auth.data);
          checkHandshake(d1.handshake, { member: B(), auth, t0, t1 });
          const d2 = r.sockets.find((s) => s.id === b2.id);
          assert.deepEqual(d2.rooms, [b2.id]);
          assert.deepEqual(d2.data, {}, 'socket.data defaults to {}');
          assert.deepEqual(d2.handshake.auth, {});
          const d0 = r.sockets.find((s) => s.id === a1.id);
          assert.deepEqual(S.sorted(d0.rooms), S.sorted([a1.id, r1]));
        });

        it('in(room).fetchSockets and except select across servers; /chat has its own', T, async () => {
          const r1 = S.uniq('r1');
          const r2 = S.uniq('r2');
          const a1 = await A().connect('/', { join: [r1] });
          const a12 = await A().connect('/', { join: [r1, r2] });
          const b1 = await B().connect('/', { join: [r1] });
          const b12 = await B().connect('/', { join: [r1, r2] });
          await B().connect('/', { join: [r2] });
          await B().connect('/');
          const bc = await B().connect('/chat', { join: [r1] });
          const ac = await A().connect('/chat');
          let r = await A().fetchSockets({ rooms: [r1] });
          assert.equal(r.err, null);
          assert.deepEqual(ids(r.sockets), S.sorted([a1.id, a12.id, b1.id, b12.id]));
          r = await A().fetchSockets({ rooms: [r1], except: [r2] });
          assert.deepEqual(ids(r.sockets), S.sorted([a1.id, b1.id]));
          r = await A().fetchSockets({ rooms: [S.uniq('nobody')] });
          assert.deepEqual(r, { err: null, sockets: [] });
          r = await A().fetchSockets({ nsp: '/chat' });
          assert.deepEqual(ids(r.sockets), S.sorted([bc.id, ac.id]));
          r = await A().fetchSockets({ nsp: '/chat', rooms: [r1] });
          assert.deepEqual(ids(r.sockets), [bc.id]);
        });

        if (aKind === 'node') {
          it(`a RemoteSocket of a ${b} socket: emit, emit with ack, join, leave, disconnect`, T, async () => {
            const ev = S.uniq('remote');
            const target = S.answerAsk(await B().connect('/'));
            const other = await B().connect('/');
            const got = S.record(other, ev);
            const r = await A().fetchSockets({});
            assert.ok(r.sockets.some((s) => s.id === target.id));

            const arrived = S.nextEvent(target, ev);
            await A().call('remoteEmit', { id: target.id, event: ev, args: ['direct', Buffer.from([7, 8])] });
            assert.deepEqual(normalize(await arrived), normalize(['direct', Buffer.from([7, 8])]));
            await S.fence(A(), [target, other]);
            assert.deepEqual(got, []);

            const acked = await A().call('remoteEmitWithAck', { id: target.id, event: 'ask', args: ['one'], timeout: 1000 });
            assert.deepEqual(acked, { err: null, response: { id: target.id, x: 'one' } });

            const room = S.uniq('rj');
            await A().call('remoteJoin', { id: target.id, room });
            await S.waitRooms(target, (rooms) => rooms.includes(room), `${target.id} joins ${room}`);
            await A().call('remoteLeave', { id: target.id, room });
            await S.waitRooms(target, (rooms) => !rooms.includes(room), `${target.id} leaves ${room}`);

            const gone = S.disconnected(target);
            await A().call('remoteDisconnect', { id: target.id, close: false });
            assert.equal(await gone, 'io server disconnect');
            await S.fence(A(), [other]);
            assert.equal(other.connected, true);
          });
        }

        /* ---- allRooms ---- */

        it(`allRooms has ${b}'s rooms and ids with ${a}'s, each once`, T, async () => {
          const ra = S.uniq('ra');
          const rb = S.uniq('rb');
          const shared = S.uniq('shared');
          const a1 = await A().connect('/', { join: [ra, shared] });
          const b1 = await B().connect('/', { join: [rb, shared] });
          const b2 = await B().connect('/', { join: [shared] });
          const bc = await B().connect('/chat', { join: ['chat-room'] });
          const r = await A().allRooms({});
          assert.equal(r.err, null, `allRooms: ${r.err}`);
          assert.deepEqual(S.sorted(r.rooms), S.sorted([a1.id, b1.id, b2.id, ra, rb, shared]));
          const chat = await A().allRooms({ nsp: '/chat' });
          assert.deepEqual(S.sorted(chat.rooms), S.sorted([bc.id, 'chat-room']));
        });

        /* ---- socketsJoin / socketsLeave / disconnectSockets ---- */

        it('socketsJoin and socketsLeave reach the selected sockets of both servers', T, async () => {
          const r1 = S.uniq('r1');
          const r2 = S.uniq('r2');
          const j = S.uniq('joined');
          const a1 = await A().connect('/', { join: [r1] });
          const b1 = await B().connect('/', { join: [r1] });
          const b12 = await B().connect('/', { join: [r1, r2] });
          const b0 = await B().connect('/');
          await A().socketsJoin({ rooms: [r1], except: [r2], room: j });
          await S.requestFence(A());
          for (const s of [a1, b1]) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, r1, j]));
          assert.deepEqual(await S.roomsOf(b12), S.sorted([b12.id, r1, r2]));
          assert.deepEqual(await S.roomsOf(b0), [b0.id]);

          await A().socketsLeave({ rooms: [r1], room: r1 });
          await S.requestFence(A());
          for (const s of [a1, b1]) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, j]));
          assert.deepEqual(await S.roomsOf(b12), S.sorted([b12.id, r2]));

          /* Into a socket's own id room: what RemoteSocket.join does. */
          const k = S.uniq('by-id');
          await A().socketsJoin({ rooms: [b0.id], room: k });
          await S.requestFence(A());
          assert.deepEqual(await S.roomsOf(b0), S.sorted([b0.id, k]));
        });

        it(`${a}'s own sockets are affected exactly once: a join then a leave leaves nobody in the room`, T, async () => {
          const flip = S.uniq('flip');
          const a1 = await A().connect('/');
          const b1 = await B().connect('/');
          for (let i = 0; i < 3; i++) {
            await A().socketsJoin({ room: flip });
            await A().socketsLeave({ room: flip });
          }
          await S.requestFence(A());
          assert.deepEqual(await S.roomsOf(a1), [a1.id]);
          assert.deepEqual(await S.roomsOf(b1), [b1.id]);
          const r = await A().allRooms({});
          assert.ok(!r.rooms.includes(flip), `${flip} is gone: ${r.rooms}`);
        });

        for (const close of [false, true]) {
          it(`disconnectSockets(${close}) disconnects the selected sockets of both servers, only them`, T, async () => {
            const dx = S.uniq('dx');
            const victims = [await A().connect('/', { join: [dx] }), await B().connect('/', { join: [dx] }),
              await B().connect('/', { join: [dx] })];
            const bystanders = [await A().connect('/'), await B().connect('/'), await B().connect('/chat', { join: [dx] })];
            const reasons = victims.map((s) => S.disconnected(s));
            const stayed = bystanders.map((s) => S.record(s, 'disconnect'));
            await A().disconnectSockets({ rooms: [dx], close });
            const got = await Promise.all(reasons);
            /* With close too, socket.io sends DISCONNECT before closing the connection. */
            assert.deepEqual(got, ['io server disconnect', 'io server disconnect', 'io server disconnect']);
            await S.requestFence(A());
            await S.fence(A(), bystanders.slice(0, 2));
            assert.deepEqual(stayed, [[], [], []]);
            const r = await A().fetchSockets({});
            assert.deepEqual(ids(r.sockets), S.sorted(bystanders.slice(0, 2).map((s) => s.id)));
          });
        }

        /* ---- serverSideEmit ---- */

        it(`serverSideEmit runs ${b}'s handler once, with a NULL socket, and not ${a}'s`, T, async () => {
          const tag = S.uniq('sse');
          await A().serverSideEmit({ event: 'sse', args: ['hello', { n: 1, list: [true, null] }, tag] });
          await A().serverSideEmit({ nsp: '/chat', event: 'sse', args: ['in chat', tag] });
          await waitFor(() => B().serverEvents.filter((e) => e.args.includes(tag)).length === 2,
            { what: `${b} records two server events` });
          await S.requestFence(A());
          await S.requestFence(A(), '/chat');
          assert.deepEqual(B().serverEvents.filter((e) => e.args.includes(tag)), [
            { nsp: '/', event: 'sse', args: ['hello', { n: 1, list: [true, null] }, tag], wantsAck: false, socket: null },
            { nsp: '/chat', event: 'sse', args: ['in chat', tag], wantsAck: false, socket: null },
          ]);
          assert.deepEqual(A().serverEvents.filter((e) => e.args.includes(tag)), [], 'no self-echo');
        });

        it(`serverSideEmitWithAck gets ${b}'s answer, sent on the shared response channel`, T, async () => {
          const tag = S.uniq('ssea');
          const r = await A().serverSideEmitWithAck({ event: 'sse', args: ['x', 2, tag] });
          assert.deepEqual(r, { err: null, responses: [{ server: b, nsp: '/', args: ['x', 2, tag] }] });
          const rec = B().serverEvents.filter((e) => e.args.includes(tag));
          assert.deepEqual(rec, [{ nsp: '/', event: 'sse', args: ['x', 2, tag], wantsAck: true, socket: null }]);
          const req = await capture.find((m) => m.channel === `${key()}-request#/#` && m.json &&
            m.decode().type === 6 && Array.isArray(m.decode().data) && m.decode().data.includes(tag));
          assert.equal(typeof req.decode().requestId, 'string');
          const reply = await capture.find((m) => m.json && m.decode().requestId === req.decode().requestId &&
            m.decode().type === 6 && m.channel.includes('-response#'));
          assert.equal(reply.channel, `${key()}-response#/#`);
          assert.deepEqual(reply.decode().data, { server: b, nsp: '/', args: ['x', 2, tag] });

          const chat = await A().serverSideEmitWithAck({ nsp: '/chat', event: 'sse', args: [tag] });
          assert.deepEqual(chat, { err: null, responses: [{ server: b, nsp: '/chat', args: [tag] }] });
        });

        it('serverSideEmitWithAck times out when the handler does not answer, or there is none', T, async () => {
          const tag = S.uniq('silent');
          let r = await A().serverSideEmitWithAck({ event: 'sse', args: ['no-ack', tag] });
          assert.deepEqual(r, { err: 'timeout', responses: [] });
          assert.deepEqual(B().serverEvents.filter((e) => e.args.includes(tag)),
            [{ nsp: '/', event: 'sse', args: ['no-ack', tag], wantsAck: true, socket: null }]);
          r = await A().serverSideEmitWithAck({ event: 'sse-nobody-listens', args: [tag] });
          assert.deepEqual(r, { err: 'timeout', responses: [] });
        });

        if (aKind === 'node') {
          it(`serverSideEmit with a Buffer: ${b} gets what JSON made of it, {type: "Buffer", data}`, T, async () => {
            const tag = S.uniq('ssebin');
            await A().serverSideEmit({ event: 'sse', args: [tag, Buffer.from([1, 2, 3])] });
            const rec = await waitFor(() => B().serverEvents.find((e) => e.args.includes(tag)));
            assert.deepEqual(rec.args, [tag, { type: 'Buffer', data: [1, 2, 3] }]);
          });
        }

        /* ---- emit with acks (types 7, 8, 9) ---- */

        it(`emitWithAck collects every client's ack on both servers`, T, async () => {
          const tag = S.uniq('ack');
          const clients = [await A().connect('/'), await A().connect('/'), await B().connect('/'),
            await B().connect('/')].map((s) => S.answerAsk(s));
          const r = await A().emitWithAck({ event: 'ask', args: [tag], timeout: 1000 });
          assert.equal(r.err, null, `emitWithAck: ${r.err} ${S.show(r.responses)}`);
          assert.deepEqual(r.responses.map((x) => x.id).sort(), ids(clients));
          for (const x of r.responses) assert.equal(x.x, tag);

          /* On the wire: one type-7 request (msgpack), one type-8 count
           * (JSON) from the other server, one type-9 (msgpack) per client there. */
          const req = await capture.find((m) => m.channel === `${key()}-request#/#` && !m.json &&
            m.decode().type === 7 && m.decode().packet && m.decode().packet.data[1] === tag);
          const q = req.decode();
          assert.equal(typeof q.uid, 'string');
          assert.equal(typeof q.requestId, 'string');
          assert.equal(q.packet.type, 2);
          assert.equal(q.packet.nsp, '/');
          assert.deepEqual(q.packet.data, ['ask', tag]);
          assert.deepEqual(q.opts.rooms, []);
          assert.deepEqual(q.opts.except, []);
          assert.equal(q.opts.flags.timeout, 1000);
          await S.requestFence(A());
          await capture.sync();
          const answers = capture.filter((m) => m.channel.startsWith(`${key()}-response#/#`) &&
            m.decode().requestId === q.requestId);
          const counts = answers.filter((m) => m.decode().type === 8);
          assert.equal(counts.length, 1, 'one count from the other server');
          assert.ok(counts[0].json, 'the count is JSON');
          assert.equal(counts[0].decode().clientCount, 2);
          const acks = answers.filter((m) => m.decode().type === 9);
          assert.equal(acks.length, 2, 'one ack message per client there');
          for (const m of acks) assert.ok(!m.json, 'client acks travel as msgpack');
        });

        it(`emitWithAck completes with no client on ${b} (its count is 0), and with none on ${a}`, T, async () => {
          const ra = S.uniq('ra');
          const rb = S.uniq('rb');
          const onA = S.answerAsk(await A().connect('/', { join: [ra] }));
          const onB = S.answerAsk(await B().connect('/', { join: [rb] }));
          let r = await A().emitWithAck({ rooms: [ra], event: 'ask', args: ['a only'], timeout: 1000 });
          assert.deepEqual(r, { err: null, responses: [{ id: onA.id, x: 'a only' }] });
          r = await A().emitWithAck({ rooms: [rb], event: 'ask', args: ['b only'], timeout: 1000 });
          assert.deepEqual(r, { err: null, responses: [{ id: onB.id, x: 'b only' }] });
          r = await A().emitWithAck({ rooms: [S.uniq('nobody')], event: 'ask', args: ['none'], timeout: 1000 });
          assert.deepEqual(r, { err: null, responses: [] });
        });

        it('emitWithAck: binary acks come back as binary; a client that never answers makes it time out ' +
           'with the others\' answers', T, async () => {
          const r1 = S.uniq('r1');
          const bin = await B().connect('/', { join: [r1] });
          bin.on('ask', (x, cb) => cb({ id: bin.id, x, bytes: Buffer.from([0, 1, 254, 255]) }));
          let r = await A().emitWithAck({ rooms: [r1], event: 'ask', args: ['bin'], timeout: 1000 });
          assert.equal(r.err, null);
          assert.deepEqual(normalize(r.responses), normalize([{ id: bin.id, x: 'bin', bytes: Buffer.from([0, 1, 254, 255]) }]));
          const answering = S.answerAsk(await A().connect('/', { join: [r1] }));
          await B().connect('/', { join: [r1] }); /* never answers */
          r = await A().emitWithAck({ rooms: [r1], event: 'ask', args: ['late'], timeout: 500 });
          assert.equal(r.err, 'timeout');
          assert.deepEqual(r.responses.map((x) => x.id).sort(), S.sorted([bin.id, answering.id]));
        });

        if (aKind === 'plugio') {
          it('pio_broadcast_ack_each hands over each answer as it comes, then the final status', T, async () => {
            const tag = S.uniq('each');
            const clients = [await A().connect('/'), await B().connect('/'), await B().connect('/')]
              .map((s) => S.answerAsk(s));
            A().eachAnswers.length = 0;
            const [status, n] = await A().call('p-emit-each', { event: 'ask', args: [tag], timeout: 1000 });
            assert.deepEqual([status, n], [0, 3]);
            assert.deepEqual(A().eachAnswers.map((e) => e.answer.id).sort(), ids(clients));
            for (const e of A().eachAnswers) assert.deepEqual([e.status, e.answer.x], [0, tag]);
          });
        }
      });
    }

    /* ---- Requests published by hand (the 7.x forms and type 0) ---- */

    describe('legacy requests published by hand', () => {
      const publishRequest = (req) => redis.publish(`${key()}-request#/#`, Buffer.from(JSON.stringify(req)));
      /* Call after answeredByAll: the capture has caught up with every member. */
      const responses = (requestId) => capture.filter((m) => m.channel.startsWith(`${key()}-response#/#`) &&
        m.json && m.decode().requestId === requestId);

      /* Every member answers a type-0 request: a fence for the sid forms. */
      async function answeredByAll(req) {
        await publishRequest(req);
        return capture.count((m) => m.channel.startsWith(`${key()}-response#/#`) && m.json &&
          m.decode().requestId === req.requestId, cl.members.length, 5000, `${cl.members.length} answers to ${req.requestId}`);
      }

      it('type 0 (SOCKETS): every member answers {requestId, sockets: [its ids]}, rooms filter', T, async () => {
        const [m1, m2] = cl.members;
        const r1 = S.uniq('r1');
        const s1 = await m1.connect('/', { join: [r1] });
        const s1b = await m1.connect('/');
        const s2 = await m2.connect('/', { join: [r1] });
        let got = await answeredByAll({ uid: 'legacy', requestId: S.uniq('rq0'), type: 0, rooms: [] });
        assert.deepEqual(got.map((m) => m.channel), [`${key()}-response#/#`, `${key()}-response#/#`]);
        assert.deepEqual(got.map((m) => S.sorted(m.decode().sockets)).sort(),
          [S.sorted([s1.id, s1b.id]), [s2.id]].sort());
        got = await answeredByAll({ uid: 'legacy', requestId: S.uniq('rq0'), type: 0, rooms: [r1] });
        assert.deepEqual(got.map((m) => m.decode().sockets).sort(), [[s1.id], [s2.id]].sort());
      });

      it('type 1 (ALL_ROOMS) and 5 (REMOTE_FETCH): every member answers', T, async () => {
        const [m1, m2] = cl.members;
        const r1 = S.uniq('r1');
        const s1 = await m1.connect('/', { join: [r1] });
        const s2 = await m2.connect('/', { data: { k: 'v' } });
        let got = await answeredByAll({ uid: 'legacy', requestId: S.uniq('rq1'), type: 1 });
        assert.deepEqual(got.map((m) => S.sorted(m.decode().rooms)).sort(), [S.sorted([s1.id, r1]), [s2.id]].sort());
        got = await answeredByAll({ uid: 'legacy', requestId: S.uniq('rq5'), type: 5, opts: { rooms: [], except: [r1] } });
        const sockets = got.flatMap((m) => m.decode().sockets);
        assert.deepEqual(sockets.map((s) => [s.id, s.rooms, s.data]), [[s2.id, [s2.id], { k: 'v' }]]);
      });

      it('sid forms of 2, 3, 4: the owner of the sid applies it and alone answers {requestId}', T, async () => {
        const [m1, m2] = cl.members;
        const target = await m2.connect('/');
        const bystander = await m1.connect('/');
        const room = S.uniq('legacy-room');
        const join = { uid: 'legacy', requestId: S.uniq('rq2'), type: 2, sid: target.id, room };
        await publishRequest(join);
        await answeredByAll({ uid: 'legacy', requestId: S.uniq('fence'), type: 0, rooms: [] });
        assert.deepEqual(responses(join.requestId).map((m) => m.decode()), [{ requestId: join.requestId }]);
        assert.deepEqual(await S.roomsOf(target), S.sorted([target.id, room]));
        assert.deepEqual(await S.roomsOf(bystander), [bystander.id]);

        const leave = { uid: 'legacy', requestId: S.uniq('rq3'), type: 3, sid: target.id, room };
        await publishRequest(leave);
        await answeredByAll({ uid: 'legacy', requestId: S.uniq('fence'), type: 0, rooms: [] });
        assert.deepEqual(responses(leave.requestId).map((m) => m.decode()), [{ requestId: leave.requestId }]);
        assert.deepEqual(await S.roomsOf(target), [target.id]);

        const gone = S.disconnected(target);
        const kick = { uid: 'legacy', requestId: S.uniq('rq4'), type: 4, sid: target.id, close: false };
        await publishRequest(kick);
        assert.equal(await gone, 'io server disconnect');
        await answeredByAll({ uid: 'legacy', requestId: S.uniq('fence'), type: 0, rooms: [] });
        assert.deepEqual(responses(kick.requestId).map((m) => m.decode()), [{ requestId: kick.requestId }]);
        assert.equal(bystander.connected, true);

        /* An unknown sid: nobody answers. */
        const none = { uid: 'legacy', requestId: S.uniq('rq2x'), type: 2, sid: 'no-such-socket', room };
        await publishRequest(none);
        await answeredByAll({ uid: 'legacy', requestId: S.uniq('fence'), type: 0, rooms: [] });
        assert.deepEqual(responses(none.requestId), []);
      });

      it('opts forms without a uid (what the emitter sends) are applied by every member', T, async () => {
        const [m1, m2] = cl.members;
        const r1 = S.uniq('r1');
        const j = S.uniq('j');
        const s1 = await m1.connect('/', { join: [r1] });
        const s2 = await m2.connect('/', { join: [r1] });
        const s3 = await m2.connect('/');
        await publishRequest({ type: 2, opts: { rooms: [r1], except: [] }, rooms: [j] });
        await answeredByAll({ uid: 'legacy', requestId: S.uniq('fence'), type: 0, rooms: [] });
        for (const s of [s1, s2]) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, r1, j]));
        assert.deepEqual(await S.roomsOf(s3), [s3.id]);
        await publishRequest({ type: 3, opts: { rooms: [], except: [] }, rooms: [r1] });
        await answeredByAll({ uid: 'legacy', requestId: S.uniq('fence'), type: 0, rooms: [] });
        for (const s of [s1, s2]) assert.deepEqual(await S.roomsOf(s), S.sorted([s.id, j]));
        const gone = [S.disconnected(s1), S.disconnected(s2)];
        await publishRequest({ type: 4, opts: { rooms: [j], except: [] }, close: false });
        assert.deepEqual(await Promise.all(gone), ['io server disconnect', 'io server disconnect']);
        await answeredByAll({ uid: 'legacy', requestId: S.uniq('fence'), type: 0, rooms: [] });
        assert.equal(s3.connected, true);
      });
    });
  });
}
