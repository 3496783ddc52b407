'use strict';
// Broadcasts through the Redis adapter (REDIS-ADAPTER.md §9 items 1-5 and
// 12): the subscriptions a member makes, values of every kind both ways
// (what clients receive, and the bytes a member publishes), rooms,
// except, socket.broadcast, a socket id as a room, the room-channel
// filter, namespaces, volatile and local, no self-echo, and garbage on
// the channels.  Each cluster (cluster/support.js) runs the same tests:
// two Node.js nodes first, as the reference the others must match.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const { startRedis, hasBytes, msgpack } = require('./cluster/redis');
const { startCluster, settle, plugioConnections } = require('./cluster/nodes');
const { normalize } = require('./cluster/codec');
const S = require('./cluster/support');

const T = { timeout: 30000 };

/* Every kind of value a broadcast carries; a Date arrives as its ISO
 * string (clients cannot send one, so a plugio sender sends the string).
 * Integers stay below 2^53: notepack.io writes a whole number of 2^64 or
 * more (1e300 too) as uint64 0, so no Node.js sender can send one. */
function values(senderKind) {
  const date = new Date(Date.UTC(2026, 10, 30, 12, 34, 56, 789));
  return [
    'text', '', 'héllo ✓ 日本 \u0000 end', 42, -7, 0, 2 ** 40, -(2 ** 33), 1.5, -0.25, Math.PI,
    null, true, false, [], {},
    { nested: { a: [1, 'b', { c: null }], d: true, e: 2.5 } },
    Buffer.from([1, 2, 3]),
    { buf: Buffer.from('hi'), list: [Buffer.from([0, 255]), 'x', { deeper: Buffer.alloc(0) }] },
    senderKind === 'node' ? date : date.toISOString(),
  ];
}

/* Strings and binaries of every msgpack length form (fix/8/16/32). */
function sizes() {
  return ['s'.repeat(31), 's'.repeat(200), 's'.repeat(300), 's'.repeat(70000),
    Buffer.alloc(200, 1), Buffer.alloc(300, 2), Buffer.alloc(70000, 3)];
}

let redis;
let capture;
before(async () => {
  redis = await startRedis();
  capture = await redis.capture();
});
after(async () => {
  if (redis) await redis.close();
});

