'use strict';
// Static files (server.static) and the Socket.IO client script
// (serveClient) with a real plugio: content types, ETag and 304, HEAD,
// index.html and the redirect to a directory's slash, every way out of
// the directory (each refused with 404, sent over raw sockets so that no
// client tidies the path first), odd requests, keep-alive, undici, a
// 5 MB file; the client bundles byte for byte, compressed, and with the
// headers the Node socket.io server gives them.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const zlib = require('node:zlib');
const undici = require('undici');
const h = require('./helpers');

const T = { timeout: 30000 };
const CLIENT_PKG = path.join(h.REPO, 'web', 'node_modules', 'socket.io-client');
const CLIENT_DIST = path.join(CLIENT_PKG, 'dist');
const CLIENT_FILES = [
  'socket.io.js', 'socket.io.js.map', 'socket.io.min.js', 'socket.io.min.js.map',
  'socket.io.esm.min.js', 'socket.io.esm.min.js.map',
  'socket.io.msgpack.min.js', 'socket.io.msgpack.min.js.map',
];

/* One request over a fresh TCP connection, as written (no client
 * normalises the path); resolves with {status, headers, body (latin1),
 * closed} once the server closes or `ms` passed. */
function raw(port, text, ms = 3000) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let data = '';
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      const i = data.indexOf('\r\n\r\n');
      const head = i < 0 ? data : data.slice(0, i);
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = {};
      for (const l of lines) {
        const c = l.indexOf(':');
        if (c > 0) headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
      }
      const m = /^HTTP\/1\.[01] (\d+)/.exec(statusLine || '');
      resolve({ status: m ? Number(m[1]) : null, headers, body: i < 0 ? '' : data.slice(i + 4), closed, data });
    };
    const timer = setTimeout(done, ms);
    sock.setEncoding('latin1');
    sock.on('data', (d) => { data += d; });
    sock.on('close', () => { closed = true; done(); });
    sock.on('error', (err) => { if (!data) { clearTimeout(timer); reject(err); } });
    sock.write(text);
  });
}
const rawGet = (port, target, extra = '') =>
  raw(port, `GET ${target} HTTP/1.1\r\nHost: x\r\n${extra}Connection: close\r\n\r\n`);

/* A request through Node's http module; the body as a Buffer. */
function request(url, { method = 'GET', headers = {}, agent } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), socket: req.socket }));
    });
    req.on('error', reject);
    req.setTimeout(10000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');

function decode(res) {
  const enc = res.headers['content-encoding'];
  if (enc === 'gzip') return zlib.gunzipSync(res.body);
  if (enc === 'deflate') return zlib.inflateSync(res.body);
  return res.body;
}

/* The tree served: site/ (mounted at / and, its sub/, at /docs) and,
 * beside it, out/ with a secret that must never be served. */
function makeTree() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-static-'));
  const site = path.join(root, 'site');
  const out = path.join(root, 'out');
  for (const d of [site, out, path.join(site, 'sub'), path.join(site, 'nodir'), path.join(site, 'a b'),
    path.join(site, '.git'), path.join(site, '.well-known')]) {
    fs.mkdirSync(d, { recursive: true });
  }
  const files = {
    'index.html': '<!doctype html><title>plugio</title>',
    'app.js': 'console.log("plugio");\n',
    'style.css': 'body { color: red }\n',
    'data.json': '{"a":1}\n',
    'icon.svg': '<svg xmlns="http://www.w3.org/2000/svg"/>',
    'README': 'no extension\n',
    'sub/index.html': '<p>sub</p>',
    'sub/page.txt': 'page\n',
    'a b/index.html': 'spaced',
    'long.js': `${'// plugio serves this script compressed when asked\n'.repeat(400)}`,
    '.env': 'DOT-SECRET=env\n',
    '.git/config': '[core] DOT-SECRET\n',
    '.git/index.html': 'DOT-SECRET index',
    'sub/.hidden': 'DOT-SECRET hidden\n',
    '.well-known/x.txt': 'DOT-SECRET well-known\n',
  };
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(site, name), text);
  const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  fs.writeFileSync(path.join(site, 'img.png'), png);
  const big = crypto.randomBytes(5 * 1024 * 1024);
  fs.writeFileSync(path.join(site, 'big.bin'), big);
  fs.writeFileSync(path.join(out, 'secret.txt'), 'SECRET-OUTSIDE\n');
  fs.writeFileSync(path.join(root, 'secret.txt'), 'SECRET-ROOT\n');
  fs.symlinkSync(path.join(out, 'secret.txt'), path.join(site, 'link-out.txt'));
  fs.symlinkSync('../out', path.join(site, 'linkdir'));
  fs.symlinkSync('/etc/passwd', path.join(site, 'passwd'));
  fs.symlinkSync('index.html', path.join(site, 'link-in.html'));
  execFileSync('mkfifo', [path.join(site, 'fifo.txt')]);
  return { root, site, out, files, png, big };
}

