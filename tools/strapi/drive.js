// Drives a running Strapi 5 the way tools/test-strapi needs it: through the
// admin REST API it creates a full-access API token and a webhook pointing
// at a receiver in this process, registers a users-permissions user (its
// JWT is what a Socket.IO client would present), creates an article through
// the content API with the API token, and checks that the webhook delivered
// entry.create for it. Every wait is bounded; any failure exits non-zero.
//
// Environment: STRAPI_URL, ADMIN_EMAIL, ADMIN_PASSWORD, WEBHOOK_SECRET,
// RESULT_FILE (optional: the tokens and payloads, as JSON, for later steps).
'use strict';

const http = require('node:http');
const fs = require('node:fs');

const STRAPI = process.env.STRAPI_URL;
const WAIT_MS = 15000;
const t0 = Date.now();
const log = (msg) => console.log(`drive: [${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

function fail(msg) {
    console.error(`drive: FAIL: ${msg}`);
    process.exit(1);
}

// A request to Strapi with a bounded wait; returns {status, body}.
async function call(method, path, { token, body } = {}) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(STRAPI + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(WAIT_MS),
    });
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON: kept as text */ }
    return { status: res.status, body: json ?? text };
}

async function expect(what, status, promise) {
    const r = await promise;
    if (r.status !== status) fail(`${what}: HTTP ${r.status}, expected ${status}: ${JSON.stringify(r.body)}`);
    return r.body;
}

// The webhook receiver: remembers every delivery, wakes whoever waits.
function startReceiver() {
    const deliveries = [];
    let wake = () => {};
    const server = http.createServer((req, res) => {
        let data = '';
        req.setEncoding('utf8');
        req.on('data', (c) => { data += c; });
        req.on('end', () => {
            let body = null;
            try { body = JSON.parse(data); } catch { /* recorded as null */ }
            deliveries.push({ path: req.url, headers: req.headers, body });
            res.writeHead(200).end();
            wake();
        });
    });
    const waitFor = (pred) => new Promise((resolve) => {
        const check = () => {
            const hit = deliveries.find(pred);
            if (hit) { clearTimeout(timer); resolve(hit); }
        };
        const timer = setTimeout(() => resolve(null), WAIT_MS);
        wake = check;
        check();
    });
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () =>
        resolve({ server, port: server.address().port, deliveries, waitFor })));
}

function jwtClaims(jwt) {
    return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function main() {
    const rx = await startReceiver();
    log(`webhook receiver on 127.0.0.1:${rx.port}`);

    const login = await expect('admin login', 200, call('POST', '/admin/login',
        { body: { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD } }));
    const admin = login.data?.token;
    if (!admin) fail(`admin login gave no token: ${JSON.stringify(login)}`);
    log('admin logged in');

    const tok = await expect('API token', 201, call('POST', '/admin/api-tokens', {
        token: admin,
        body: { name: `plugio-${Date.now()}`, description: 'plugio tests', type: 'full-access', lifespan: null },
    }));
    const apiToken = tok.data?.accessKey;
    if (!apiToken) fail(`API token creation gave no accessKey: ${JSON.stringify(tok)}`);
    log(`full-access API token created (id ${tok.data.id})`);

    const hook = await expect('webhook', 201, call('POST', '/admin/webhooks', {
        token: admin,
        body: {
            name: 'plugio',
            url: `http://127.0.0.1:${rx.port}/strapi/webhook`,
            headers: { 'x-plugio-webhook-secret': process.env.WEBHOOK_SECRET },
            events: ['entry.create', 'entry.update', 'entry.delete', 'entry.publish', 'entry.unpublish'],
        },
    }));
    log(`webhook created (id ${hook.data.id}, enabled ${hook.data.isEnabled})`);

    const reg = await expect('register', 200, call('POST', '/api/auth/local/register', {
        body: { username: 'reader', email: 'reader@plugio.test', password: 'Reader-pass-1' },
    }));
    if (!reg.jwt || !reg.user?.id) fail(`register gave no jwt/user: ${JSON.stringify(reg)}`);
    const claims = jwtClaims(reg.jwt);
    log(`user registered (id ${reg.user.id}); JWT claims ${JSON.stringify(claims)}`);

    // The look-up the bridge will make: the user's role, with the API token.
    const me = await expect('user look-up', 200,
        call('GET', `/api/users/${reg.user.id}?populate=role`, { token: apiToken }));
    if (me.role?.type !== 'authenticated') fail(`user's role is ${JSON.stringify(me.role)}, expected authenticated`);
    log(`user's role read back with the API token: ${me.role.type}`);

    // Without a token the content API refuses, and no webhook may follow.
    const anon = await call('POST', '/api/articles', { body: { data: { title: 'anonymous' } } });
    if (anon.status !== 403 && anon.status !== 401) fail(`anonymous create: HTTP ${anon.status}, expected 401/403`);
    log(`anonymous create refused (HTTP ${anon.status})`);

    const created = await expect('article create', 201, call('POST', '/api/articles', {
        token: apiToken,
        body: { data: { title: 'Hello from plugio', body: 'webhook check', secretNote: 'private' } },
    }));
    const documentId = created.data?.documentId;
    if (!documentId) fail(`article create gave no documentId: ${JSON.stringify(created)}`);
    log(`article created (documentId ${documentId})`);

    const got = await rx.waitFor((d) => d.body?.event === 'entry.create' &&
        d.body?.model === 'article' && d.body?.entry?.documentId === documentId);
    if (!got) fail(`no entry.create webhook for ${documentId} within ${WAIT_MS} ms; got ${JSON.stringify(rx.deliveries)}`);
    if (got.headers['x-strapi-event'] !== 'entry.create') fail(`x-strapi-event is ${got.headers['x-strapi-event']}`);
    if (got.headers['x-plugio-webhook-secret'] !== process.env.WEBHOOK_SECRET) fail('webhook secret header missing');
    if (got.body.uid !== 'api::article.article' || got.body.entry.title !== 'Hello from plugio')
        fail(`unexpected webhook body ${JSON.stringify(got.body)}`);
    if (rx.deliveries.some((d) => d.body?.entry?.title === 'anonymous')) fail('a webhook fired for the refused create');
    log(`webhook entry.create received: ${JSON.stringify(got.body)}`);
    // Let late deliveries (a published row after its draft) arrive, for the record.
    await new Promise((r) => setTimeout(r, 1000));
    log(`deliveries: ${rx.deliveries.map((d) => `${d.body?.event}/${d.body?.entry?.publishedAt ? 'published' : 'draft'}` +
        ` id ${d.body?.entry?.id} updatedAt ${d.body?.entry?.updatedAt}`).join(', ')}`);

    if (process.env.RESULT_FILE) {
        fs.writeFileSync(process.env.RESULT_FILE, JSON.stringify({
            apiToken, jwt: reg.jwt, jwtClaims: claims, user: me, article: created.data,
            webhooks: rx.deliveries.map((d) => ({ headers: d.headers, body: d.body })),
        }, null, 2));
    }
    rx.server.close();
    log('PASS');
}

main().catch((e) => fail(e.stack || String(e)));
