'use strict';
/*
 * cluster/nodes.js - the members of a test cluster, Node.js socket.io
 * nodes (cluster/node-server.js) and plugio nodes (host/plugio with the
 * Redis adapter plugin and the cluster test plugin), behind one interface
 * so a test is written once and run between any two of them:
 *
 *   member.kind / name / url / namespaces
 *   member.connect(nsp, {join, data, query, headers})   a socket.io-client
 *   member.emit({nsp, rooms, except, volatile, local, event, args})
 *   member.emitWithAck({..., timeout})            -> {err, responses}
 *   member.fetchSockets({nsp, rooms, except})     -> {err, sockets}
 *   member.allRooms({nsp})                        -> {err, rooms}
 *   member.socketsJoin({..., room}) / socketsLeave / disconnectSockets({..., close})
 *   member.serverSideEmit({nsp, event, args})
 *   member.serverSideEmitWithAck({nsp, event, args, timeout}) -> {err, responses}
 *   member.serverEvents                           what its serverEvents handler got
 *   member.local(nsp)                             ids of its own sockets
 *
 * err is null, "timeout", or another message.  A Node node is driven over
 * IPC; a plugio node through a control client in its namespace "/ctl",
 * whose events (tests/plugins/cluster/cluster.c) make plugio the asker.
 *
 * startCluster(redis, specs, {key}) starts the members and waits (bounded)
 * until each one's subscriptions are in Redis.
 */
const { fork, spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { io } = require('socket.io-client');
const h = require('../helpers');
const { encode, decode } = require('./codec');
const { waitFor } = require('./redis');

const CLUSTER_PLUGIN = path.join(h.BUILD, 'tests', 'plugins', 'cluster', 'libcluster.so');
const REDIS_ADAPTER = process.env.PLUGIO_REDIS_ADAPTER ||
  path.join(h.BUILD, 'plugins', 'redis-adapter', 'libredis-adapter.so');
const NODE_SERVER = path.join(__dirname, 'node-server.js');

/* The namespaces every member serves to clients, and the serverEvents
 * both kinds bind (event "sse" in each). */
const CLIENT_NAMESPACES = ['/', '/chat'];
const SERVER_EVENTS = [{ name: 'sse', namespace: '/' }, { name: 'sse', namespace: '/chat' }];

const PIO_STATUS = { 0: null, '-1': 'PIO_EINVAL', '-2': 'PIO_ETYPE', '-3': 'PIO_ERANGE', '-4': 'PIO_ENOMEM',
  '-5': 'PIO_ESTATE', '-6': 'PIO_ECLOSED', '-7': 'timeout', '-8': 'PIO_ENOSPACE',
  '-9': 'PIO_EUNREACHABLE' };
const pioErr = (status) => (status in PIO_STATUS ? PIO_STATUS[status] : `status ${status}`);
const nodeErr = (msg) => (msg === null || msg === undefined ? null : (/time/i.test(msg) ? 'timeout' : msg));

function channelKey(key) {
  return key === undefined ? 'socket.io' : key;
}

/* plugio processes still running when the test process exits are killed
 * (a Node.js node exits by itself when its IPC channel closes). */
const running = new Set();
process.on('exit', () => {
  for (const child of running) {
    try { child.kill('SIGKILL'); } catch { /* gone */ }
  }
});

/* ---- Clients --------------------------------------------------------- */

function connectTo(member, nsp = '/', o = {}) {
  const auth = {};
  if (o.join !== undefined) auth.join = o.join;
  if (o.data !== undefined) auth.data = o.data;
  if (o.auth) Object.assign(auth, o.auth);
  return h.connect(member.url + (nsp === '/' ? '' : nsp), {
    transports: ['websocket'],
    auth,
    query: o.query,
    extraHeaders: o.headers,
  });
}

/* The control client of a plugio member: its own socket.io-client (not
 * helpers' client(), which closeAll() - and so settle() - would close). */
function connectControl(url) {
  const socket = io(url, { forceNew: true, reconnection: false, timeout: 5000, transports: ['websocket'],
    auth: { join: ['observers'] } });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`control client: no connect to ${url}`)), 5000);
    socket.once('connect', () => { clearTimeout(timer); resolve(socket); });
    socket.once('connect_error', (err) => { clearTimeout(timer); socket.close(); reject(err); });
  });
}

