'use strict';
// Plugin HTTP routes and a deferred middleware's socket (SDK 1.5), through
// the `route` test plugin (tests/plugins/route/route.c, builds a and b):
// pio_http_route and the request's accessors with Node's http, undici's
// fetch and raw sockets; the errors a route meets (411, 413, a function
// that does not answer, one that crashes); reloads and removal; and
// pio_middleware_socket from a middleware that decided later.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const http = require('node:http');
const undici = require('undici');
const h = require('./helpers');

const T = { timeout: 30000 };
const BUILDS = path.join(h.BUILD, 'tests', 'plugins', 'route');
const build = (id) => path.join(BUILDS, `libroute_${id}.so`);

const ROUTE_PLUGINS = {
  route: build('a'),
  route2: { path: build('b'), config: { second: true } },
};
const GATED = {
  extraEvents: [
    { name: 'rooms', namespace: '/gated', handler: 'route:route_rooms' },
    { name: 'members', namespace: '/gated', handler: 'route:route_members' },
  ],
  middleware: [{ handler: 'route:route_gate', namespace: '/gated' }],
};

/* The status lines of the responses in raw text, in order. */
const statuses = (data) => [...data.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));

test.afterEach(() => h.closeAll());

test.describe('routes of a serving plugin', () => {
  const srv = h.serverFor({ before: test.before, after: test.after },
    { plugins: ROUTE_PLUGINS, ...GATED });

  test('the load hook is refused paths under serverOptions.path, the health path, another plugin\'s, and one without /', T, () => {
    const log = srv().stderr();
    assert.match(log, /route: route \/socket\.io\/x: -1\b/, 'PIO_EINVAL under serverOptions.path');
    assert.match(log, /route: route \/healthz: -5\b/, 'PIO_ESTATE for the health check');
    assert.match(log, /route: route nope: -1\b/, 'PIO_EINVAL without a leading /');
    assert.match(log, /route2: second route \/hook: -5\b/, 'PIO_ESTATE for another plugin\'s route');
  });

  test('GET with a query and headers: method, path, query, standard and custom headers, address; the status the plugin chose', T, async () => {
    const res = await h.nodeRequest(`${srv().url}/hook?status=201&a=1&b=x%20y&b2=%C3%A9`,
      { headers: { 'X-Test-Event': 'entry.create' } });
    assert.equal(res.status, 201);
    assert.equal(res.headers['content-type'], 'application/json');
    const got = JSON.parse(res.text);
    assert.deepEqual(got, {
      build: 'a', method: 'GET', path: '/hook', event: 'entry.create', type: null,
      host: `127.0.0.1:${srv().port}`, missing: null, address: '127.0.0.1', body: '',
      query: { status: '201', a: '1', b: 'x y', b2: 'é' },
    });
  });

  test('POST with a body, through Node\'s http and undici\'s fetch', T, async () => {
    const body = JSON.stringify({ event: 'entry.update', entry: { id: 7, title: 'é"\\' } });
    const viaNode = await h.nodeRequest(`${srv().url}/hook`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'x-test-event': 'node' },
    });
    assert.equal(viaNode.status, 200);
    const a = JSON.parse(viaNode.text);
    assert.equal(a.method, 'POST');
    assert.equal(a.body, body);
    assert.equal(a.event, 'node');
    assert.equal(a.type, 'application/json');

    const res = await undici.fetch(`${srv().url}/hook?status=202`, {
      method: 'PUT', body: 'plain text', headers: { 'X-TEST-EVENT': 'undici', 'content-type': 'text/plain' },
    });
    assert.equal(res.status, 202);
    const b = await res.json();
    assert.deepEqual([b.method, b.body, b.event, b.type, b.query], ['PUT', 'plain text', 'undici', 'text/plain', { status: '202' }]);
  });

  test('HEAD gets the head of the answer; OPTIONS and DELETE are methods like any other', T, async () => {
    const get = await h.nodeRequest(`${srv().url}/hook`);
    const head = await h.nodeRequest(`${srv().url}/hook`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.text, '');
    assert.equal(Number(head.headers['content-length']), get.text.length - 'GET'.length + 'HEAD'.length);
    for (const method of ['OPTIONS', 'DELETE']) {
      const res = await h.nodeRequest(`${srv().url}/hook`, { method });
      assert.equal(res.status, 200);
      assert.equal(JSON.parse(res.text).method, method);
    }
  });

  test('a body without Content-Length is refused with 411 and the connection closed', T, async () => {
    const chunked = await h.rawRequest(srv().port, 'POST /hook HTTP/1.1\r\nHost: x\r\n' +
      'Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n', 1500);
    assert.deepEqual(statuses(chunked.data), [411]);
    assert.ok(chunked.closed, 'closed: lws cannot find the end of the body');
    // lws waits for a POST's body even without a length: refused too.
    const bare = await h.rawRequest(srv().port, 'POST /hook HTTP/1.1\r\nHost: x\r\n\r\nabc', 1500);
    assert.deepEqual(statuses(bare.data), [411]);
    assert.ok(bare.closed);
  });

  test('a body over max_body gets 413; the body is discarded and the connection serves the next request', T, async () => {
    const big = 'x'.repeat(2000);
    const res = await h.rawRequest(srv().port, `POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: ${big.length}\r\n\r\n${big}` +
      'GET /hook?after=413 HTTP/1.1\r\nHost: x\r\n\r\n', 1500);
    assert.deepEqual(statuses(res.data), [413, 200]);
    assert.match(res.data, /"query":\{"after":"413"\}/);
    assert.equal(res.closed, false);
    const viaFetch = await undici.fetch(`${srv().url}/hook`, { method: 'POST', body: big });
    assert.equal(viaFetch.status, 413);
    await viaFetch.arrayBuffer();
  });

  test('a route function that does not answer gets the client a 500 and a warning', T, async () => {
    const res = await h.rawRequest(srv().port, 'GET /silent HTTP/1.1\r\nHost: x\r\n\r\nGET /hook HTTP/1.1\r\nHost: x\r\n\r\n', 1500);
    assert.deepEqual(statuses(res.data), [500, 200], 'the connection goes on');
    await srv().waitForLog(/WARN +route: its route \/silent returned without answering GET: 500/);
  });

  test('a kept-alive connection carries several requests to routes', T, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const one = await h.nodeRequest(`${srv().url}/hook?n=1`, { agent, method: 'POST', body: 'first' });
      const two = await h.nodeRequest(`${srv().url}/hook?n=2`, { agent });
      assert.deepEqual([one.status, two.status], [200, 200]);
      assert.equal(JSON.parse(one.text).body, 'first');
      assert.deepEqual(JSON.parse(two.text).query, { n: '2' });
      assert.equal(one.port, two.port, 'one connection for both');
    } finally {
      agent.destroy();
    }
  });

  test('pio_http_unroute: a route goes (404), once', T, async () => {
    assert.equal((await h.nodeRequest(`${srv().url}/gone`)).text, 'gone');
    const res = await h.nodeRequest(`${srv().url}/unroute`);
    assert.equal(res.text, '0 -1', 'PIO_OK, then PIO_EINVAL');
    assert.equal((await h.nodeRequest(`${srv().url}/gone`)).status, 404);
    assert.doesNotMatch(srv().stderr(), /status 99 was taken|status 103 was taken|line break was taken|a second answer was taken/);
    assert.doesNotMatch(res.headers['x-evil'] || '', /1/);
  });

  test('another plugin\'s route serves beside them; Engine.IO keeps its path', T, async () => {
    const res = await h.nodeRequest(`${srv().url}/second`);
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.text).build, 'b');
    const eio = await h.nodeRequest(`${srv().url}/socket.io/x`);
    assert.equal(eio.status, 400, 'Engine.IO\'s, not a route');
  });

  test('pio_middleware_socket: rooms joined and data set after a deferral come with the socket', T, async () => {
    const s = h.client(`${srv().url}/gated`, { auth: { token: 'ok1', ms: 50 } });
    await h.next(s, 'connect');
    const [rooms, token] = await h.ackAll(s, 'rooms');
    assert.deepEqual(rooms.sort(), [s.id, 'r:ok1'].sort());
    assert.equal(token, 'ok1');
    const [members] = await h.ackAll(s, 'members', 'r:ok1');
    assert.equal(members, 1);
    await srv().waitForLog(/route: socket after resolve: null/);
    assert.doesNotMatch(srv().stderr(), /no socket for a waiting middleware|not the socket deferred/);
  });

  test('pio_middleware_socket: a refusal after joining leaves the room', T, async () => {
    const bad = h.client(`${srv().url}/gated`, { auth: { token: 'bad' } });
    const err = await h.connectError(bad);
    assert.equal(err.message, 'refused: bad');
    const ok = h.client(`${srv().url}/gated`, { auth: { token: 'ok2' } });
    await h.next(ok, 'connect');
    const [members] = await h.ackAll(ok, 'members', 'r:bad');
    assert.equal(members, 0, 'the refused socket is in no room');
  });
});

