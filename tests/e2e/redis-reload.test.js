'use strict';
// How the Redis adapter plugin starts and stops on a plugio node, next to a
// Node.js node: started by its load hook as well as by hooks.init (the
// host calls load first), so that it also starts when a reload adds it to
// the configuration, and when the application's hooks.init is another
// plugin's; a reload of its file hands over to the next version; a reload
// that removes it leaves the node serving alone; a config error stops
// start-up with the message, and refuses a reload that adds it.
const { describe, it, before, after, afterEach } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startRedis, waitFor } = require('./cluster/redis');
const { startNode, startPlugio, waitSubscribed, plugioDoc, REDIS_ADAPTER } = require('./cluster/nodes');
const h = require('./helpers');
const S = require('./cluster/support');

const T = { timeout: 60000 };
const KEY = 'reload';
const TP_GOOD = path.join(h.BUILD, 'tests', 'plugins', 'tp_good', 'libtp_good.so');

function rewrite(member, doc) {
  const file = path.join(member.dir, 'plugio.yaml');
  fs.writeFileSync(`${file}.tmp`, h.toYaml(doc));
  fs.renameSync(`${file}.tmp`, file);
}

/* Waits for the n-th match of `re` in the member's log. */
function waitLog(member, re, n = 1, ms = 10000) {
  const g = new RegExp(re.source, 'g');
  return waitFor(() => (member.stderr().match(g) || []).length >= n,
    { ms, what: `${re} x${n} in ${member.name}'s log` }).catch((err) => {
    throw new Error(`${err.message}\n${member.stderr()}`);
  });
}

const numsub = (redis, nsp = '/') => redis.numsub(`${KEY}-request#${nsp}#`);

/* Joined: a broadcast each way reaches the other's client, and each
 * fetchSockets has both clients. */
async function joined(N, P) {
  const n = await N.connect('/');
  const p = await P.connect('/');
  for (const [from, to] of [[N, p], [P, n]]) {
    const ev = S.uniq('joined');
    const arrived = S.nextEvent(to, ev);
    await from.emit({ event: ev, args: [from.name] });
    assert.deepEqual(await arrived, [from.name]);
  }
  for (const m of [N, P]) {
    const r = await m.fetchSockets({});
    assert.equal(r.err, null, `${m.name} fetchSockets: ${r.err}`);
    assert.deepEqual(S.sorted(r.sockets.map((s) => s.id)), S.sorted([n.id, p.id]), `${m.name} fetches both`);
  }
  n.close();
  p.close();
  for (const m of [N, P]) {
    await waitFor(async () => (await m.local('/')).length === 0, { what: `${m.name}'s clients gone` });
  }
}