/* ---- A Node.js node -------------------------------------------------- */

async function startNode(redis, spec) {
  const name = spec.name;
  const redisOpts = redis.clientOptions({ unix: !!spec.unix });
  delete redisOpts.socket.reconnectStrategy;
  if (spec.database !== undefined) redisOpts.database = spec.database;
  const cfg = {
    name,
    redis: redisOpts,
    key: spec.key,
    requestsTimeout: spec.requestsTimeout,
    publishOnSpecificResponseChannel: spec.publishOnSpecificResponseChannel,
    namespaces: CLIENT_NAMESPACES,
    serverEvents: SERVER_EVENTS,
  };
  const child = fork(NODE_SERVER, [JSON.stringify(cfg)], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { stderr += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  let exitInfo = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    exitInfo = { code, signal };
    resolve(exitInfo);
  }));

  const pending = new Map();
  let nextId = 1;
  const member = {
    kind: 'node',
    name,
    key: channelKey(spec.key),
    spec,
    namespaces: CLIENT_NAMESPACES,
    serverEvents: [],
    stderr: () => stderr,
    exited: () => exitInfo,
  };
  let onReady;
  const ready = new Promise((resolve) => { onReady = resolve; });
  child.on('message', (msg) => {
    if (msg.type === 'ready') return onReady(msg.port);
    if (msg.type === 'server-event') return member.serverEvents.push(decode(msg.record));
    const p = pending.get(msg.id);
    if (!p) return;
    pending.delete(msg.id);
    if (msg.ok) p.resolve(decode(msg.result));
    else p.reject(new Error(`${name}: ${msg.error}`));
  });
  exited.then((info) => {
    for (const p of pending.values()) p.reject(new Error(`${name} exited (${JSON.stringify(info)})\n${stderr}`));
    pending.clear();
  });

  const port = await Promise.race([
    ready,
    exited.then((info) => { throw new Error(`${name} exited before listening (${JSON.stringify(info)}):\n${stderr}`); }),
    new Promise((resolve, reject) => setTimeout(() => reject(new Error(`${name} not ready in 10 s:\n${stderr}`)), 10000).unref()),
  ]);
  member.port = port;
  member.url = `http://127.0.0.1:${port}`;

  const call = (op, params = {}) => new Promise((resolve, reject) => {
    if (exitInfo) return reject(new Error(`${name} has exited (${JSON.stringify(exitInfo)})\n${stderr}`));
    const id = nextId++;
    pending.set(id, { resolve, reject });
    child.send({ id, op, params: encode(params) });
  });
  member.call = call;
  member.connect = (nsp, o) => connectTo(member, nsp, o);
  member.emit = async (p) => { await call('emit', p); };
  member.emitWithAck = async (p) => {
    const r = await call('emitWithAck', p);
    return { err: nodeErr(r.err), responses: r.responses };
  };
  member.fetchSockets = async (p = {}) => {
    const r = await call('fetchSockets', p);
    return { err: nodeErr(r.err), sockets: r.sockets };
  };
  member.allRooms = async (p = {}) => {
    const r = await call('allRooms', p);
    return { err: nodeErr(r.err), rooms: r.rooms };
  };
  member.socketsJoin = async (p) => { await call('socketsJoin', p); };
  member.socketsLeave = async (p) => { await call('socketsLeave', p); };
  member.disconnectSockets = async (p) => { await call('disconnectSockets', p); };
  member.serverSideEmit = async (p) => { await call('serverSideEmit', p); };
  member.serverSideEmitWithAck = async (p) => {
    const r = await call('serverSideEmitWithAck', p);
    return { err: nodeErr(r.err), responses: r.responses };
  };
  member.local = (nsp = '/') => call('local', { nsp });
  member.stop = async () => {
    if (!exitInfo) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    const info = await exited;
    clearTimeout(timer);
    return { ...info, problems: [] };
  };
  return member;
}