for (const c of S.clusters()) {
  describe(c.title, () => {
    let cl;
    const key = () => cl.key;
    before(async () => { cl = await startCluster(redis, c.specs, c.shared); });
    after(async () => { if (cl) await cl.stop(); });
    afterEach(async () => { if (cl) await settle(cl); });

    it('every member subscribes once per namespace: NUMSUB of the request channel is 2, ' +
       'the shared and per-member response channels exist', T, async () => {
      for (const nsp of ['/', '/chat']) {
        assert.equal(await redis.numsub(`${key()}-request#${nsp}#`), 2, `NUMSUB ${key()}-request#${nsp}#`);
        const channels = await redis.channels(`${key()}-*#${nsp}#*`);
        assert.ok(channels.includes(`${key()}-request#${nsp}#`), `${channels}`);
        assert.ok(channels.includes(`${key()}-response#${nsp}#`), `${channels}`);
        const specific = channels.filter((ch) => ch.startsWith(`${key()}-response#${nsp}#`) &&
          ch !== `${key()}-response#${nsp}#`);
        assert.equal(specific.length, 2, `one response channel per member: ${specific}`);
        for (const ch of specific) {
          const uid = ch.slice(`${key()}-response#${nsp}#`.length, -1);
          assert.match(uid, /^[^#*?[\]]+$/, `a channel-safe uid: ${ch}`);
          assert.equal(await redis.numsub(ch), 1, `${ch}: one subscriber`);
        }
        assert.equal(await redis.numsub(`${key()}-response#${nsp}#`), 2);
      }
      /* One PSUBSCRIBE K#N#* per namespace, three SUBSCRIBEs: counted on
       * the connections that are neither the test's nor a Node.js node's. */
      const theirs = plugioConnections(await redis.clientList());
      const plugio = cl.members.filter((m) => m.kind === 'plugio');
      const nsps = plugio.reduce((n, m) => n + m.namespaces.length, 0);
      assert.equal(theirs.reduce((n, x) => n + Number(x.psub), 0), nsps, 'one pattern per namespace');
      assert.equal(theirs.reduce((n, x) => n + Number(x.sub), 0), 3 * nsps, 'three channels per namespace');
    });

    for (const [a, b] of c.directions) {
      describe(`${a} → ${b}`, () => {
        const A = () => cl.get(a);
        const B = () => cl.get(b);
        const aKind = S.kindOf(c, a);

        it('io.emit: every value arrives as sent (Date as its ISO string); the message is ' +
           '[uid, {type: 2, data, nsp}, {rooms, except, flags}] with binary inline', T, async () => {
          const ev = S.uniq('values');
          const sent = values(aKind);
          const b1 = await B().connect('/');
          const a1 = await A().connect('/');
          const atB = S.nextEvent(b1, ev);
          const atA = S.nextEvent(a1, ev);
          await A().emit({ event: ev, args: sent });
          const expected = normalize(values('node'));
          assert.deepEqual(normalize(await atB), expected);
          assert.deepEqual(normalize(await atA), expected);

          const m = await capture.find((x) => x.channel === `${key()}#/#` && x.event === ev);
          const [uid, packet, opts, ...rest] = m.decode();
          assert.equal(rest.length, 0, 'a 3-element array');
          assert.equal(typeof uid, 'string');
          assert.match(uid, /^[^#*?[\]]+$/);
          assert.equal(packet.type, 2, 'type 2 (EVENT) even with binary, never 5');
          assert.equal(packet.nsp, '/');
          assert.equal(packet.id, undefined, 'a broadcast carries no ack id');
          assert.equal(packet.attachments, undefined);
          assert.deepEqual(normalize(packet.data), normalize([ev, ...values('node')]));
          assert.ok(Buffer.isBuffer(packet.data[18]), 'binary is msgpack bin');
          assert.ok(Buffer.isBuffer(packet.data[19].list[0]));
          assert.ok(hasBytes(m.bytes, [0xc4, 0x03, 1, 2, 3]), 'Buffer [1,2,3] as bin8 inline');
          assert.ok(hasBytes(m.bytes, [0xa3, 0x62, 0x75, 0x66, 0xc4, 0x02, 0x68, 0x69]), '{buf: bin "hi"}');
          assert.ok(!m.bytes.includes('_placeholder'), 'no socket.io placeholders');
          assert.deepEqual(Object.keys(opts).sort(), ['except', 'flags', 'rooms']);
          assert.deepEqual(opts.rooms, []);
          assert.deepEqual(opts.except, []);
          assert.equal(typeof opts.flags, 'object');
          assert.equal(opts.flags.local, undefined, 'local is never published');
        });

        it('strings and binaries of every length form arrive intact', T, async () => {
          const ev = S.uniq('sizes');
          const b1 = await B().connect('/');
          const atB = S.nextEvent(b1, ev, () => true, 10000);
          await A().emit({ event: ev, args: sizes() });
          assert.deepEqual(normalize(await atB), normalize(sizes()));
        });

        it('one room: published on the room channel, delivered to that room only', T, async () => {
          const ev = S.uniq('room');
          const r1 = S.uniq('r1');
          const inRoom = await B().connect('/', { join: [r1] });
          const outside = await B().connect('/');
          const got = S.record(outside, ev);
          const arrived = S.nextEvent(inRoom, ev);
          await A().emit({ rooms: [r1], event: ev, args: ['only r1'] });
          assert.deepEqual(await arrived, ['only r1']);
          await S.fence(A(), [inRoom, outside]);
          assert.deepEqual(got, []);
          const m = await capture.find((x) => x.event === ev);
          assert.equal(m.channel, `${key()}#/#${r1}#`);
          assert.deepEqual(m.decode()[2].rooms, [r1]);
        });

        it('several rooms with except: the plain channel, the union minus the excepted', T, async () => {
          const ev = S.uniq('multi');
          const r1 = S.uniq('r1');
          const r2 = S.uniq('r2');
          const only1 = await B().connect('/', { join: [r1] });
          const both = await B().connect('/', { join: [r1, r2] });
          const only2 = await B().connect('/', { join: [r2] });
          const none = await B().connect('/');
          const localOnly1 = await A().connect('/', { join: [r1] });
          const local2 = await A().connect('/', { join: [r2] });
          const wrong = [both, only2, none, local2].map((s) => S.record(s, ev));
          const arrived = [S.nextEvent(only1, ev), S.nextEvent(localOnly1, ev)];
          await A().emit({ rooms: [r1, r2], except: [r2], event: ev, args: [1] });
          assert.deepEqual(await Promise.all(arrived), [[1], [1]]);
          await S.fence(A(), [only1, both, only2, none, localOnly1, local2]);
          assert.deepEqual(wrong, [[], [], [], []]);
          const m = await capture.find((x) => x.event === ev);
          assert.equal(m.channel, `${key()}#/#`, 'two rooms: never a room channel');
          assert.deepEqual(S.sorted(m.decode()[2].rooms), S.sorted([r1, r2]));
          assert.deepEqual(m.decode()[2].except, [r2]);
        });

        it('socket.broadcast reaches every other socket of the cluster, not the sender', T, async () => {
          const ev = S.uniq('others');
          const sender = await A().connect('/');
          const peer = await A().connect('/');
          const far = await B().connect('/');
          const self = S.record(sender, ev);
          const arrived = [S.nextEvent(peer, ev), S.nextEvent(far, ev)];
          await sender.timeout(5000).emitWithAck('broadcast', { event: ev, args: ['hi', 2] });
          assert.deepEqual(await Promise.all(arrived), [['hi', 2], ['hi', 2]]);
          await S.fence(A(), [sender, peer, far]);
          assert.deepEqual(self, []);
          const m = await capture.find((x) => x.event === ev);
          assert.equal(m.channel, `${key()}#/#`);
          assert.deepEqual(m.decode()[2].except, [sender.id]);
        });

        it(`io.to(<a socket id on ${b}>) reaches that socket only, on the id's room channel`, T, async () => {
          const ev = S.uniq('direct');
          const target = await B().connect('/');
          const other = await B().connect('/');
          const got = S.record(other, ev);
          const arrived = S.nextEvent(target, ev);
          await A().emit({ rooms: [target.id], event: ev, args: [target.id] });
          assert.deepEqual(await arrived, [target.id]);
          await S.fence(A(), [target, other]);
          assert.deepEqual(got, []);
          assert.equal((await capture.find((x) => x.event === ev)).channel, `${key()}#/#${target.id}#`);
        });

        it('/chat both ways: the namespace\'s own channel, its sockets only', T, async () => {
          const ev = S.uniq('chat');
          const chat = await B().connect('/chat');
          const root = await B().connect('/');
          const localChat = await A().connect('/chat');
          const got = S.record(root, ev);
          const arrived = [S.nextEvent(chat, ev), S.nextEvent(localChat, ev)];
          await A().emit({ nsp: '/chat', event: ev, args: ['in chat', Buffer.from([9])] });
          assert.deepEqual((await Promise.all(arrived)).map(normalize),
            [normalize(['in chat', Buffer.from([9])]), normalize(['in chat', Buffer.from([9])])]);
          await S.fence(A(), [root]);
          assert.deepEqual(got, []);
          const m = await capture.find((x) => x.event === ev);
          assert.equal(m.channel, `${key()}#/chat#`);
          assert.equal(m.decode()[1].nsp, '/chat');
        });

        it('volatile reaches idle sockets and is published with flags.volatile', T, async () => {
          const ev = S.uniq('volatile');
          const idle = await B().connect('/');
          const arrived = S.nextEvent(idle, ev);
          await A().emit({ volatile: true, event: ev, args: ['v'] });
          assert.deepEqual(await arrived, ['v']);
          const m = await capture.find((x) => x.event === ev);
          assert.equal(m.decode()[2].flags.volatile, true);
        });

        it('local: this server\'s sockets only, nothing published', T, async () => {
          const ev = S.uniq('local');
          const mine = await A().connect('/');
          const far = await B().connect('/');
          const got = S.record(far, ev);
          const arrived = S.nextEvent(mine, ev);
          await A().emit({ local: true, event: ev, args: [] });
          await arrived;
          await S.fence(A(), [mine, far]);
          assert.deepEqual(got, []);
          await capture.sync();
          assert.deepEqual(capture.filter((x) => x.event === ev), []);
        });

        it('no self-echo: each client gets a broadcast exactly once', T, async () => {
          const ev = S.uniq('once');
          const mine = await A().connect('/');
          const far = await B().connect('/');
          const got = [S.record(mine, ev), S.record(far, ev)];
          await A().emit({ event: ev, args: ['x'] });
          await A().emit({ rooms: [mine.id], event: ev, args: ['to mine'] });
          await A().emit({ rooms: [far.id], event: ev, args: ['to far'] });
          await S.fence(A(), [mine, far]);
          await S.fence(B(), [mine, far]);
          assert.deepEqual(got, [[['x'], ['to mine']], [['x'], ['to far']]]);
        });
      });
    }

    /* What a member does with messages nobody in the cluster sent:
     * hand-made, published from the test's own connection. */
    for (const name of c.specs.map((s) => s.name)) {
      describe(`${name} receiving hand-made broadcasts`, () => {
        const M = () => cl.get(name);
        const hand = (event, args, { nsp = '/', opts = { rooms: [], except: [], flags: {} }, noNsp = false } = {}) => {
          const packet = noNsp ? { type: 2, data: [event, ...args] } : { type: 2, data: [event, ...args], nsp };
          return msgpack.encode(['hand-made', packet, opts]);
        };

        it('a room channel naming a room the member does not have is dropped unread', T, async () => {
          const ev = S.uniq('ghost');
          const s = await M().connect('/', { join: ['present'] });
          const got = S.record(s, ev);
          await redis.publish(`${key()}#/#${S.uniq('absent')}#`, hand(ev, ['dropped']));
          /* The control: the same message on the plain channel arrives. */
          const arrived = S.nextEvent(s, ev);
          await redis.publish(`${key()}#/#`, hand(ev, ['delivered']));
          assert.deepEqual(await arrived, ['delivered']);
          await S.fence(M(), [s]);
          assert.deepEqual(got, [['delivered']]);
        });

        it('a packet whose nsp is not the channel\'s namespace is ignored; no nsp means "/"', T, async () => {
          const ev = S.uniq('nsp');
          const root = await M().connect('/');
          const chat = await M().connect('/chat');
          const gotRoot = S.record(root, ev);
          const gotChat = S.record(chat, ev);
          await redis.publish(`${key()}#/#`, hand(ev, ['chat on the / channel'], { nsp: '/chat' }));
          await redis.publish(`${key()}#/chat#`, hand(ev, ['no nsp on the /chat channel'], { noNsp: true }));
          await redis.publish(`${key()}#/#`, hand(ev, ['no nsp on /'], { noNsp: true }));
          await S.fence(M(), [root]);
          await S.fence(M(), [chat], '/chat');
          assert.deepEqual(gotRoot, [['no nsp on /']]);
          assert.deepEqual(gotChat, []);
        });

        it('the emitter\'s key order and missing opts fields are understood', T, async () => {
          const ev = S.uniq('layout');
          const r = S.uniq('r');
          const inRoom = await M().connect('/', { join: [r] });
          const out = await M().connect('/');
          const got = S.record(out, ev);
          const got1 = S.nextEvent(inRoom, ev, (n) => n === 1);
          const got2 = S.nextEvent(inRoom, ev, (n) => n === 2);
          /* {rooms, flags, except} in the emitter's order, then {rooms} alone. */
          await redis.publish(`${key()}#/#`, msgpack.encode(['emitter', { type: 2, data: [ev, 1], nsp: '/' },
            { rooms: [r], flags: {}, except: [] }]));
          await redis.publish(`${key()}#/#`, msgpack.encode(['x', { type: 2, data: [ev, 2], nsp: '/' }, { rooms: [r] }]));
          assert.deepEqual(await Promise.all([got1, got2]), [[1], [2]]);
          await S.fence(M(), [inRoom, out]);
          assert.deepEqual(got, []);
        });

        it('malformed requests and responses are ignored and the member keeps serving', T, async () => {
          const s = await M().connect('/');
          const junk = [Buffer.from('{not json'), Buffer.from([0xc1, 0xff, 0x00]), Buffer.from([0x93, 0xa1]),
            msgpack.encode({ type: 7 }), msgpack.encode({ type: 9, requestId: 'nobody' }), Buffer.alloc(0),
            Buffer.from('{"type":5,"requestId":"x"}'), Buffer.from('{"type":2}'), Buffer.from('{"type":6}'),
            Buffer.from('{"type":8,"requestId":"nobody","clientCount":3}'), Buffer.from('[]'), Buffer.from('null')];
          for (const ch of [`${key()}-request#/#`, `${key()}-response#/#`]) {
            for (const j of junk) await redis.publish(ch, j);
          }
          await S.fence(M(), [s]);
          const r = await M().fetchSockets({});
          assert.equal(r.err, null);
          assert.ok(r.sockets.some((x) => x.id === s.id));
          assert.equal(M().exited(), null, `${name} is still running`);
        });

        /* A Node.js node dies on these (notepack's decode throws inside its
         * Redis listener: "8 trailing bytes"), and every member hears a
         * broadcast channel: so only an all-plugio cluster runs it. */
        if (c.specs.every((m) => m.kind === 'plugio')) {
          it('malformed broadcasts are ignored and the member keeps serving', T, async () => {
            const s = await M().connect('/');
            const junk = [Buffer.from('{not json'), Buffer.from([0xc1, 0xff, 0x00]), Buffer.from([0x93, 0xa1]),
              Buffer.alloc(0), Buffer.from('[]'), msgpack.encode(['u', 'not a packet', 5]),
              msgpack.encode(['u', { type: 2, data: 'no array', nsp: '/' }, {}]),
              msgpack.encode(['u', { type: 2, data: [], nsp: '/' }, {}]),
              msgpack.encode(['u', { type: 2, data: [42], nsp: '/' }, {}]),
              msgpack.encode(['u', { type: 2, data: ['x'], nsp: '/' }, { rooms: 'no array', except: 7 }]),
              msgpack.encode(['u', { type: 5, data: ['x'], nsp: '/' }, {}]),
              msgpack.encode([]), msgpack.encode({})];
            for (const ch of [`${key()}#/#`, `${key()}#/#${s.id}#`]) {
              for (const j of junk) await redis.publish(ch, j);
            }
            await S.fence(M(), [s]);
            const r = await M().fetchSockets({});
            assert.equal(r.err, null);
            assert.ok(r.sockets.some((x) => x.id === s.id));
            assert.equal(M().exited(), null, `${name} is still running`);
          });
        }
      });
    }
  });
}
