'use strict';
// The Strapi bridge (plugins/strapi) against a stub of Strapi's users API:
// users-permissions JWTs signed here with a known secret (both claim
// shapes, and every way one can be wrong), API tokens by Strapi's stored
// hash and by value, anonymous clients, Strapi 5 webhook payloads replayed
// over HTTP, de-duplication, sanitizing, strapi:emit from another plugin,
// and reloads while look-ups are in flight.  tools/test-strapi does the
// same against a real Strapi.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 30000 };
const STRAPI_SO = path.join(h.BUILD, 'plugins', 'strapi', 'libstrapi.so');
const CALLER_SO = path.join(h.BUILD, 'tests', 'plugins', 'strapi_caller', 'libstrapi_caller.so');
const JWT_SECRET = 'e2e-jwt-secret';
const API_TOKEN = 'lookup-token-full-access';
const HOOK_SECRET = 'Bearer hook-secret';
const SALT = 'e2e-salt';
const DASH_TOKEN = 'd'.repeat(64);
const KIOSK_TOKEN = 'kiosk-plain-token';
const ARTICLE = 'api::article.article';
const CATEGORY = 'api::category.category';

// ---- tokens, as Strapi makes them ------------------------------------------

const b64url = (x) => Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)).toString('base64url');
function jwt(payload, { secret = JWT_SECRET, header = { alg: 'HS256', typ: 'JWT' } } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const body = `${b64url(header)}.${b64url({ iat: now, exp: now + 3600, ...payload })}`;
  const sig = header.alg === 'none' ? '' : crypto.createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${sig}`;
}
const accessKey = (token) => crypto.createHmac('sha512', SALT).update(token).digest('hex');

// ---- a stub of Strapi's users API --------------------------------------------

const USERS = {
  1: { role: { id: 1, name: 'Authenticated', type: 'authenticated' } },
  2: { role: { id: 3, name: 'Editor', type: 'editor' } },
  3: { blocked: true, role: { id: 1, type: 'authenticated' } },
  4: { role: null },
  5: { role: { id: 3, type: 'editor' }, delay: 1200 },
  7: { role: { id: 1, type: 'authenticated' }, delay: 400 },
  8: { role: { id: 1, type: 'authenticated' } },
  9: { role: { id: 1, type: 'authenticated' }, delay: 5000 },
  10: { role: { id: 3, type: 'editor' }, delay: 1200 },
  11: { role: { id: 1, type: 'authenticated' } },
};

async function startStub(users = USERS) {
  const asked = [];
  const server = http.createServer((req, res) => {
    const m = /^\/api\/users\/([^/?]+)\?populate=role$/.exec(req.url);
    asked.push({ url: req.url, auth: req.headers.authorization });
    const send = (status, body) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${API_TOKEN}`) return send(401, { error: { status: 401 } });
    if (!m) return send(404, { error: { status: 404 } });
    if (m[1] === '6') return send(500, { error: { status: 500 } });
    const u = users[m[1]];
    if (!u) return send(404, { data: null, error: { status: 404, name: 'NotFoundError' } });
    const { delay, ...fields } = u;
    const user = { id: Number(m[1]), documentId: `u${m[1]}`, username: `user${m[1]}`, email: `u${m[1]}@x.test`,
      provider: 'local', confirmed: true, blocked: false, ...fields };
    setTimeout(() => send(200, user), delay || 0);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, asked, close: () => server.closeAllConnections() || server.close() };
}