/* ---- A plugio node --------------------------------------------------- */

/* The events of the cluster test plugin in namespace `nsp` for clients. */
function clientEvents(nsp) {
  return [
    { name: 'connection', namespace: nsp, handler: 'cluster:on_connection' },
    { name: 'join', namespace: nsp, handler: 'cluster:join' },
    { name: 'leave', namespace: nsp, handler: 'cluster:leave' },
    { name: 'rooms', namespace: nsp, handler: 'cluster:rooms' },
    { name: 'broadcast', namespace: nsp, handler: 'cluster:broadcast' },
  ];
}

/* The control namespace: the events that make plugio the asker. */
const CTL_EVENTS = ['p-emit', 'p-emit-ack', 'p-emit-each', 'p-fetch', 'p-rooms', 'p-join', 'p-leave',
  'p-disconnect', 'p-sse', 'p-local'];
function ctlEvents() {
  return [
    { name: 'connection', namespace: '/ctl', handler: 'cluster:on_connection' },
    ...CTL_EVENTS.map((name) => ({ name, namespace: '/ctl', handler: `cluster:${name.replace(/-/g, '_')}` })),
  ];
}

/* The Redis adapter plugin's config block for this spec. */
function adapterConfig(redis, spec) {
  const c = {};
  if (spec.unix) c.socket = redis.socketPath;
  else Object.assign(c, { host: '127.0.0.1', port: redis.port });
  const user = spec.who === undefined ? (redis.users[0] || null) : spec.who;
  if (user && user.name) Object.assign(c, { username: user.name, password: user.password });
  else if (redis.password) c.password = redis.password;
  if (spec.db !== undefined) c.db = spec.db;
  if (spec.key !== undefined) c.key = spec.key;
  if (spec.requestsTimeout !== undefined) c.requestsTimeout = spec.requestsTimeout;
  if (spec.publishOnSpecificResponseChannel !== undefined) {
    c.publishOnSpecificResponseChannel = spec.publishOnSpecificResponseChannel;
  }
  return c;
}

function plugioDoc(redis, spec) {
  return {
    server: { host: '127.0.0.1', port: 0, headers: ['x-cluster-test'] }, /* custom headers are kept when named */
    plugins: {
      cluster: { path: CLUSTER_PLUGIN, config: { name: spec.name } },
      redis: { path: REDIS_ADAPTER, config: adapterConfig(redis, spec) },
    },
    events: [...CLIENT_NAMESPACES.flatMap(clientEvents), ...ctlEvents()],
    serverEvents: [
      { name: 'sse', handler: 'cluster:on_server_event' },
      { name: 'sse', namespace: '/chat', handler: 'cluster:on_server_event_chat' },
    ],
    hooks: { init: 'redis:init' },
  };
}