describe('the adapter on a plugio node, next to a Node.js node', () => {
  let redis;
  let N;
  const plugio = [];
  before(async () => {
    redis = await startRedis();
    N = await startNode(redis, { kind: 'node', name: 'N', key: KEY });
  });
  afterEach(async () => {
    h.closeAll();
    const problems = [];
    while (plugio.length) problems.push(...(await plugio.pop().stop()).problems);
    if (problems.length) throw new Error(problems.join('\n'));
  });
  after(async () => {
    if (N) await N.stop();
    if (redis) await redis.close();
  });

  async function start(spec) {
    const m = await startPlugio(redis, { kind: 'plugio', name: 'P', key: KEY, ...spec });
    plugio.push(m);
    return m;
  }

  it('added by a reload (no hooks.init), it starts; removed by one, the node serves alone', T, async () => {
    const P = await start({
      edit(doc) {
        delete doc.plugins.redis;
        delete doc.hooks;
      },
    });
    const full = plugioDoc(redis, P.spec);
    delete full.hooks;
    assert.equal(await numsub(redis), 1, 'only the Node.js node at first');

    rewrite(P, full);
    await waitLog(P, /reload #1 done/);
    await waitLog(P, /connected to redis at /);
    await waitSubscribed(redis, [N, P], KEY);
    await joined(N, P);

    rewrite(P, P.doc);
    await waitLog(P, /reload: plugin 'redis' removed/);
    for (const nsp of ['/', '/chat', '/ctl']) {
      await waitFor(async () => (await numsub(redis, nsp)) === (nsp === '/ctl' ? 0 : 1),
        { what: `P unsubscribed from ${nsp}` });
    }
    /* Alone: its requests stay here and complete at once. */
    const p = await P.connect('/');
    const n = await N.connect('/');
    const fetched = await P.fetchSockets({});
    assert.deepEqual(fetched.err, null);
    assert.deepEqual(fetched.sockets.map((s) => s.id), [p.id]);
    const ev = S.uniq('alone');
    const arrived = S.nextEvent(p, ev);
    await P.emit({ event: ev, args: ['here'] });
    assert.deepEqual(await arrived, ['here']);
    assert.ok(!(await N.fetchSockets({})).sockets.some((s) => s.id === p.id), 'N no longer sees P');
    assert.equal(n.connected, true);
  });

  it("with the application's own hooks.init (another plugin's), it starts all the same", T, async () => {
    const P = await start({
      edit(doc) {
        doc.plugins.good = { path: TP_GOOD };
        doc.hooks = { init: 'good:init' };
      },
    });
    await waitLog(P, /connected to redis at /);
    await waitSubscribed(redis, [N, P], KEY);
    await joined(N, P);
  });

  it('with hooks.init: redis:init as documented, it starts once', T, async () => {
    const P = await start({});
    await waitLog(P, /connected to redis at /);
    await waitSubscribed(redis, [N, P], KEY);
    await joined(N, P);
    /* One adapter: one subscription per channel, one connected line. */
    assert.equal(await numsub(redis), 2);
    assert.equal((P.stderr().match(/connected to redis at /g) || []).length, 1, P.stderr());
  });

  it('a reload of its file hands over to the next version, which takes up the same uids', T, async () => {
    const P = await start({});
    /* A copy of its own, replaced the way a build installs a file. */
    const live = path.join(P.dir, 'libredis-adapter.so');
    fs.copyFileSync(REDIS_ADAPTER, live);
    const doc = structuredClone(P.doc);
    doc.plugins.redis.path = live;
    rewrite(P, doc);
    await waitLog(P, /reload #1 done/);
    await waitLog(P, /reconnected to redis at .* after the reload/);
    await waitSubscribed(redis, [N, P], KEY);
    /* Each member's own response channel names its uid. */
    const uids = await redis.channels(`${KEY}-response#/#*#`);
    assert.equal(uids.length, 2, `N's and P's own response channels: ${uids}`);

    fs.copyFileSync(REDIS_ADAPTER, `${live}.tmp`);
    fs.renameSync(`${live}.tmp`, live);
    await waitLog(P, /reload #2 done/);
    await waitLog(P, /reconnected to redis at .* after the reload/, 2);
    await waitSubscribed(redis, [N, P], KEY);
    assert.deepEqual(await redis.channels(`${KEY}-response#/#*#`), uids, 'the same uid after the reload');
    assert.equal(await numsub(redis), 2);
    await joined(N, P);
  });

  it('a config error stops start-up with the message, with or without hooks.init', T, async () => {
    for (const hooks of [{ init: 'redis:init' }, undefined]) {
      const err = await start({
        edit(doc) {
          doc.plugins.redis.config.port = 'six';
          if (hooks) doc.hooks = hooks;
          else delete doc.hooks;
        },
      }).then(() => null, (e) => e);
      assert.ok(err, 'plugio must not start');
      assert.match(err.message, /plugio exited \(\{"code":1/, err.message);
      assert.match(err.message, /ERROR .*plugin 'redis': load hook refused: config\.port must be an integer from 1 to 65535/, err.message);
      assert.equal(h.sanitizerReport(err.message), null, err.message);
    }
  });

  it('a config error refuses the reload that adds it; the node keeps serving', T, async () => {
    const P = await start({
      edit(doc) {
        delete doc.plugins.redis;
        delete doc.hooks;
      },
    });
    const bad = plugioDoc(redis, P.spec);
    delete bad.hooks;
    bad.plugins.redis.config.requestTimeout = 100; /* a typo */
    rewrite(P, bad);
    await waitLog(P, /reload failed .*plugin 'redis': load hook refused: config: unknown key 'requestTimeout'/);
    assert.equal(await numsub(redis), 1);
    const p = await P.connect('/');
    const fetched = await P.fetchSockets({});
    assert.deepEqual(fetched.sockets.map((s) => s.id), [p.id]);
  });
});