test.describe('server.static', () => {
  const tree = makeTree();
  const srv = h.serverFor(test, {
    server: {
      static: [
        { path: '/', dir: tree.site },
        { path: '/docs', dir: path.join(tree.site, 'sub') },
      ],
    },
  });
  const url = (p) => `${srv().url}${p}`;
  test.after(() => fs.rmSync(tree.root, { recursive: true, force: true }));

  test('files are served with the content type of their extension', T, async () => {
    const want = {
      '/index.html': 'text/html; charset=utf-8',
      '/app.js': 'text/javascript; charset=utf-8',
      '/style.css': 'text/css; charset=utf-8',
      '/data.json': 'application/json; charset=utf-8',
      '/icon.svg': 'image/svg+xml; charset=utf-8',
      '/README': 'application/octet-stream',
      '/docs/page.txt': 'text/plain; charset=utf-8',
    };
    for (const [p, type] of Object.entries(want)) {
      const res = await request(url(p));
      assert.equal(res.status, 200, p);
      assert.equal(res.headers['content-type'], type, p);
      assert.equal(res.headers['x-content-type-options'], 'nosniff', p);
      const name = p.startsWith('/docs/') ? `sub/${p.slice(6)}` : p.slice(1);
      assert.equal(res.body.toString(), tree.files[name], p);
    }
    const png = await request(url('/img.png'));
    assert.equal(png.headers['content-type'], 'image/png');
    assert.deepEqual(png.body, tree.png);
  });

  test('ETag, Last-Modified and Cache-Control; If-None-Match gets 304, a changed file a new tag', T, async () => {
    const first = await request(url('/style.css'));
    const etag = first.headers.etag;
    assert.match(etag, /^"[0-9a-f]+-[0-9a-f]+"$/);
    assert.equal(first.headers['cache-control'], 'public, max-age=0');
    const mtime = fs.statSync(path.join(tree.site, 'style.css')).mtime;
    assert.equal(first.headers['last-modified'], new Date(Math.floor(mtime / 1000) * 1000).toUTCString());
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const res = await request(url('/style.css'), { headers: { 'if-none-match': inm } });
      assert.equal(res.status, 304, inm);
      assert.equal(res.body.length, 0);
      assert.equal(res.headers.etag, etag);
    }
    const other = await request(url('/style.css'), { headers: { 'if-none-match': '"nope"' } });
    assert.equal(other.status, 200);
    fs.writeFileSync(path.join(tree.site, 'style.css'), 'body { color: blue; }\n');
    const changed = await request(url('/style.css'), { headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.etag, etag);
    assert.equal(changed.body.toString(), 'body { color: blue; }\n');
  });

  test('HEAD has the headers of GET and no body, on a connection that stays usable', T, async () => {
    const get = await request(url('/app.js'));
    const res = await raw(srv().port,
      'HEAD /app.js HTTP/1.1\r\nHost: x\r\n\r\nGET /data.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-length'], String(tree.files['app.js'].length));
    assert.equal(res.headers.etag, get.headers.etag);
    assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
    // What follows the head is the second response, not a body.
    assert.match(res.body, /^HTTP\/1\.1 200 [^\r]*\r\n/);
    assert.ok(res.body.endsWith(tree.files['data.json']), res.body);
  });

  test('a directory serves its index.html; without the slash it is redirected to it', T, async () => {
    assert.equal((await request(url('/'))).body.toString(), tree.files['index.html']);
    assert.equal((await request(url('/docs/'))).body.toString(), tree.files['sub/index.html']);
    assert.equal((await request(url('/sub/'))).body.toString(), tree.files['sub/index.html']);
    for (const [from, to] of [['/docs', '/docs/'], ['/sub', '/sub/'], ['/nodir', '/nodir/'], ['/a%20b', '/a%20b/']]) {
      const res = await request(url(from));
      assert.equal(res.status, 301, from);
      assert.equal(res.headers.location, to, from);
    }
    assert.equal((await request(url('/a%20b/'))).body.toString(), 'spaced');
    assert.equal((await request(url('/nodir/'))).status, 404, 'a directory without index.html');
    assert.equal((await request(url('/missing.html'))).status, 404);
    assert.equal((await request(url('/app.js/'))).status, 404, 'a file is no directory');
  });

  test('each way out of the directory is refused with 404 (raw requests)', T, async () => {
    const attempts = [
      '/../secret.txt', '/../out/secret.txt', '/sub/../../secret.txt', '/docs/../../secret.txt',
      '/%2e%2e/secret.txt', '/%2E%2E/out/secret.txt', '/.%2e/secret.txt', '/%2e%2e%2fsecret.txt',
      '/sub%2f..%2f..%2fout%2fsecret.txt', '/..%2f..%2fsecret.txt', '/docs/%2e%2e%2f%2e%2e%2fsecret.txt',
      '/..\\secret.txt', '/..%5csecret.txt', '/sub\\..\\..\\out\\secret.txt', '/%5c..%5c..%5csecret.txt',
      '/link-out.txt', '/linkdir/secret.txt', '/linkdir/', '/passwd', '/%01', '/a%7fb',
      `/${tree.out}/secret.txt`, `/docs/${tree.root}/secret.txt`,
    ];
    for (const target of attempts) {
      const res = await rawGet(srv().port, target);
      assert.equal(res.status, 404, `${target}: ${res.data.slice(0, 200)}`);
      assert.doesNotMatch(res.body, /SECRET|root:/, target);
    }
    // A symlink that stays inside is served.
    assert.equal((await rawGet(srv().port, '/link-in.html')).body, tree.files['index.html']);
  });

  test('a path with a segment that starts with a dot is 404, as serve-static\'s default (dotfiles: ignore)', T, async () => {
    const attempts = [
      '/.env', '/%2eenv', '/.git/config', '/.git/', '/.git', '/%2egit/config', '/sub/.hidden',
      '/docs/.hidden', '/sub/%2ehidden', '/.well-known/x.txt',
    ];
    for (const target of attempts) {
      for (const method of ['GET', 'HEAD']) {
        const res = await raw(srv().port, `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
        assert.equal(res.status, 404, `${method} ${target}: ${res.data.slice(0, 200)}`);
        assert.doesNotMatch(res.body, /DOT-SECRET/, target);
      }
    }
    // A dot inside a name is no dotfile.
    assert.equal((await rawGet(srv().port, '/app.js')).status, 200);
  });

  test('a directory swapped for a symlink out of the mount while requests run never serves what is outside', T, async (t) => {
    // renameat2(RENAME_EXCHANGE) swaps site/swap, a directory, with a
    // symlink to ../out, as fast as it can, in another process; a check
    // made on the path before the file is opened (realpath, then open)
    // can be raced, the kernel's own walk (openat2 RESOLVE_BENEATH) not.
    const swap = path.join(tree.site, 'swap');
    const other = path.join(tree.site, 'swap-other');
    fs.mkdirSync(swap);
    fs.writeFileSync(path.join(swap, 'secret.txt'), 'INSIDE\n');
    fs.symlinkSync('../out', other);
    const exchanger = require('node:child_process').spawn('/usr/bin/python3', ['-c', `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
a, b = sys.argv[1].encode(), sys.argv[2].encode()
for _ in range(2000000):
    if libc.syscall(316, -100, a, -100, b, 2) != 0:
        sys.exit('renameat2: %s' % os.strerror(ctypes.get_errno()))
`, swap, other], { stdio: ['ignore', 'ignore', 'pipe'] });
    let exchangerError = '';
    exchanger.stderr.setEncoding('utf8').on('data', (d) => { exchangerError += d; });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const seen = { inside: 0, notFound: 0 };
    try {
      for (let i = 0; i < 1500; i++) {
        const res = await request(url('/swap/secret.txt'), { agent });
        assert.doesNotMatch(res.body.toString(), /SECRET/, `request ${i}: the file outside was served`);
        if (res.status === 200) {
          assert.equal(res.body.toString(), 'INSIDE\n');
          seen.inside++;
        } else {
          assert.equal(res.status, 404, `request ${i}`);
          seen.notFound++;
        }
      }
    } finally {
      agent.destroy();
      exchanger.kill();
      await new Promise((resolve) => exchanger.on('close', resolve));
      fs.rmSync(swap, { recursive: true, force: true });
      fs.rmSync(other, { recursive: true, force: true });
    }
    t.diagnostic(`${JSON.stringify(seen)}`);
    assert.equal(exchangerError, '', 'the exchanger ran');
    assert.ok(seen.inside > 0 && seen.notFound > 0, `both sides were seen: ${JSON.stringify(seen)}`);
  });

  test('a NUL in the path never serves what follows it: libwebsockets closes, or cuts the path there', T, async () => {
    // libwebsockets 4.1.6 drops a connection whose path has a NUL inside a
    // segment, and ends the path at one that starts a segment ("/%00/x" is "/").
    for (const target of ['/index.html%00.png', '/app.js%00', '/link-out.txt%00.html', '/sub/page.txt%00']) {
      const res = await rawGet(srv().port, target);
      assert.equal(res.status, null, `${target}: ${res.data.slice(0, 200)}`);
      assert.ok(res.closed, target);
    }
    for (const target of ['/%00/../secret.txt', '/%00/link-out.txt']) {
      const res = await rawGet(srv().port, target);
      assert.equal(res.status, 200, target);
      assert.equal(res.body, tree.files['index.html'], `${target} is cut to /`);
    }
  });

  test('a FIFO is not a file: 404 at once, the loop never waits on it', T, async () => {
    const res = await rawGet(srv().port, '/fifo.txt');
    assert.equal(res.status, 404);
    assert.equal((await request(url('/app.js'))).status, 200);
  });

  test('a file over 64 MiB is refused with 500 and a log line, for GET and HEAD', T, async () => {
    const huge = path.join(tree.site, 'huge.txt');
    fs.writeFileSync(huge, '');
    fs.truncateSync(huge, 64 * 1024 * 1024 + 1); // sparse: no disk is used
    try {
      for (const method of ['GET', 'HEAD']) {
        assert.equal((await request(url('/huge.txt'), { method })).status, 500, method);
      }
      assert.match(srv().stderr(), /static: cannot serve .*huge\.txt: File too large \(over 64 MiB\)/);
      fs.truncateSync(huge, 64 * 1024 * 1024);
      const res = await request(url('/huge.txt'), { method: 'HEAD' });
      assert.equal(res.status, 200, 'exactly 64 MiB is served');
      assert.equal(res.headers['content-length'], String(64 * 1024 * 1024));
    } finally {
      fs.rmSync(huge);
    }
  });

  test('a mount whose directory went away answers 404, and comes back with it', T, async () => {
    const docs = path.join(tree.site, 'sub');
    const aside = path.join(tree.root, 'sub-aside');
    fs.renameSync(docs, aside);
    try {
      assert.equal((await request(url('/docs/page.txt'))).status, 404);
      assert.equal((await request(url('/docs/'))).status, 404);
    } finally {
      fs.renameSync(aside, docs);
    }
    assert.equal((await request(url('/docs/page.txt'))).body.toString(), tree.files['sub/page.txt']);
  });

  test('methods other than GET and HEAD get 405 with Allow', T, async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
      const res = await request(url('/index.html'), { method });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.allow, 'GET, HEAD', method);
    }
    assert.equal((await request(url('/nothing-here'), { method: 'POST' })).status, 405);
  });

  test('odd requests: a very long path, query strings, bad escapes; the server goes on', T, async () => {
    const long = await rawGet(srv().port, `/${'a'.repeat(20000)}`);
    assert.ok([404, 414, 431].includes(long.status) || (long.status === null && long.closed), long.data.slice(0, 100));
    const longOk = await rawGet(srv().port, `/${'a/'.repeat(2000)}x`);
    assert.equal(longOk.status, 404);
    const q = await rawGet(srv().port, '/app.js?v=1&y=../../secret.txt&z=%2e%2e%2f');
    assert.equal(q.status, 200);
    assert.equal(q.body, tree.files['app.js']);
    for (const target of ['/%', '/%zz', '/%2', '/a%', '/app.js?x=%zz']) {
      const res = await rawGet(srv().port, target);
      assert.ok(res.status === null || (res.status >= 400 && res.status < 500), `${target}: ${res.data.slice(0, 100)}`);
      assert.doesNotMatch(res.body, /SECRET/);
    }
    const nonsense = await raw(srv().port, 'GET\r\n\r\n');
    assert.notEqual(nonsense.status, 200);
    assert.equal((await request(url('/app.js'))).status, 200, 'still serving');
  });

  test('text files over httpCompression\'s threshold are gzipped or deflated, each with its own ETag', T, async () => {
    const want = Buffer.from(tree.files['long.js']);
    const plain = await request(url('/long.js'));
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.headers.vary, 'Accept-Encoding');
    assert.deepEqual(plain.body, want);
    const tags = new Set([plain.headers.etag]);
    for (const [accept, enc] of [['gzip', 'gzip'], ['deflate', 'deflate'], ['br, deflate;q=0.5', 'deflate']]) {
      const res = await request(url('/long.js'), { headers: { 'accept-encoding': accept } });
      assert.equal(res.headers['content-encoding'], enc, accept);
      assert.equal(res.headers.vary, 'Accept-Encoding');
      assert.ok(res.body.length < want.length / 10, `${accept}: ${res.body.length} bytes`);
      assert.deepEqual(decode(res), want, accept);
      tags.add(res.headers.etag);
      const again = await request(url('/long.js'), { headers: { 'accept-encoding': accept, 'if-none-match': res.headers.etag } });
      assert.equal(again.status, 304, accept);
      const head = await request(url('/long.js'), { method: 'HEAD', headers: { 'accept-encoding': accept } });
      assert.equal(head.headers['content-length'], String(res.body.length), `HEAD ${accept}`);
    }
    assert.equal(tags.size, 3, 'identity, gzip and deflate are three representations');
    const fetched = await undici.fetch(url('/long.js'));
    assert.equal(await fetched.text(), tree.files['long.js']);
    // Small text files and binary ones are sent as they are.
    for (const p of ['/app.js', '/big.bin', '/img.png']) {
      const res = await request(url(p), { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
      assert.equal(res.headers['content-encoding'], undefined, p);
      assert.equal(res.headers.vary, undefined, p);
    }
  });

  test('a keep-alive agent sends several requests on one socket', T, async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const sockets = new Set();
      const etag = (await request(url('/index.html'), { agent })).headers.etag;
      const steps = [
        ['/index.html', {}, 200], ['/index.html', { 'if-none-match': etag }, 304], ['/missing', {}, 404],
        ['/docs', {}, 301], ['/big.bin', {}, 200], ['/style.css', {}, 200],
      ];
      for (const [p, headers, status] of steps) {
        const res = await request(url(p), { agent, headers });
        assert.equal(res.status, status, p);
        sockets.add(res.socket);
      }
      const head = await request(url('/app.js'), { agent, method: 'HEAD' });
      sockets.add(head.socket);
      assert.equal(head.body.length, 0);
      assert.equal(sockets.size, 1, 'every request on the same socket');
    } finally {
      agent.destroy();
    }
  });

  test('undici fetch: body, type and 304', T, async () => {
    const res = await undici.fetch(url('/data.json'));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json; charset=utf-8');
    assert.deepEqual(await res.json(), { a: 1 });
    const again = await undici.fetch(url('/data.json'), { headers: { 'if-none-match': res.headers.get('etag') } });
    assert.equal(again.status, 304);
  });

  test('a 5 MB file arrives whole, to a fast reader and to one that stalls first', T, async () => {
    const fast = await undici.fetch(url('/big.bin'));
    assert.equal(sha(Buffer.from(await fast.arrayBuffer())), sha(tree.big));
    const sock = net.connect(srv().port, '127.0.0.1');
    sock.write('GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    sock.pause();
    await h.sleep(500); // the kernel's buffers fill; lws keeps the rest
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    sock.resume();
    await new Promise((resolve, reject) => { sock.on('end', resolve); sock.on('error', reject); });
    const all = Buffer.concat(chunks);
    const i = all.indexOf('\r\n\r\n');
    assert.match(all.subarray(0, i).toString(), /content-length: 5242880/i);
    assert.equal(sha(all.subarray(i + 4)), sha(tree.big));
  });

  test('Socket.IO still works beside a mount at /', T, async () => {
    const socket = await h.connect(srv().url);
    assert.equal(await socket.timeout(5000).emitWithAck('echo', 'hi'), 'hi');
    socket.close();
  });
});

/* ---- serveClient ----------------------------------------------------- */

const clientVersion = () => JSON.parse(fs.readFileSync(path.join(CLIENT_PKG, 'package.json'), 'utf8')).version;

test.describe('serveClient (on by default)', () => {
  const srv = h.serverFor(test);
  const url = (p) => `${srv().url}/socket.io/${p}`;

  test('every bundle and map is the socket.io-client package\'s file, tagged with its version', T, async () => {
    assert.equal(clientVersion(), '4.8.4');
    for (const f of CLIENT_FILES) {
      const res = await request(url(f));
      assert.equal(res.status, 200, f);
      assert.deepEqual(res.body, fs.readFileSync(path.join(CLIENT_DIST, f)), f);
      assert.equal(res.headers.etag, `"${clientVersion()}"`, f);
      assert.equal(res.headers['cache-control'], 'public, max-age=0', f);
      assert.equal(res.headers['content-type'],
        f.endsWith('.map') ? 'application/json; charset=utf-8' : 'application/javascript; charset=utf-8', f);
      assert.equal(res.headers['content-encoding'], undefined, f);
    }
  });

  test('If-None-Match with the version, strong or weak, gets 304', T, async () => {
    const tag = `"${clientVersion()}"`;
    for (const inm of [tag, `W/${tag}`]) {
      const res = await request(url('socket.io.min.js'), { headers: { 'if-none-match': inm } });
      assert.equal(res.status, 304, inm);
      assert.equal(res.body.length, 0);
    }
    assert.equal((await request(url('socket.io.min.js'), { headers: { 'if-none-match': '"4.0.0"' } })).status, 200);
  });

  test('gzip and deflate as Accept-Encoding asks, decoding to the same bytes', T, async () => {
    const want = fs.readFileSync(path.join(CLIENT_DIST, 'socket.io.js'));
    for (const [accept, enc] of [['gzip', 'gzip'], ['deflate', 'deflate'], ['gzip, deflate, br', 'gzip'],
      ['deflate;q=1, gzip;q=0.5', 'deflate'], ['identity', undefined], ['br', undefined]]) {
      const res = await request(url('socket.io.js'), { headers: { 'accept-encoding': accept } });
      assert.equal(res.headers['content-encoding'], enc, accept);
      if (enc) assert.ok(res.body.length < want.length / 2, `${accept}: ${res.body.length} bytes`);
      assert.deepEqual(decode(res), want, accept);
    }
    const viaUndici = await undici.fetch(url('socket.io.esm.min.js'));
    assert.equal(viaUndici.headers.get('content-encoding'), 'gzip');
    assert.deepEqual(Buffer.from(await viaUndici.arrayBuffer()),
      fs.readFileSync(path.join(CLIENT_DIST, 'socket.io.esm.min.js')));
  });

  test('HEAD, and a query string', T, async () => {
    const head = await request(url('socket.io.js'), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    assert.equal(head.headers['content-length'], String(fs.statSync(path.join(CLIENT_DIST, 'socket.io.js')).size));
    const q = await request(`${url('socket.io.min.js')}?v=4.8.4`);
    assert.equal(q.status, 200);
  });

  test('other names under the path stay Engine.IO\'s, and clients connect', T, async () => {
    for (const p of ['socket.io.JS', 'socket.io.min.js.gz', 'package.json', '../socket.io.js', 'dist/socket.io.js']) {
      const res = await request(url(p));
      assert.notEqual(res.status, 200, p);
    }
    const socket = await h.connect(srv().url);
    assert.equal(await socket.timeout(5000).emitWithAck('echo', 'x'), 'x');
    socket.close();
  });
});

test.describe('serveClient: false, httpCompression: false, and a bundle directory without the package', () => {
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-noclient-'));
  fs.writeFileSync(path.join(empty, 'long.txt'), 'x'.repeat(5000));
  const off = h.serverFor(test, {
    server: { static: [{ path: '/files', dir: empty }] },
    serverOptions: { serveClient: false, httpCompression: false },
  });
  const missing = h.serverFor(test, { serverOptions: { serveClient: { dir: empty } } });
  test.after(() => fs.rmSync(empty, { recursive: true, force: true }));

  test('serveClient: false leaves the bundle\'s path to Engine.IO (400 Transport unknown, as socket.io)', T, async () => {
    const res = await request(`${off().url}/socket.io/socket.io.js`);
    assert.equal(res.status, 400);
    assert.deepEqual(JSON.parse(res.body), { code: 0, message: 'Transport unknown' });
  });

  test('httpCompression: false sends static text files as they are', T, async () => {
    const res = await request(`${off().url}/files/long.txt`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], undefined);
    assert.equal(res.body.toString(), 'x'.repeat(5000));
  });

  test('a directory with no socket.io-client package: one warning at start, 404s, Socket.IO works', T, async () => {
    const warnings = missing().stderr().split('\n').filter((l) => /serveClient: no socket.io-client package/.test(l));
    assert.equal(warnings.length, 1, missing().stderr());
    assert.ok(warnings[0].includes(empty));
    for (const f of ['socket.io.js', 'socket.io.min.js.map']) {
      assert.equal((await request(`${missing().url}/socket.io/${f}`)).status, 404, f);
    }
    const socket = await h.connect(missing().url);
    socket.close();
  });
});

/* ---- against the Node socket.io server -------------------------------- */

test.describe('the client script as the Node socket.io server serves it', () => {
  const { Server } = require('socket.io');
  let node;
  let io;
  const plugio = h.serverFor(test, { serverOptions: { cors: { origin: 'http://app.example' } } });
  test.before(async () => {
    node = http.createServer();
    io = new Server(node, { cors: { origin: 'http://app.example' } });
    await new Promise((resolve) => node.listen(0, '127.0.0.1', resolve));
  });
  test.after(async () => {
    io.close();
    await new Promise((resolve) => node.close(resolve));
  });

  const HEADERS = ['etag', 'cache-control', 'content-type', 'content-encoding', 'access-control-allow-origin', 'vary'];
  const pick = (res) => Object.fromEntries(HEADERS.map((k) => [k, res.headers[k]]));

  test('same status, headers and (decoded) bytes for each file, encoding, tag and method', T, async () => {
    const cases = [];
    for (const f of CLIENT_FILES) cases.push({ f, headers: {} });
    for (const accept of ['gzip', 'deflate', 'gzip, deflate', 'deflate, gzip;q=0.8', 'identity', 'br;q=0, *', 'compress'] /* plugio has no brotli: br is left out */) {
      cases.push({ f: 'socket.io.min.js', headers: { 'accept-encoding': accept } });
    }
    for (const inm of ['"4.8.4"', 'W/"4.8.4"', '"4.8.3"', '*', '"4.8.4", "x"']) {
      cases.push({ f: 'socket.io.js', headers: { 'if-none-match': inm } });
    }
    cases.push({ f: 'socket.io.js', headers: {}, method: 'HEAD' });
    cases.push({ f: 'socket.io.js', headers: {}, method: 'POST' });
    cases.push({ f: 'socket.io.js?x=1', headers: {} });
    cases.push({ f: 'socket.io.jsx', headers: {} });
    for (const c of cases) {
      // The cors package always names the configured origin; plugio only
      // to a request that comes from it, which is what browsers send.
      c.headers.origin = 'http://app.example';
      const what = `${c.method || 'GET'} ${c.f} ${JSON.stringify(c.headers)}`;
      const opts = { method: c.method, headers: c.headers };
      const [n, p] = await Promise.all([
        request(`http://127.0.0.1:${node.address().port}/socket.io/${c.f}`, opts),
        request(`${plugio().url}/socket.io/${c.f}`, opts),
      ]);
      assert.equal(p.status, n.status, what);
      assert.deepEqual(pick(p), pick(n), what);
      if (n.status === 200) assert.deepEqual(decode(p), decode(n), what);
      else assert.deepEqual(p.body.toString(), n.body.toString(), what);
    }
  });
});
