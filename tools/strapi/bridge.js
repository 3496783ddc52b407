// The plugio half of tools/test-strapi: plugio's strapi plugin against the
// real Strapi that drive.js has just prepared.  It starts plugio with the
// bridge configured (the API token drive.js created, Strapi's jwtSecret,
// a webhook secret), points a second Strapi webhook at plugio, makes a
// role with no content permission in plugio's configuration ("viewer")
// and a user in it, then checks through socket.io-client that:
//   - the registered reader (role authenticated) receives article:create
//     with the private field gone, then article:update and article:delete
//     (once: Strapi sends one entry.delete per row, draft and published),
//     as the article is changed through Strapi's REST API;
//   - the viewer, connected the same way, receives nothing;
//   - a token signed with another secret, and no token, are refused;
//   - the reader, once blocked in Strapi, is refused on its next
//     connection (the user's webhook makes plugio forget its role);
// and that plugio exits cleanly on SIGTERM (no sanitizer report).
//
// Environment: STRAPI_URL, ADMIN_EMAIL, ADMIN_PASSWORD, JWT_SECRET,
// WEBHOOK_SECRET, RESULT_FILE (drive.js's), PLUGIO (the binary),
// PLUGIO_STRAPI_SO (libstrapi.so), SOCKET_IO_CLIENT (the package's path).
'use strict';

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { io } = require(process.env.SOCKET_IO_CLIENT);

const STRAPI = process.env.STRAPI_URL;
const WAIT_MS = 15000;
const ARTICLE = 'api::article.article';
const t0 = Date.now();
const log = (msg) => console.log(`bridge: [${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);
let plugio = null;
let plugioLog = '';

function fail(msg) {
    console.error(`bridge: FAIL: ${msg}`);
    if (plugioLog) console.error(`bridge: plugio's log:\n${plugioLog.split('\n').slice(-40).join('\n')}`);
    if (plugio) plugio.kill('SIGKILL');
    process.exit(1);
}

async function call(method, p, { token, body } = {}) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(STRAPI + p, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(WAIT_MS),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* kept as text */ }
    return { status: res.status, body: json ?? text };
}

async function expect(what, status, promise) {
    const r = await promise;
    if (r.status !== status) fail(`${what}: HTTP ${r.status}, expected ${status}: ${JSON.stringify(r.body)}`);
    return r.body;
}

// plugio with the bridge on "/", its port read from its log.
async function startPlugio(apiToken) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-bridge-'));
    const yaml = `server:
  host: 127.0.0.1
  port: 0
plugins:
  strapi:
    path: ${process.env.PLUGIO_STRAPI_SO}
    config:
      url: ${STRAPI}
      apiTokenEnv: BRIDGE_API_TOKEN
      jwtSecretEnv: JWT_SECRET
      anonymous: false
      webhook:
        path: /strapi/webhook
        header: x-plugio-webhook-secret
        secretEnv: WEBHOOK_SECRET
      contentTypes:
        - ${ARTICLE}
      roles:
        authenticated: {"${ARTICLE}": [create, update, delete, publish, unpublish]}
middleware:
  - handler: strapi:authenticate
    namespace: /
`;
    fs.writeFileSync(path.join(dir, 'plugio.yaml'), yaml);
    plugio = spawn(process.env.PLUGIO, ['--log-level', 'debug', path.join(dir, 'plugio.yaml')], {
        stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BRIDGE_API_TOKEN: apiToken },
    });
    plugio.stderr.setEncoding('utf8');
    return new Promise((resolve) => {
        const timer = setTimeout(() => fail('plugio did not start within 10 s'), 10000);
        plugio.stderr.on('data', (d) => {
            plugioLog += d;
            const m = /listening on 127\.0\.0\.1:(\d+)/.exec(plugioLog);
            if (m && timer) { clearTimeout(timer); resolve(`http://127.0.0.1:${m[1]}`); }
        });
        plugio.on('exit', (code, sig) => fail(`plugio exited early (${code} ${sig})`));
    });
}

function connect(url, auth) {
    const s = io(url, { auth, forceNew: true, reconnection: false, timeout: WAIT_MS });
    s.events = [];
    s.onAny((event, ...args) => s.events.push({ event, args }));
    return new Promise((resolve) => {
        s.once('connect', () => resolve({ socket: s, error: null }));
        s.once('connect_error', (err) => resolve({ socket: s, error: err.message }));
    });
}

async function until(what, pred) {
    const deadline = Date.now() + WAIT_MS;
    while (!pred()) {
        if (Date.now() > deadline) fail(`no ${what} within ${WAIT_MS} ms`);
        await new Promise((r) => setTimeout(r, 25));
    }
}