function strapiConfig(stubUrl, extra = {}) {
  return {
    url: stubUrl,
    apiToken: API_TOKEN,
    jwtSecret: JWT_SECRET,
    anonymous: true,
    lookupTimeoutMs: 1500,
    webhook: { path: '/strapi/webhook', secret: HOOK_SECRET, dedupeMs: 3000 },
    contentTypes: [
      { uid: ARTICLE, privateFields: ['internalNote'] },
      { uid: CATEGORY, actions: ['create', 'update'], eventPrefix: 'cat' },
    ],
    roles: {
      authenticated: { [ARTICLE]: ['create', 'update', 'delete'] },
      editor: '*',
      public: { [ARTICLE]: ['publish'] },
    },
    apiTokens: {
      salt: SALT,
      tokens: [
        { name: 'dashboard', accessKey: accessKey(DASH_TOKEN), permissions: { [CATEGORY]: '*' } },
        { name: 'kiosk', tokenEnv: 'E2E_KIOSK_TOKEN', permissions: { [ARTICLE]: ['publish', 'unpublish'] } },
      ],
    },
    ...extra,
  };
}

process.env.E2E_KIOSK_TOKEN = KIOSK_TOKEN;

let stub = null;
let srv = null;
let soDir = null;

test.before(async () => {
  stub = await startStub();
  soDir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'plugio-strapi-'));
  fs.copyFileSync(STRAPI_SO, path.join(soDir, 'libstrapi.so'));
  srv = await h.startServer({
    plugins: {
      strapi: { path: path.join(soDir, 'libstrapi.so'), config: strapiConfig(stub.url) },
      caller: CALLER_SO,
    },
    serverOptions: { connectTimeout: 4000 },
    extraEvents: [{ name: 'content', handler: 'caller:caller_emit' }],
    middleware: [{ handler: 'strapi:authenticate', namespace: '/' }],
    serverEvents: [{ name: 'strapi:emit', handler: 'strapi:on_emit' }],
  });
});

test.after(async () => {
  h.closeAll();
  if (srv) await h.stopChecked(srv);
  if (stub) stub.close();
});

test.afterEach(() => h.closeAll());

const asUser = (id, extra = {}) => ({ auth: { strategy: 'jwt', token: jwt({ id }), ...extra } });
const refusal = async (opts) => (await h.connectError(h.client(srv.url, opts))).message;

function hook(body, { secret = HOOK_SECRET, event = body.event, method = 'POST', raw } = {}) {
  const headers = { 'content-type': 'application/json' };
  if (secret !== null) headers.authorization = secret;
  if (event) headers['x-strapi-event'] = event;
  return fetch(`${srv.url}/strapi/webhook`, { method, headers, body: method === 'GET' ? undefined : (raw ?? JSON.stringify(body)) });
}

let docSeq = 0;
function article(extra = {}) {
  docSeq++;
  return {
    id: docSeq, documentId: `doc${docSeq}-${process.pid}`, title: `title ${docSeq}`, internalNote: 'keep out',
    createdAt: '2026-12-01T00:00:00.000Z', updatedAt: '2026-12-01T00:00:00.000Z', publishedAt: null, locale: null,
    createdBy: { id: 1, firstname: 'Admin', email: 'admin@x.test', password: 'hash' },
    author: { id: 2, username: 'user2', password: 'hash', resetPasswordToken: 'r', confirmationToken: 'c', role: { type: 'editor' } },
    tags: [{ name: 'a', password: 'p' }],
    ...extra,
  };
}
const webhookBody = (event, uid, entry, model = uid.split('.').pop()) =>
  ({ event, createdAt: new Date().toISOString(), model, uid, entry });

// ---- the handshake -----------------------------------------------------------

test('a legacy {id} JWT joins role:<type> from Strapi, and receives its content events sanitized', T, async () => {
  const s = await h.connect(srv.url, asUser(1));
  const entry = article();
  const got = h.next(s, 'article:create');
  const res = await hook(webhookBody('entry.create', ARTICLE, entry));
  assert.equal(res.status, 200);
  assert.equal((await res.json()).event, 'article:create');
  const [payload] = await got;
  const { internalNote, createdBy, author, tags, ...kept } = entry;
  const { password, resetPasswordToken, confirmationToken, ...authorKept } = author;
  assert.deepEqual(payload, { data: { ...kept, author: authorKept, tags: [{ name: 'a' }] } },
    'private fields gone at every depth, the rest as Strapi sent it');
  assert.ok(stub.asked.some((a) => a.url === '/api/users/1?populate=role' && a.auth === `Bearer ${API_TOKEN}`));
});

