'use strict';
// How members reach Redis (the adapter's config block: host/port, socket,
// username, password, db): a server with requirepass, one whose default
// user is off and whose ACL user the members log in as (with db 3
// selected - Pub/Sub ignores it), and a unix socket.  In each, the
// members subscribe, broadcast and ask both ways.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { startRedis } = require('./cluster/redis');
const { startCluster, settle } = require('./cluster/nodes');
const S = require('./cluster/support');

const T = { timeout: 30000 };

const SETUPS = [
  { id: 'requirepass', redis: { password: 'pass phrase #1' }, spec: {} },
  { id: 'ACL user', redis: { users: [{ name: 'cluster-user', password: 's3cret!' }] }, spec: { db: 3, database: 3 } },
  { id: 'unix socket', redis: { unix: true }, spec: { unix: true } },
];

/* What Redis answers a PING from a client that did not log in. */
function anonymousPing(redis) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(redis.port, '127.0.0.1', () => sock.write('PING\r\n'));
    let text = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => {
      text += d;
      if (text.includes('\r\n')) {
        sock.destroy();
        resolve(text.trim());
      }
    });
    sock.on('error', reject);
  });
}

for (const setup of SETUPS) {
  describe(`Redis with ${setup.id}`, () => {
    let redis;
    before(async () => { redis = await startRedis(setup.redis); });
    after(async () => { if (redis) await redis.close(); });

    if (!setup.redis.unix) {
      it('refuses a client that does not log in', T, async () => {
        assert.match(await anonymousPing(redis), /^-NOAUTH/);
      });
    }

    for (const c of S.clusters()) {
      describe(c.title, () => {
        let cl;
        before(async () => {
          cl = await startCluster(redis, c.specs.map((s) => ({ ...s, ...setup.spec })), c.shared);
        });
        after(async () => { if (cl) await cl.stop(); });
        afterEach(async () => { if (cl) await settle(cl); });

        it('members subscribe (as the configured user, over the configured socket)', T, async () => {
          for (const nsp of ['/', '/chat']) assert.equal(await redis.numsub(`${cl.key}-request#${nsp}#`), 2);
          const members = (await redis.clientList()).filter((x) => !x.name.startsWith('test-'));
          assert.ok(members.length >= 4, `two connections per member at least: ${members.length}`);
          for (const conn of members) {
            if (setup.redis.users) assert.equal(conn.user, setup.redis.users[0].name, JSON.stringify(conn));
            if (setup.redis.unix) assert.ok(conn.addr.startsWith(redis.socketPath), JSON.stringify(conn));
            else assert.ok(conn.addr.startsWith('127.0.0.1:'), JSON.stringify(conn));
          }
        });

        const [x, y] = c.specs.map((s) => s.name);
        for (const [a, b] of [[x, y], [y, x]]) {
          it(`${a} → ${b}: a broadcast, fetchSockets, serverSideEmitWithAck`, T, async () => {
            const A = cl.get(a);
            const B = cl.get(b);
            const ev = S.uniq('connect');
            const far = await B.connect('/');
            const arrived = S.nextEvent(far, ev);
            await A.emit({ event: ev, args: [a, Buffer.from([1])] });
            const [from, bin] = await arrived;
            assert.equal(from, a);
            assert.deepEqual([...bin], [1]);
            const r = await A.fetchSockets({});
            assert.equal(r.err, null, `fetchSockets: ${r.err}`);
            assert.deepEqual(r.sockets.map((s) => s.id), [far.id]);
            assert.deepEqual(await A.serverSideEmitWithAck({ event: 'sse', args: [ev] }),
              { err: null, responses: [{ server: b, nsp: '/', args: [ev] }] });
          });
        }
      });
    }
  });
}