async function startPlugio(redis, spec) {
  const name = spec.name;
  for (const [what, file] of [['plugio binary', h.PLUGIO], ['cluster test plugin', CLUSTER_PLUGIN],
    ['Redis adapter plugin', REDIS_ADAPTER]]) {
    if (!fs.existsSync(file)) throw new Error(`${name}: no ${what} at ${file} (build first, or set PLUGIO_BUILD_DIR)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-cluster-'));
  const doc = plugioDoc(redis, spec);
  if (spec.edit) spec.edit(doc);
  const yamlFile = path.join(dir, 'plugio.yaml');
  fs.writeFileSync(yamlFile, h.toYaml(doc));

  const child = spawn(h.PLUGIO, [yamlFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stdout.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  child.stdout.on('data', (d) => { stderr += d; });
  let exitInfo = null;
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => {
    exitInfo = { code, signal };
    resolve(exitInfo);
  }));
  running.add(child);
  exited.then(() => running.delete(child));

  const port = await Promise.race([
    waitFor(() => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      return m ? Number(m[1]) : null;
    }, { ms: 10000, what: `${name} 'listening on'` }),
    exited.then((info) => {
      throw new Error(`${name}: plugio exited (${JSON.stringify(info)}) before listening\n` +
        `config:\n${h.toYaml(doc)}stderr:\n${stderr}`);
    }),
  ]).catch((err) => {
    if (!exitInfo) child.kill('SIGKILL');
    throw err;
  });

  const member = {
    kind: 'plugio',
    name,
    key: channelKey(spec.key),
    spec,
    port,
    url: `http://127.0.0.1:${port}`,
    namespaces: [...CLIENT_NAMESPACES, '/ctl'],
    serverEvents: [],
    eachAnswers: [],
    doc,
    dir,
    stderr: () => stderr,
    exited: () => exitInfo,
  };
  member.connect = (nsp, o) => connectTo(member, nsp, o);

  /* The control client: in "/ctl", in room "observers" (where the
   * serverEvents handlers report). */
  const ctl = await connectControl(`${member.url}/ctl`);
  ctl.on('server-event', (record) => member.serverEvents.push(record));
  ctl.on('p-each', (record) => member.eachAnswers.push(record));
  member.ctl = ctl;

  /* Each control event acks with one argument (emitWithAck resolves
   * with the first): a count, or [status, values]. */
  const call = async (event, params, ms = 10000) => {
    try {
      return await ctl.timeout(ms).emitWithAck(event, params);
    } catch (err) {
      throw new Error(`${name}: '${event}' ${JSON.stringify(params)} got no answer: ${err.message}\n` +
        `plugio ${exitInfo ? `exited ${JSON.stringify(exitInfo)}` : 'is running'}; stderr:\n${stderr}`);
    }
  };
  member.call = call;
  const reqTimeout = (p) => p.timeout || spec.requestsTimeout || 5000;
  member.emit = async (p) => { await call('p-emit', p); };
  member.emitWithAck = async (p) => {
    const [status, responses] = await call('p-emit-ack', { timeout: 1000, ...p }, (p.timeout || 1000) + 10000);
    return { err: pioErr(status), responses };
  };
  member.fetchSockets = async (p = {}) => {
    const [status, sockets] = await call('p-fetch', { timeout: reqTimeout(p), ...p }, reqTimeout(p) + 10000);
    return { err: pioErr(status), sockets };
  };
  member.allRooms = async (p = {}) => {
    const [status, rooms] = await call('p-rooms', { timeout: reqTimeout(p), ...p }, reqTimeout(p) + 10000);
    return { err: pioErr(status), rooms };
  };
  member.socketsJoin = async (p) => { await call('p-join', p); };
  member.socketsLeave = async (p) => { await call('p-leave', p); };
  member.disconnectSockets = async (p) => { await call('p-disconnect', p); };
  member.serverSideEmit = async (p) => {
    const status = await call('p-sse', { ...p, ack: false });
    if (status !== 0) throw new Error(`${name}: pio_server_emit gave ${pioErr(status)}`);
  };
  member.serverSideEmitWithAck = async (p) => {
    const [status, responses] = await call('p-sse', { timeout: reqTimeout(p), ...p, ack: true }, reqTimeout(p) + 10000);
    return { err: pioErr(status), responses };
  };
  member.local = (nsp = '/') => call('p-local', { nsp });

  /* SIGTERM; the exit status must be 0 with no sanitizer report. */
  member.stop = async () => {
    ctl.close();
    if (!exitInfo) child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => { killed = true; child.kill('SIGKILL'); }, 5000);
    const info = await exited;
    clearTimeout(timer);
    const problems = [];
    const report = h.sanitizerReport(stderr);
    if (report) problems.push(`${name}: sanitizer report: ${report}`);
    if (killed) problems.push(`${name}: did not exit within 5 s of SIGTERM`);
    else if (info.code !== 0) problems.push(`${name}: exited with ${JSON.stringify(info)} on SIGTERM`);
    if (problems.length) problems.push(`${name} stderr:\n${stderr}`);
    else fs.rmSync(dir, { recursive: true, force: true });
    return { ...info, problems };
  };
  return member;
}