test('a Strapi 5 access token {userId, type: "access"} works the same', T, async () => {
  const s = await h.connect(srv.url, { auth: { token: jwt({ userId: '2', type: 'access' }) } });
  const got = h.next(s, 'cat:update');
  await hook(webhookBody('entry.update', CATEGORY, { id: 1, documentId: `c-${process.pid}`, name: 'news' }));
  assert.deepEqual((await got)[0], { data: { id: 1, documentId: `c-${process.pid}`, name: 'news' } },
    'the editor role has every content type: eventPrefix names the category\'s events');
});

test('bad tokens are refused with a clear connect_error', T, async () => {
  const now = Math.floor(Date.now() / 1000);
  assert.equal(await refusal({ auth: { token: jwt({ id: 1, exp: now - 10 }) } }), 'strapi: invalid token (expired)');
  assert.equal(await refusal({ auth: { token: jwt({ id: 1 }, { secret: 'wrong' }) } }), 'strapi: invalid token (bad signature)');
  assert.equal(await refusal({ auth: { token: jwt({ id: 1 }, { header: { alg: 'none', typ: 'JWT' } }) } }),
    'strapi: invalid token (unsupported alg)');
  assert.equal(await refusal({ auth: { token: jwt({ userId: '1', type: 'refresh' }) } }), 'strapi: invalid token (refresh token)');
  assert.equal(await refusal({ auth: { token: 'not.a.jwt' } }), 'strapi: invalid token (malformed)');
  assert.equal(await refusal({ auth: { strategy: 'magic', token: 'x' } }), 'strapi: unknown strategy (jwt or api-token)');
  assert.equal(await refusal({ auth: { token: 42 } }), 'strapi: auth.token must be a string');
  assert.equal(await refusal({ auth: { strategy: 'api-token', token: 'nope' } }), 'strapi: invalid API token');
  const socket = await h.connect(srv.url, asUser(1));
  assert.ok(socket.connected, 'the server still serves after every refusal');
});

test('a look-up that fails refuses with why: unknown user, blocked, no role, Strapi error, timeout', T, async () => {
  assert.equal(await refusal(asUser(404)), 'strapi: role look-up failed (unknown user)');
  assert.equal(await refusal(asUser(3)), 'strapi: role look-up failed (user is blocked)');
  assert.equal(await refusal(asUser(4)), 'strapi: role look-up failed (user has no role)');
  assert.equal(await refusal(asUser(6)), 'strapi: role look-up failed (Strapi answered 500)');
  assert.equal(await refusal(asUser(9)), 'strapi: role look-up failed (timed out)');
  await srv.waitForLog(/user 9: role look-up failed: timed out/);
  // Strapi's "no" about a user is remembered; a failure to ask is not.
  const asked = (id) => stub.asked.filter((a) => a.url === `/api/users/${id}?populate=role`).length;
  assert.equal(await refusal(asUser(404)), 'strapi: role look-up failed (unknown user)');
  assert.equal(await refusal(asUser(3)), 'strapi: role look-up failed (user is blocked)');
  assert.equal(asked(404), 1);
  assert.equal(asked(3), 1);
  assert.equal(await refusal(asUser(6)), 'strapi: role look-up failed (Strapi answered 500)');
  assert.equal(asked(6), 2, 'an error status is asked again');
});

