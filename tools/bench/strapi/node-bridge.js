#!/usr/bin/env node
'use strict';
/*
 * node-bridge.js - the Node.js reference for the Strapi bridge benchmark
 * (tools/bench/strapi/run): what a Node developer would write to do the job
 * of plugio's plugins/strapi, on socket.io 4.8.4 (tools/bench/node's pinned
 * copy) and node:crypto, with no other dependency.
 *
 *   node node-bridge.js --strapi URL [--role-cache-ms 60000] [--dedupe-ms 2000]
 *
 * Secrets come from the environment, as plugio's do: STRAPI_API_TOKEN,
 * STRAPI_JWT_SECRET, STRAPI_WEBHOOK_SECRET (the Authorization header's whole
 * value).  The content type and the roles are the benchmark's: every action
 * of api::article.article goes to role:authenticated; role:viewer gets none.
 *
 * Handshake (io.use): an HS256 users-permissions JWT in auth.token, either
 * claim shape ({id} or {userId, type: "access"}), exp honoured; the user's
 * role from Strapi (GET /api/users/:id?populate=role), cached for
 * --role-cache-ms, one request per user however many handshakes wait on it;
 * the socket joins role:<type>.
 *
 * POST /strapi/webhook on the same HTTP server: the secret header (compared
 * in constant time), Strapi's {event, uid, model, entry}, one emit per
 * uid|action|documentId within --dedupe-ms, password, resetPasswordToken,
 * confirmationToken, createdBy and updatedBy removed at every depth, then
 * <model>:<action> with {data: entry} to the permitted roles' rooms.
 *
 * Listens on 127.0.0.1 (a port the system picks) and prints "listening on
 * 127.0.0.1:PORT" on stderr, as plugio does; SIGTERM exits 0.
 */
const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const { Server } = require(path.join(__dirname, '..', 'node', 'node_modules', 'socket.io'));

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const STRAPI_URL = arg('--strapi', 'http://127.0.0.1:1337').replace(/\/$/, '');
const ROLE_CACHE_MS = Number(arg('--role-cache-ms', '60000'));
const DEDUPE_MS = Number(arg('--dedupe-ms', '2000'));
const LOOKUP_TIMEOUT_MS = 5000;
const API_TOKEN = process.env.STRAPI_API_TOKEN;
const JWT_SECRET = process.env.STRAPI_JWT_SECRET;
const HOOK_SECRET = Buffer.from(process.env.STRAPI_WEBHOOK_SECRET || '');
if (!API_TOKEN || !JWT_SECRET || !HOOK_SECRET.length) {
  process.stderr.write('node-bridge: set STRAPI_API_TOKEN, STRAPI_JWT_SECRET and STRAPI_WEBHOOK_SECRET\n');
  process.exit(2);
}

// uid -> {event, actions}; role -> {uid -> Set(actions)}
const ACTIONS = ['create', 'update', 'delete', 'publish', 'unpublish'];
const CONTENT_TYPES = new Map([['api::article.article', { event: 'article', actions: new Set(ACTIONS) }]]);
const ROLES = { authenticated: { 'api::article.article': new Set(ACTIONS) } };
const PRIVATE = new Set(['password', 'resetPasswordToken', 'confirmationToken', 'createdBy', 'updatedBy']);

// ---- JWT ---------------------------------------------------------------------

const JWT_KEY = Buffer.from(JWT_SECRET);

function verifyJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed');
  let header;
  let claims;
  try {
    header = JSON.parse(Buffer.from(parts[0], 'base64url'));
    claims = JSON.parse(Buffer.from(parts[1], 'base64url'));
  } catch {
    throw new Error('malformed');
  }
  if (header.alg !== 'HS256') throw new Error('unsupported alg');
  const want = crypto.createHmac('sha256', JWT_KEY).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) throw new Error('bad signature');
  if (typeof claims.exp === 'number' && claims.exp <= Date.now() / 1000) throw new Error('expired');
  if (claims.type === 'refresh') throw new Error('refresh token');
  const id = claims.userId ?? claims.id;
  if ((typeof id !== 'number' && typeof id !== 'string') || id === '') throw new Error('no user');
  if (claims.userId !== undefined && claims.type !== 'access') throw new Error('not an access token');
  return String(id);
}

// ---- role look-ups: cached, coalesced per user ------------------------------------

const roleCache = new Map(); // id -> {role, until}
const inFlight = new Map(); // id -> Promise<role>

