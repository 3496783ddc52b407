'use strict';
/*
 * cluster/support.js - what the redis-*.test.js files share: the clusters
 * they run (two Node.js nodes as the reference, Node.js + plugio, two
 * plugio nodes), fences, and event collectors.
 *
 * PLUGIO_CLUSTERS picks clusters by id (comma-separated, e.g. "NN" to
 * check the harness against Node.js alone: N is a Node.js node, P a
 * plugio node); every cluster runs by default.
 *
 * "Did not receive" is only ever asserted behind a fence: a later message
 * from the same sender (a broadcast to every socket, or a request round
 * trip) - Redis keeps one connection's messages in order, so once the
 * fence is through, whatever was sent before it has arrived.
 */
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { waitFor } = require('./redis');
const { normalize } = require('./codec');

/*
 * The clusters.  specs: members in start order; directions: [from, to]
 * pairs the directional tests run for (a pair of identical kinds runs one
 * way only).  key: the channel prefix (undefined: the default,
 * "socket.io" - the Node.js + plugio cluster uses it unless told).
 */
function clusters({ npKey, shared = {} } = {}) {
  const all = [
    {
      id: 'NN',
      title: 'cluster NN: two Node.js nodes (the reference)',
      specs: [{ kind: 'node', name: 'N1' }, { kind: 'node', name: 'N2' }],
      directions: [['N1', 'N2']],
      key: 'nn',
    },
    {
      id: 'NP',
      title: 'cluster NP: a Node.js node and a plugio node',
      specs: [{ kind: 'node', name: 'N' }, { kind: 'plugio', name: 'P' }],
      directions: [['N', 'P'], ['P', 'N']],
      key: npKey,
    },
    {
      id: 'PP',
      title: 'cluster PP: two plugio nodes',
      specs: [{ kind: 'plugio', name: 'P1' }, { kind: 'plugio', name: 'P2' }],
      directions: [['P1', 'P2']],
      key: 'pp',
    },
  ];
  return pick(all).map((c) => ({ ...c, shared: { ...shared, key: c.key } }));
}

/* The clusters PLUGIO_CLUSTERS asks for: an id is picked when it starts
 * with one of the names listed ("NN" picks "NN" and "NNs"). */
function pick(list) {
  const wanted = (process.env.PLUGIO_CLUSTERS || '').split(',').map((x) => x.trim()).filter(Boolean);
  return list.filter((c) => wanted.length === 0 || wanted.some((w) => c.id.startsWith(w)));
}

/* The kind of member `name` in cluster `c` ("node" / "plugio"). */
const kindOf = (c, name) => c.specs.find((s) => s.name === name).kind;

/* A name unique to this run, for rooms and events. */
function uniq(prefix = 't') {
  return `${prefix}-${crypto.randomBytes(4).toString('hex')}`;
}

const sorted = (a) => [...a].sort();

/* Resolves with the arguments of the next `event` on `socket` that `pred`
 * accepts (bounded). */
function nextEvent(socket, event, pred = () => true, ms = 5000) {
  const p = new Promise((resolve, reject) => {
    const on = (...args) => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      socket.off(event, on);
      resolve(args);
    };
    const timer = setTimeout(() => {
      socket.off(event, on);
      reject(new Error(`${socket.id}: no '${event}' within ${ms} ms`));
    }, ms);
    socket.on(event, on);
  });
  p.catch(() => {}); /* awaited by the caller; a test that failed before may not */
  return p;
}

/* Every `event` on `socket` from now on, as argument arrays. */
function record(socket, event) {
  const got = [];
  socket.on(event, (...args) => got.push(args));
  return got;
}

/* `member` broadcasts "fence" to every socket of `nsp` in the cluster;
 * resolves when each of `sockets` has it. */
async function fence(member, sockets, nsp = '/') {
  const tag = uniq('fence');
  const arrived = sockets.map((s) => nextEvent(s, 'fence', (t) => t === tag));
  await member.emit({ nsp, event: 'fence', args: [tag] });
  await Promise.all(arrived);
}

/* A request round trip from `member` (fetchSockets): once it completes,
 * every server has handled what `member` published before it, and
 * `member` itself has handled its own earlier requests. */
async function requestFence(member, nsp = '/') {
  const r = await member.fetchSockets({ nsp });
  assert.equal(r.err, null, `${member.name}: the fence fetchSockets failed: ${r.err}`);
}

/* The rooms a client's server says it is in (the "rooms" event). */
async function roomsOf(socket) {
  return sorted(await socket.timeout(5000).emitWithAck('rooms'));
}

/* Wait (bounded) until the rooms of `socket` satisfy `pred`. */
async function waitRooms(socket, pred, what) {
  let last;
  try {
    return await waitFor(async () => {
      last = await roomsOf(socket);
      return pred(last) ? last : null;
    }, { ms: 5000, what });
  } catch (err) {
    throw new Error(`${err.message}; rooms of ${socket.id}: ${JSON.stringify(last)}`);
  }
}

/* A client disconnect: resolves with the reason. */
function disconnected(socket, ms = 5000) {
  return nextEvent(socket, 'disconnect', () => true, ms).then(([reason]) => reason);
}

/* Answer "ask" with {id, x} (what emitWithAck tests collect). */
function answerAsk(socket, event = 'ask') {
  socket.on(event, (x, cb) => cb({ id: socket.id, x }));
  return socket;
}

/* Everything of interest in an assertion message. */
function show(v) {
  return JSON.stringify(normalize(v));
}

module.exports = {
  clusters,
  pick,
  kindOf,
  uniq,
  sorted,
  nextEvent,
  record,
  fence,
  requestFence,
  roomsOf,
  waitRooms,
  disconnected,
  answerAsk,
  show,
};