test('a user\'s role is looked up once: concurrent connections share it, later ones hit the cache', T, async () => {
  const before = stub.asked.filter((a) => a.url.startsWith('/api/users/7?')).length;
  const sockets = await Promise.all(Array.from({ length: 6 }, () => h.connect(srv.url, asUser(7))));
  assert.equal(sockets.length, 6);
  await h.connect(srv.url, asUser(7));
  const after = stub.asked.filter((a) => a.url.startsWith('/api/users/7?')).length;
  assert.equal(after - before, 1, 'one request for seven connections');
});

test('a user changed in Strapi (its webhook) is looked up again on its next connection', T, async () => {
  await h.connect(srv.url, asUser(8)); /* cached: authenticated */
  USERS[8].blocked = true;
  (await h.connect(srv.url, asUser(8))).close(); /* still the cached role */
  const res = await hook(webhookBody('entry.update', 'plugin::users-permissions.user', { id: 8, documentId: 'u8', username: 'user8', blocked: true }, 'user'));
  assert.deepEqual(await res.json(), { ignored: 'not configured' }, 'not a content type to emit');
  await srv.waitForLog(/user 8 changed in Strapi: its cached role is forgotten/);
  assert.equal(await refusal(asUser(8)), 'strapi: role look-up failed (user is blocked)');
});

test('an API token joins token:<name>: by Strapi\'s stored hash, or by value', T, async () => {
  const dash = await h.connect(srv.url, { auth: { strategy: 'api-token', token: DASH_TOKEN } });
  const kiosk = await h.connect(srv.url, { auth: { strategy: 'api-token', token: KIOSK_TOKEN } });
  const dashGot = h.collect(dash, 'cat:create');
  const kioskArticles = h.collect(kiosk, 'article:publish');
  const kioskCats = h.collect(kiosk, 'cat:create');
  const dashArticles = h.collect(dash, 'article:publish');
  await hook(webhookBody('entry.create', CATEGORY, { id: 9, documentId: `cc-${process.pid}`, name: 'x' }));
  await hook(webhookBody('entry.publish', ARTICLE, article({ publishedAt: '2026-12-01T00:00:00.000Z' })));
  const marker = h.next(dash, 'cat:update');
  await hook(webhookBody('entry.update', CATEGORY, { id: 9, documentId: `cc-${process.pid}`, name: 'y' }));
  await marker; /* everything before it has been delivered */
  await h.sleep(100);
  assert.equal(dashGot.length, 1);
  assert.equal(kioskArticles.length, 1);
  assert.equal(kioskCats.length, 0, 'the kiosk token has no category permission');
  assert.equal(dashArticles.length, 0, 'the dashboard token has no article permission');
});

test('no token: role:public (anonymous allowed) receives only what public may', T, async () => {
  const anon = await h.connect(srv.url, {});
  const user = await h.connect(srv.url, asUser(1));
  const anonGot = h.collect(anon, 'article:create');
  const pub = h.next(anon, 'article:publish');
  const userPub = h.collect(user, 'article:publish');
  const userCreate = h.next(user, 'article:create');
  await hook(webhookBody('entry.create', ARTICLE, article()));
  await userCreate;
  await hook(webhookBody('entry.publish', ARTICLE, article()));
  await pub;
  await h.sleep(100);
  assert.equal(anonGot.length, 0, 'public may not see creates');
  assert.equal(userPub.length, 0, 'authenticated may not see publishes');
});

// ---- the webhook -------------------------------------------------------------