async function main() {
    const prior = JSON.parse(fs.readFileSync(process.env.RESULT_FILE, 'utf8'));
    const url = await startPlugio(prior.apiToken);
    log(`plugio on ${url}`);

    const admin = (await expect('admin login', 200, call('POST', '/admin/login',
        { body: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD } }))).data.token;
    await expect('webhook to plugio', 201, call('POST', '/admin/webhooks', {
        token: admin,
        body: {
            name: 'plugio-bridge', url: `${url}/strapi/webhook`,
            headers: { 'x-plugio-webhook-secret': process.env.WEBHOOK_SECRET },
            events: ['entry.create', 'entry.update', 'entry.delete', 'entry.publish', 'entry.unpublish'],
        },
    }));
    log('webhook to plugio created');

    // A role plugio's configuration gives nothing, and a user in it.
    const role = await expect('viewer role', 200, call('POST', '/users-permissions/roles', {
        token: admin, body: { name: 'Viewer', description: 'no content events', permissions: {} },
    }));
    const roles = await expect('roles', 200, call('GET', '/users-permissions/roles', { token: admin }));
    const viewerRole = roles.roles.find((r) => r.type === 'viewer');
    if (!viewerRole) fail(`no viewer role after creating it: ${JSON.stringify(role)} / ${JSON.stringify(roles)}`);
    const reg = await expect('register viewer', 200, call('POST', '/api/auth/local/register', {
        body: { username: 'viewer', email: 'viewer@plugio.test', password: 'Viewer-pass-1' },
    }));
    await expect('viewer role assignment', 200, call('PUT', `/api/users/${reg.user.id}`,
        { token: prior.apiToken, body: { role: viewerRole.id } }));
    const check = await expect('viewer look-up', 200,
        call('GET', `/api/users/${reg.user.id}?populate=role`, { token: prior.apiToken }));
    if (check.role?.type !== 'viewer') fail(`viewer's role is ${JSON.stringify(check.role)}`);
    log(`viewer user ${reg.user.id} in role viewer`);

    const reader = await connect(url, { strategy: 'jwt', token: prior.jwt });
    if (reader.error) fail(`the reader was refused: ${reader.error}`);
    const viewer = await connect(url, { strategy: 'jwt', token: reg.jwt });
    if (viewer.error) fail(`the viewer was refused: ${viewer.error}`);
    log('reader (authenticated) and viewer connected with their Strapi JWTs');

    const [h, p] = prior.jwt.split('.');
    const forged = `${h}.${p}.${crypto.createHmac('sha256', 'not-the-secret').update(`${h}.${p}`).digest('base64url')}`;
    const bad = await connect(url, { strategy: 'jwt', token: forged });
    if (bad.error !== 'strapi: invalid token (bad signature)') fail(`a forged token: ${bad.error ?? 'connected'}`);
    const anon = await connect(url, {});
    if (anon.error !== 'strapi: authentication required') fail(`no token: ${anon.error ?? 'connected'}`);
    log(`refused: forged token ("${bad.error}"), no token ("${anon.error}")`);

    const created = await expect('article create', 201, call('POST', '/api/articles', {
        token: prior.apiToken,
        body: { data: { title: 'Through plugio', body: 'bridge check', secretNote: 'never to clients' } },
    }));
    const doc = created.data.documentId;
    const isCreate = (e) => e.event === 'article:create' && e.args[0]?.data?.documentId === doc;
    await until('article:create at the reader', () => reader.socket.events.some(isCreate));
    const first = reader.socket.events.find(isCreate).args[0];
    if (first.data.title !== 'Through plugio') fail(`unexpected payload ${JSON.stringify(first)}`);
    if ('secretNote' in first.data) fail('the private field reached the client');
    log(`reader received article:create ${JSON.stringify(first)}`);

    await expect('article update', 200, call('PUT', `/api/articles/${doc}`,
        { token: prior.apiToken, body: { data: { title: 'Changed' } } }));
    await until('article:update at the reader', () => reader.socket.events.some(
        (e) => e.event === 'article:update' && e.args[0]?.data?.title === 'Changed'));
    await expect('article delete', 204, call('DELETE', `/api/articles/${doc}`, { token: prior.apiToken }));
    await until('article:delete at the reader', () => reader.socket.events.some((e) => e.event === 'article:delete'));
    await new Promise((r) => setTimeout(r, 1000)); /* late duplicates would show now */
    const creates = reader.socket.events.filter(isCreate).length;
    if (creates !== 1) fail(`the reader got article:create ${creates} times`);
    // Strapi 5.54 deletes a published document's draft and published rows,
    // one entry.delete each: the reader must see one.
    const deletes = reader.socket.events.filter((e) => e.event === 'article:delete').length;
    if (deletes !== 1) fail(`the reader got article:delete ${deletes} times (rows not de-duplicated)`);
    if (viewer.socket.events.length) fail(`the viewer received ${JSON.stringify(viewer.socket.events)}`);
    log(`reader's events: ${reader.socket.events.map((e) => e.event).join(', ')}; viewer's: none`);
    log(`plugio's webhook lines: ${(plugioLog.match(/webhook: [^\n]*/g) || []).join(' | ')}`);
    if (!/webhook: .* already emitted|webhook: article:create to 1 sockets/.test(plugioLog)) fail('no webhook line in plugio\'s log');

    // Blocked in Strapi: its webhook makes plugio forget the cached role.
    await expect('block the reader', 200, call('PUT', `/api/users/${prior.user.id}`,
        { token: prior.apiToken, body: { blocked: true } }));
    await until('the user change in plugio\'s log', () => /its cached role is forgotten/.test(plugioLog));
    const blocked = await connect(url, { strategy: 'jwt', token: prior.jwt });
    if (blocked.error !== 'strapi: role look-up failed (user is blocked)') fail(`the blocked reader: ${blocked.error ?? 'connected'}`);
    log(`the reader, blocked in Strapi, is refused on its next connection ("${blocked.error}")`);

    for (const c of [reader, viewer, bad, anon, blocked]) c.socket.close();
    plugio.removeAllListeners('exit');
    const exited = new Promise((resolve) => plugio.on('exit', (code, sig) => resolve({ code, sig })));
    plugio.kill('SIGTERM');
    const { code, sig } = await Promise.race([exited, new Promise((r) => setTimeout(() => r({ code: 'timeout' }), 10000))]);
    if (code !== 0) fail(`plugio exited ${code} ${sig ?? ''} on SIGTERM`);
    if (/ERROR: \w+Sanitizer|runtime error:/.test(plugioLog)) fail('a sanitizer report in plugio\'s log');
    log('plugio stopped cleanly; PASS');
    process.exit(0); /* fetch's idle keep-alive connections would hold the process on */
}

main().catch((e) => fail(e.stack || String(e)));
