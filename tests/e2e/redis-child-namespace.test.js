'use strict';
// A child namespace that goes away while the Redis adapter is delivering
// to it.  With cleanupEmptyChildNamespaces, a send that overflows a
// client's queue (engine.io's 64 MiB bound) closes its session; when that
// was the child's last socket the host deletes the child, and the
// adapter's record of it, before the delivering call returns.  The
// adapter must not touch that record afterwards: here a Node.js node asks
// for a broadcast with acks (type 7) so large that plugio's delivery of it
// overflows, in a child whose only socket is plugio's.  plugio drops its
// count (the namespace is gone), the asker ends at its timeout, and plugio
// goes on serving with no sanitizer report.
const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { startRedis, waitFor } = require('./cluster/redis');
const { startNode, startPlugio } = require('./cluster/nodes');
const S = require('./cluster/support');

const T = { timeout: 120000 };
const KEY = 'childns';
const CHILD = '/dyn-1';

describe('a child namespace deleted during a type-7 delivery (plugio answers, Node asks)', () => {
  let redis;
  let N;
  let P;
  before(async () => {
    redis = await startRedis();
    /* One message bigger than the subscriber's default pub/sub output
     * limit (32 MiB) must reach plugio. */
    await redis.admin.sendCommand(['CONFIG', 'SET', 'client-output-buffer-limit', 'pubsub 0 0 0']);
    N = await startNode(redis, { kind: 'node', name: 'N', key: KEY });
    P = await startPlugio(redis, {
      kind: 'plugio',
      name: 'P',
      key: KEY,
      requestsTimeout: 3000,
      edit(doc) {
        doc.socket = { serverOptions: { cleanupEmptyChildNamespaces: true } };
        doc.events.push({ name: 'connection', namespace: { match: '^/dyn-[0-9]+$' }, handler: 'cluster:on_connection' });
      },
    });
  });
  after(async () => {
    const problems = [];
    for (const m of [P, N]) if (m) problems.push(...(await m.stop()).problems);
    if (redis) await redis.close();
    if (problems.length) throw new Error(problems.join('\n'));
  });

  it('plugio drops its count for the gone namespace and keeps serving', T, async () => {
    const child = await P.connect(CHILD);
    await N.local(CHILD); /* io.of(CHILD) on the Node.js node: it subscribes */
    const requests = `${KEY}-request#${CHILD}#`;
    await waitFor(async () => (await redis.numsub(requests)) === 2, { ms: 10000, what: `NUMSUB ${requests} = 2` });

    const gone = S.disconnected(child, 60000);
    const big = 'x'.repeat((64 << 20) + 1024); /* over the queue's bound by itself */
    const r = await N.emitWithAck({ nsp: CHILD, event: 'big', args: [big], timeout: 5000 });
    /* The asker counted plugio (NUMSUB) and gets no count from it. */
    assert.equal(r.err, 'timeout', `Node's emitWithAck: ${S.show(r)}`);
    assert.equal(typeof await gone, 'string', 'plugio closed the client that could not take the message');
    /* The child went with its last socket: plugio unsubscribed from it. */
    await waitFor(async () => (await redis.numsub(requests)) === 1, { ms: 10000, what: `NUMSUB ${requests} = 1` });
    assert.match(P.stderr(), /over 64 MiB queued for a client that does not read; closing/);

    /* plugio is alive and answers both ways. */
    assert.equal(P.exited(), null, `plugio exited:\n${P.stderr()}`);
    const s = await P.connect('/');
    const fromN = await N.fetchSockets({ nsp: '/' });
    assert.equal(fromN.err, null, S.show(fromN));
    assert.ok(fromN.sockets.some((x) => x.id === s.id), `Node fetches plugio's socket: ${S.show(fromN)}`);
    const fromP = await P.fetchSockets({ nsp: '/' });
    assert.equal(fromP.err, null, S.show(fromP));
  });
});