test('the webhook refuses a wrong or missing secret, other methods and malformed bodies', T, async () => {
  const good = webhookBody('entry.create', ARTICLE, article());
  assert.equal((await hook(good, { secret: 'Bearer nope' })).status, 401);
  assert.equal((await hook(good, { secret: null })).status, 401);
  assert.equal((await hook(good, { secret: `${HOOK_SECRET}x` })).status, 401);
  assert.equal((await hook(good, { method: 'GET' })).status, 405);
  assert.equal((await hook(good, { raw: '{"event": "entry.create", ' })).status, 400);
  assert.equal((await hook(good, { raw: '[1,2]' })).status, 400);
  assert.equal((await hook({ event: 'entry.create', uid: ARTICLE })).status, 400, 'no entry');
  assert.equal((await hook({ ...good, event: 'entry.update' }, { event: 'entry.create' })).status, 400,
    'header and body disagree');
  assert.equal((await hook({ entry: {} }, { event: null })).status, 400, 'no event at all');
  const ignored = await hook(webhookBody('media.create', 'plugin::upload.file', { id: 1 }));
  assert.equal(ignored.status, 200);
  assert.deepEqual(await ignored.json(), { ignored: 'not an entry event' });
  const unconf = await hook(webhookBody('entry.create', 'api::page.page', { id: 1 }));
  assert.deepEqual(await unconf.json(), { ignored: 'not configured' });
  const noAction = await hook(webhookBody('entry.delete', CATEGORY, { id: 1 }));
  assert.deepEqual(await noAction.json(), { ignored: 'not configured' }, 'category emits no deletes');
  assert.match(srv.stderr(), /webhook from 127\.0\.0\.1 refused \(401\): wrong secret/);
  /* Nine refusals, logged at most once a second: unless they took more
   * than eight seconds, some went unlogged, and the next line counts them. */
  const lines = srv.stderr().match(/webhook from .* refused/g).length;
  assert.ok(lines < 9, `${lines} lines for nine refusals`);
  await h.sleep(1100);
  await hook(good, { secret: null });
  await srv.waitForLog(/refused \(401\): no secret(; \d+ more refused since the last line)?\n/);
  const m = /refused \(401\): no secret; (\d+) more refused since the last line/.exec(srv.stderr());
  assert.ok(m, 'the unlogged ones are counted');
  assert.equal(lines + Number(m[1]), 9);
  const s = await h.connect(srv.url, asUser(1));
  const got = h.next(s, 'article:create');
  assert.equal((await hook(good)).status, 200, 'and a good one still goes through');
  await got;
});

test('a draft and its published row fire once: de-duplicated on documentId within the window', T, async () => {
  const s = await h.connect(srv.url, asUser(2));
  const creates = h.collect(s, 'article:create');
  const entry = article({ publishedAt: '2026-12-01T00:00:00.000Z' });
  const r1 = await hook(webhookBody('entry.create', ARTICLE, entry));
  const r2 = await hook(webhookBody('entry.create', ARTICLE, { ...entry, id: entry.id + 1000, publishedAt: null }));
  assert.equal(r1.status, 200);
  assert.deepEqual(await r2.json(), { duplicate: true });
  const published = h.next(s, 'article:publish');
  await hook(webhookBody('entry.publish', ARTICLE, entry));
  await published;
  assert.equal(creates.length, 1);
  assert.equal(creates[0].data.id, entry.id, 'the first one is the one emitted');
  // Two saves of one document within the window differ in content: both go.
  const updates = h.collect(s, 'article:update');
  const first = h.next(s, 'article:update');
  await hook(webhookBody('entry.update', ARTICLE, { ...entry, title: 'one', updatedAt: '2026-12-01T00:00:01.000Z' }));
  await first;
  const second = h.next(s, 'article:update');
  assert.equal((await hook(webhookBody('entry.update', ARTICLE, { ...entry, title: 'two' }))).status, 200);
  assert.equal((await second)[0].data.title, 'two');
  const again = await hook(webhookBody('entry.update', ARTICLE, { ...entry, id: 5000, title: 'two', publishedAt: null,
    updatedAt: '2026-12-01T00:00:09.000Z' }));
  assert.deepEqual(await again.json(), { duplicate: true }, 'the draft row of the second save');
  assert.deepEqual(updates.map((u) => u.data.title), ['one', 'two']);
});