/* ---- A cluster ------------------------------------------------------- */

/*
 * Wait until every member's subscriptions are in Redis: for each namespace
 * N of the key, PUBSUB NUMSUB K-request#N# counts every member serving N;
 * each Node.js node's subscriber connection (named "node-<name>-sub") has
 * one pattern per namespace and three channels per namespace; the plugio
 * members' connections (see plugioConnections) together have as many.
 */
/* The connections of CLIENT LIST that are neither the test's own
 * ("test-...") nor a Node.js node's ("node-..."): the plugio nodes'. */
function plugioConnections(list) {
  return list.filter((c) => !c.name.startsWith('test-') && !c.name.startsWith('node-'));
}

async function waitSubscribed(redis, members, key) {
  const namespaces = new Set(members.flatMap((m) => m.namespaces));
  for (const nsp of namespaces) {
    const want = members.filter((m) => m.namespaces.includes(nsp)).length;
    const ch = `${key}-request#${nsp}#`;
    await waitFor(async () => (await redis.numsub(ch)) === want,
      { ms: 10000, what: `PUBSUB NUMSUB ${ch} = ${want}` });
  }
  const plugio = members.filter((m) => m.kind === 'plugio');
  await waitFor(async () => {
    const list = await redis.clientList();
    for (const m of members.filter((x) => x.kind === 'node')) {
      const sub = list.find((c) => c.name === `node-${m.name}-sub`);
      if (!sub || Number(sub.psub) !== m.namespaces.length || Number(sub.sub) !== 3 * m.namespaces.length) return false;
    }
    if (plugio.length === 0) return true;
    const theirs = plugioConnections(list);
    const psub = theirs.reduce((n, c) => n + Number(c.psub), 0);
    const sub = theirs.reduce((n, c) => n + Number(c.sub), 0);
    const wantP = plugio.reduce((n, m) => n + m.namespaces.length, 0);
    return psub >= wantP && sub >= 3 * wantP;
  }, { ms: 10000, what: 'every member subscribed (CLIENT LIST sub/psub)' });
}

/*
 * startCluster(redis, [{kind: 'node'|'plugio', name, ...}], {key, ...shared})
 * -> {members, get(name), stop()}: shared options (key, requestsTimeout,
 * publishOnSpecificResponseChannel) apply to each spec that does not set
 * them.
 */
async function startCluster(redis, specs, shared = {}) {
  const members = [];
  const cluster = {
    members,
    key: channelKey(shared.key),
    get: (name) => members.find((m) => m.name === name),
    async stop() {
      const problems = [];
      for (const m of members) {
        const r = await m.stop();
        problems.push(...r.problems);
      }
      if (problems.length) throw new Error(problems.join('\n'));
    },
  };
  try {
    for (const s of specs) {
      const spec = { ...shared, ...s };
      members.push(await (spec.kind === 'node' ? startNode(redis, spec) : startPlugio(redis, spec)));
    }
    await waitSubscribed(redis, members, cluster.key);
  } catch (err) {
    for (const m of members) await m.stop().catch(() => {});
    throw err;
  }
  return cluster;
}

/* Close every client of the test, and wait until no member counts one of
 * them any more (a closed client's socket leaves its server a moment
 * later; the next test's fetchSockets must not see it). */
async function settle(cluster) {
  h.closeAll();
  for (const m of cluster.members) {
    if (m.exited()) continue;
    for (const nsp of CLIENT_NAMESPACES) {
      await waitFor(async () => (await m.local(nsp)).length === 0,
        { ms: 5000, what: `${m.name} has no sockets left in ${nsp}` });
    }
  }
}

module.exports = {
  CLUSTER_PLUGIN,
  REDIS_ADAPTER,
  CLIENT_NAMESPACES,
  startNode,
  startPlugio,
  startCluster,
  waitSubscribed,
  plugioConnections,
  settle,
  plugioDoc,
};