async function fetchRole(id) {
  const res = await fetch(`${STRAPI_URL}/api/users/${encodeURIComponent(id)}?populate=role`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
    signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
  });
  if (res.status === 404) throw new Error('unknown user');
  if (!res.ok) throw new Error(`Strapi answered ${res.status}`);
  const user = await res.json();
  if (user.blocked) throw new Error('user is blocked');
  if (!user.role || typeof user.role.type !== 'string') throw new Error('user has no role');
  return user.role.type;
}

function roleOf(id) {
  const hit = roleCache.get(id);
  if (hit && hit.until > Date.now()) return Promise.resolve(hit.role);
  let p = inFlight.get(id);
  if (!p) {
    p = fetchRole(id)
      .then((role) => {
        roleCache.set(id, { role, until: Date.now() + ROLE_CACHE_MS });
        return role;
      })
      .finally(() => inFlight.delete(id));
    inFlight.set(id, p);
  }
  return p;
}

// ---- the server --------------------------------------------------------------------

// engine.io passes every request outside /socket.io/ to this server's own handler.
const httpServer = http.createServer(onRequest);
const io = new Server(httpServer, {
  path: '/socket.io',
  pingInterval: 25000,
  pingTimeout: 20000,
  serveClient: false,
});

io.use(async (socket, next) => {
  const { token, strategy = 'jwt' } = socket.handshake.auth || {};
  if (strategy !== 'jwt') return next(new Error('strapi: unknown strategy (jwt)'));
  if (typeof token !== 'string') return next(new Error('strapi: authentication required'));
  let id;
  try {
    id = verifyJwt(token);
  } catch (e) {
    return next(new Error(`strapi: invalid token (${e.message})`));
  }
  try {
    const role = await roleOf(id);
    socket.data.strapi = { strategy: 'jwt', user: id, role };
    socket.join(`role:${role}`);
    next();
  } catch (e) {
    next(new Error(`strapi: role look-up failed (${e.name === 'TimeoutError' ? 'timed out' : e.message})`));
  }
});

// ---- the webhook ---------------------------------------------------------------------

const seen = new Map(); // uid|action|documentId -> expiry (ms); insertion order = expiry order
function duplicate(key, now) {
  for (const [k, until] of seen) {
    if (until > now) break;
    seen.delete(k);
  }
  if (seen.has(key)) return true;
  seen.set(key, now + DEDUPE_MS);
  return false;
}

function sanitize(v) {
  if (Array.isArray(v)) return v.map(sanitize);
  if (v && typeof v === 'object') {
    const out = {};
    for (const [k, x] of Object.entries(v)) if (!PRIVATE.has(k)) out[k] = sanitize(x);
    return out;
  }
  return v;
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function onWebhook(req, res) {
  if (req.method !== 'POST') return reply(res, 405, { error: 'POST only' });
  const given = Buffer.from(req.headers.authorization || '');
  if (given.length !== HOOK_SECRET.length || !crypto.timingSafeEqual(given, HOOK_SECRET)) {
    req.resume();
    return reply(res, 401, { error: 'unauthorized' });
  }
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > 1048576) req.destroy();
    else chunks.push(c);
  });
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks));
    } catch {
      return reply(res, 400, { error: 'not JSON' });
    }
    const { event, uid, model, entry } = body || {};
    if (typeof event !== 'string' || typeof uid !== 'string' || typeof model !== 'string' ||
        !entry || typeof entry !== 'object') {
      return reply(res, 400, { error: 'not a Strapi webhook' });
    }
    const action = event.startsWith('entry.') ? event.slice(6) : null;
    const type = CONTENT_TYPES.get(uid);
    if (!action || !type || !type.actions.has(action)) return reply(res, 200, { ignored: event });
    if (duplicate(`${uid}|${action}|${entry.documentId ?? entry.id}`, Date.now())) {
      return reply(res, 200, { duplicate: true });
    }
    const rooms = [];
    for (const [role, grants] of Object.entries(ROLES)) if (grants[uid]?.has(action)) rooms.push(`role:${role}`);
    const name = `${type.event}:${action}`;
    let sockets = 0;
    for (const r of rooms) sockets += io.sockets.adapter.rooms.get(r)?.size ?? 0;
    if (rooms.length) io.to(rooms).emit(name, { data: sanitize(entry) });
    reply(res, 200, { event: name, sockets });
  });
}

function onRequest(req, res) {
  if (req.url === '/strapi/webhook' || req.url.startsWith('/strapi/webhook?')) return onWebhook(req, res);
  reply(res, 404, { error: 'not found' });
}
httpServer.keepAliveTimeout = 60000;
httpServer.listen(0, '127.0.0.1', () => {
  process.stderr.write(`listening on 127.0.0.1:${httpServer.address().port}\n`);
});
process.on('SIGTERM', () => {
  io.close();
  process.exit(0);
});