test('another plugin emits through strapi:emit, with the same rooms and sanitizing', T, async () => {
  const editor = await h.connect(srv.url, asUser(2));
  const anon = await h.connect(srv.url, {});
  const got = h.next(editor, 'article:update');
  const anonGot = h.collect(anon, 'article:update');
  const entry = { id: 77, documentId: 'from-plugin', title: 't', internalNote: 'x', author: { password: 'p', name: 'n' } };
  assert.deepEqual(await h.ackAll(editor, 'content', ARTICLE, 'update', JSON.stringify(entry)), [0]);
  assert.deepEqual((await got)[0], { data: { id: 77, documentId: 'from-plugin', title: 't', author: { name: 'n' } } });
  assert.deepEqual(await h.ackAll(editor, 'content', 'api::nope.nope', 'update', '{}'), [0],
    'handed over; the strapi plugin refuses and logs it');
  await srv.waitForLog(/strapi:emit refused: unknown content type/);
  assert.deepEqual(await h.ackAll(editor, 'content', ARTICLE, 'update', '{not json'), [-1]);
  await h.sleep(100);
  assert.equal(anonGot.length, 0);
});

test('a reload while look-ups are in flight: the new version asks again and lets them in', T, async () => {
  const pending = h.connect(srv.url, asUser(5), 8000); /* Strapi takes 1.2 s for user 5 */
  await h.sleep(150);
  h.installByRename(STRAPI_SO, path.join(soDir, 'libstrapi.so'));
  await srv.waitForLog(/reload: plugin 'strapi' \S+ -> /, 10000);
  const s = await pending;
  assert.ok(s.connected);
  const got = h.next(s, 'article:delete');
  await hook(webhookBody('entry.delete', ARTICLE, article()));
  await got;
  assert.match(srv.stderr(), /1 connection waiting for a role from the previous version/);
  const asked = stub.asked.filter((a) => a.url.startsWith('/api/users/5?')).length;
  assert.equal(asked, 2, 'the old version\'s look-up was abandoned, the new one asked again');
});

test('a reload the new version refuses: the serving version gets its waiting connections back and lets them in', T, async () => {
  const pending = h.connect(srv.url, asUser(10), 8000); /* Strapi takes 1.2 s for user 10 */
  await h.sleep(150);
  const good = structuredClone(srv.doc);
  const bad = structuredClone(srv.doc);
  bad.plugins.strapi.config.colour = 'blue';
  const write = (doc) => {
    fs.writeFileSync(`${srv.yamlFile}.tmp`, h.toYaml(doc));
    fs.renameSync(`${srv.yamlFile}.tmp`, srv.yamlFile);
  };
  try {
    write(bad);
    await srv.waitForLog(/load hook refused: config: unknown key 'colour'/, 10000);
    const s = await pending;
    assert.ok(s.connected, 'admitted by the version that kept serving');
    const got = h.next(s, 'article:delete');
    await hook(webhookBody('entry.delete', ARTICLE, article()));
    await got;
    const asked = stub.asked.filter((a) => a.url.startsWith('/api/users/10?')).length;
    assert.equal(asked, 2, 'asked again by the serving version after the refused one');
  } finally {
    write(good);
  }
});

test('a reload to another Strapi (config.url) drops the role cache: its user ids name other users', T, async () => {
  const s1 = await h.connect(srv.url, asUser(11)); /* authenticated here: cached */
  s1.close();
  const other = await startStub({ 11: { role: { id: 3, type: 'editor' } } });
  const good = structuredClone(srv.doc);
  const moved = structuredClone(srv.doc);
  moved.plugins.strapi.config.url = other.url;
  const write = (doc) => {
    fs.writeFileSync(`${srv.yamlFile}.tmp`, h.toYaml(doc));
    fs.renameSync(`${srv.yamlFile}.tmp`, srv.yamlFile);
  };
  try {
    write(moved);
    await srv.waitForLog(new RegExp(`role cache \\(\\d+ users?\\) dropped: config\\.url is now ${other.url}`), 10000);
    const s2 = await h.connect(srv.url, asUser(11));
    assert.equal(other.asked.filter((a) => a.url.startsWith('/api/users/11?')).length, 1, 'asked of the new Strapi');
    const got = h.next(s2, 'cat:create'); /* an editor's, not an authenticated user's */
    await hook(webhookBody('entry.create', CATEGORY, { id: 900, documentId: 'moved', name: 'c' }));
    await got;
  } finally {
    write(good);
    await srv.waitForLog(new RegExp(`config\\.url is now ${stub.url}`), 10000);
    other.close();
  }
});