test('a route that crashes: 500, its version quarantined, the other plugins serve on', T, async () => {
  const srv = await h.startServer({ plugins: ROUTE_PLUGINS, ...GATED });
  try {
    const res = await h.nodeRequest(`${srv.url}/crash`);
    assert.equal(res.status, 500);
    await srv.waitForLog(/route: its route \/crash faulted: 500/);
    await srv.waitForLog(/route: version a is quarantined/);
    // Its routes went with it; route2's and the host's serve.
    await srv.waitForLog(/route: disabled until a new build/);
    assert.equal((await h.nodeRequest(`${srv.url}/hook`)).status, 404);
    assert.equal((await h.nodeRequest(`${srv.url}/second`)).status, 200);
    assert.equal((await h.nodeRequest(`${srv.url}/healthz`)).status, 200);
    const s = await h.connect(srv.url);
    assert.deepEqual(await h.ackAll(s, 'echo', 'still'), ['still']);
  } finally {
    h.closeAll();
    await h.stopChecked(srv);
  }
});

test('reloads: the new version answers, a body in flight meets the version in place, a removed plugin routes nothing', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-route-'));
  const live = path.join(dir, 'libroute.so');
  fs.copyFileSync(build('a'), live);
  const srv = await h.startServer({ plugins: { route: live } });
  try {
    assert.equal(JSON.parse((await h.nodeRequest(`${srv.url}/hook`)).text).build, 'a');

    // A request whose head came before the reload and its body after.
    const conn = h.rawConn(srv.port);
    await conn.connected;
    conn.sock.write('POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello');
    await h.sleep(100);
    h.installByRename(build('b'), live);
    await srv.waitForLog(/route: build b routes/);
    await srv.waitForLog(/reload #1 done/);
    conn.sock.write('world');
    const deadline = Date.now() + 5000;
    while (!/\r\n\r\n\{.*\}$/.test(conn.data) && Date.now() < deadline) await h.sleep(20);
    assert.deepEqual(statuses(conn.data), [200]);
    const late = JSON.parse(conn.data.slice(conn.data.indexOf('{')));
    assert.deepEqual([late.build, late.body], ['b', 'helloworld'], 'answered by the version in place');
    conn.sock.destroy();
    assert.equal(JSON.parse((await h.nodeRequest(`${srv.url}/hook`)).text).build, 'b');

    // The plugin gone from the configuration: its routes with it.
    const doc = structuredClone(srv.doc);
    delete doc.plugins.route;
    const tmp = `${srv.yamlFile}.tmp`;
    fs.writeFileSync(tmp, h.toYaml(doc));
    fs.renameSync(tmp, srv.yamlFile);
    await srv.waitForLog(/reload: plugin 'route' removed/);
    assert.equal((await h.nodeRequest(`${srv.url}/hook`)).status, 404);
  } finally {
    await h.stopChecked(srv);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a reload between head and body that lowers the route\'s max_body: 413, the body not handed to the plugin', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-route-'));
  const live = path.join(dir, 'libroute.so');
  fs.copyFileSync(build('a'), live);
  const srv = await h.startServer({ plugins: { route: live } });
  try {
    // 40 bytes, within version a's 1024; version b (config second) takes 16 at most.
    const conn = h.rawConn(srv.port);
    await conn.connected;
    conn.sock.write('POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\nhello');
    await h.sleep(100);
    const doc = structuredClone(srv.doc);
    doc.plugins.route = { path: live, config: { second: true } };
    const tmp = `${srv.yamlFile}.tmp`;
    fs.writeFileSync(tmp, h.toYaml(doc));
    h.installByRename(build('b'), live);
    fs.renameSync(tmp, srv.yamlFile);
    await srv.waitForLog(/second route \/hook: 0/);
    await srv.waitForLog(/reload #\d+ done/);
    conn.sock.write('x'.repeat(35));
    const deadline = Date.now() + 5000;
    while (statuses(conn.data).length === 0 && !conn.ended && Date.now() < deadline) await h.sleep(20);
    assert.deepEqual(statuses(conn.data), [413], conn.data);
    conn.sock.destroy();
  } finally {
    await h.stopChecked(srv);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