// ---- configuration errors: plugio refuses to start, naming the key ----------

test('a bad configuration names its key and keeps plugio from starting', T, async () => {
  const start = (config) => h.startServer({
    plugins: { strapi: { path: STRAPI_SO, config } },
    middleware: [{ handler: 'strapi:authenticate', namespace: '/' }],
  });
  const base = strapiConfig(stub.url);
  const cases = [
    [{ ...base, colour: 'blue' }, /config: unknown key 'colour'/],
    [{ ...base, webhook: { path: '/strapi/webhook' } }, /config\.webhook\.secret \(or config\.webhook\.secretEnv\) is required/],
    [{ ...base, webhook: { path: '/strapi/webhook', secretEnv: 'E2E_NO_SUCH_VARIABLE' } }, /config\.webhook\.secretEnv: .*E2E_NO_SUCH_VARIABLE/],
    [{ ...base, roles: { editor: { 'api::nope.nope': '*' } } }, /config\.roles\.editor\.api::nope\.nope: api::nope\.nope is not in config\.contentTypes/],
    [{ ...base, roles: { editor: { [CATEGORY]: ['delete'] } } }, /config\.roles\.editor\.api::category\.category: api::category\.category emits no delete/],
    [{ ...base, roles: { editor: { [ARTICLE]: ['destroy'] } } }, /config\.roles\.editor\.api::article\.article\[0\] must be one of create/],
    [{ ...base, contentTypes: ['article'] }, /config\.contentTypes\[0\] must be a content type uid/],
    [{ ...base, apiTokens: { tokens: [{ name: 'x', accessKey: 'a'.repeat(128), permissions: '*' }] } }, /needs config\.apiTokens\.salt/],
    [{ ...base, apiToken: undefined }, /config\.jwtSecret needs config\.url and config\.apiToken/],
    [{ ...base, url: 'ftp://x' }, /config\.url must begin with http:\/\/ or https:\/\//],
    [{ ...base, webhook: { ...base.webhook, path: '/socket.io/hook' } }, /config\.webhook\.path \/socket\.io\/hook cannot be routed/],
  ];
  for (const [config, re] of cases) {
    await assert.rejects(start(JSON.parse(JSON.stringify(config))), (err) => {
      assert.match(err.message, re);
      assert.match(err.message, /plugio exited \(code [1-9]/);
      return true;
    });
  }
});

// ---- config/strapi.yaml, run as the README says ------------------------------

test('config/strapi.yaml bridges a JWT client, an anonymous one and a webhook', T, async () => {
  const { spawn } = require('node:child_process');
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'plugio-strapi-yaml-'));
  const yaml = fs.readFileSync(path.join(h.REPO, 'config', 'strapi.yaml'), 'utf8')
    .replaceAll('../build/', `${h.BUILD}/`)
    .replace('host: 0.0.0.0', 'host: 127.0.0.1')
    .replace('port: 3000', 'port: 0')
    .replace('http://127.0.0.1:1337', stub.url);
  assert.match(yaml, new RegExp(`url: ${stub.url}`));
  fs.writeFileSync(path.join(dir, 'strapi.yaml'), yaml);
  const child = spawn(h.PLUGIO, [path.join(dir, 'strapi.yaml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, STRAPI_API_TOKEN: API_TOKEN, STRAPI_JWT_SECRET: JWT_SECRET, STRAPI_WEBHOOK_SECRET: HOOK_SECRET },
  });
  let log = '';
  child.stderr.setEncoding('utf8');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  try {
    const port = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`not listening within 5 s:\n${log}`)), 5000);
      child.stderr.on('data', (d) => {
        log += d;
        const m = /listening on 127\.0\.0\.1:(\d+)/.exec(log);
        if (m) { clearTimeout(timer); resolve(Number(m[1])); }
      });
      exited.then(() => reject(new Error(`plugio exited:\n${log}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const user = await h.connect(url, asUser(1));
    const anon = await h.connect(url, {});
    const created = h.next(user, 'article:create');
    const published = h.next(anon, 'article:publish');
    const post = (event) => fetch(`${url}/strapi/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: HOOK_SECRET },
      body: JSON.stringify(webhookBody(event, ARTICLE, article())),
    });
    assert.equal((await post('entry.create')).status, 200);
    assert.equal((await post('entry.publish')).status, 200);
    assert.equal((await created)[0].data.internalNote, 'keep out', 'no privateFields in this file');
    assert.equal((await published)[0].data.author.password, undefined);
  } finally {
    h.closeAll();
    child.kill('SIGTERM');
  }
  const { code } = await exited;
  assert.equal(code, 0, log);
  assert.equal(h.sanitizerReport(log), null, log);
});

// ---- several nodes: one webhook reaches the clients of every node -----------

test('with the Redis adapter, a webhook to one node reaches permitted clients on every node', { timeout: 60000 }, async () => {
  const { startRedis } = require('./cluster/redis');
  const redis = await startRedis();
  const nodes = [];
  try {
    for (let i = 0; i < 2; i++) {
      nodes.push(await h.startServer({
        plugins: {
          strapi: { path: STRAPI_SO, config: strapiConfig(stub.url) },
          redis: { path: path.join(h.BUILD, 'plugins', 'redis-adapter', 'libredis-adapter.so'),
            config: { host: '127.0.0.1', port: redis.port } },
        },
        middleware: [{ handler: 'strapi:authenticate', namespace: '/' }],
        hooks: { init: 'redis:init' },
      }));
    }
    await Promise.all(nodes.map((n) => n.waitForLog(/connected to redis at/)));
    const here = await h.connect(nodes[0].url, asUser(1));
    const there = await h.connect(nodes[1].url, asUser(2));
    const anonThere = await h.connect(nodes[1].url, {});
    const thereGot = h.collect(there, 'article:create');
    const anonGot = h.collect(anonThere, 'article:create');
    const post = (entry) => fetch(`${nodes[0].url}/strapi/webhook`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: HOOK_SECRET },
      body: JSON.stringify(webhookBody('entry.create', ARTICLE, entry)),
    });
    /* The second node's subscriptions settle just after it says it is
     * connected: post until one arrives there (bounded). */
    for (let i = 0; i < 50 && thereGot.length === 0; i++) {
      await post(article());
      await h.sleep(100);
    }
    assert.ok(thereGot.length > 0, 'nothing reached the other node');
    const entry = article();
    const hereOne = h.next(here, 'article:create');
    const before = thereGot.length;
    const res = await post(entry);
    assert.equal((await res.json()).sockets, 1, 'one socket on the node that took the webhook');
    assert.equal((await hereOne)[0].data.documentId, entry.documentId);
    for (let i = 0; i < 50 && thereGot.length === before; i++) await h.sleep(20);
    assert.deepEqual(thereGot.slice(before).map((p) => p.data.documentId), [entry.documentId]);
    assert.equal(thereGot[before].data.internalNote, undefined, 'sanitized before it left the first node');
    await h.sleep(100);
    assert.equal(anonGot.length, 0, 'public may not see creates, on any node');
  } finally {
    h.closeAll();
    for (const n of nodes) await h.stopChecked(n);
    await redis.close();
  }
});
