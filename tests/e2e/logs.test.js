'use strict';
// server.log: {format: text|json, level} (host/base/log.c).  With
// format: json every line plugio writes on stderr is one JSON object
// (JSON Lines); a message a plugin logs while it handles a socket's event
// carries the plugin's name, the socket's id, the event and the namespace.
// A reload switches the format at once; a wrong format is refused at
// file:line:column, at start and on reload.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 30000 };
test.afterEach(() => h.closeAll());

const LOGGER = path.join(h.BUILD, 'plugins', 'logger', 'liblogger.so');
const CRASH_B = path.join(h.BUILD, 'tests', 'plugins', 'crash', 'libcrash_b.so');
const ISO_MS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

/* Namespace /logged: the logger plugin on connection and disconnect, the
 * e2e plugin's `say` (logs what it is given) and the crash plugin's
 * null_deref (a SIGSEGV, reported with a backtrace). */
const LOGGED = [
  { name: 'connection', namespace: '/logged', handler: 'logger:on_connection' },
  { name: 'disconnect', namespace: '/logged', handler: 'logger:on_disconnect' },
  { name: 'say', namespace: '/logged', handler: 'e2e:say' },
  { name: 'null', namespace: '/logged', handler: 'crash:null_deref' },
];

function start(log) {
  return h.startServer({
    server: log ? { log } : {},
    plugins: { logger: { path: LOGGER }, crash: { path: CRASH_B } },
    extraEvents: LOGGED,
  });
}

/* Every line of `text` parsed as JSON: a line that is not fails the test. */
function records(text) {
  const lines = text.split('\n');
  assert.equal(lines.pop(), '', 'the log ends with a newline');
  return lines.map((line) => {
    let r;
    assert.doesNotThrow(() => { r = JSON.parse(line); }, `not a JSON line: ${line}`);
    assert.equal(typeof r, 'object', line);
    assert.match(r.time, ISO_MS, line);
    assert.ok(['debug', 'info', 'warn', 'error'].includes(r.level), line);
    assert.equal(typeof r.msg, 'string', line);
    assert.ok((r.plugin === undefined) !== (r.component === undefined), `plugin or component: ${line}`);
    return r;
  });
}

async function waitFor(srv, pred, what, ms = 10000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = srv.stderr();
    const done = text.endsWith('\n') && pred(text);
    if (done) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} in:\n${text}`);
    await h.sleep(20);
  }
}

function rewrite(srv, doc) {
  const tmp = `${srv.yamlFile}.tmp`;
  fs.writeFileSync(tmp, h.toYaml(doc));
  fs.renameSync(tmp, srv.yamlFile);
}

test('format json: every stderr line is a JSON record; a plugin\'s carry its name, the socket id, the event and the namespace', T, async () => {
  const srv = await start({ format: 'json', level: 'debug' });
  const socket = await h.connect(`${srv.url}/logged`);
  const id = socket.id;
  const odd = 'quote " backslash \\ newline\nnul-free \u0001 tab\t é € 😀';
  await socket.timeout(5000).emitWithAck('say', odd, 0);
  await socket.timeout(5000).emitWithAck('say', 'a warning', 2);
  socket.close();
  await waitFor(srv, (t) => /disconnect \S+ from \/logged/.test(t), 'the logger\'s disconnect line');
  await h.stopChecked(srv);

  const all = records(srv.stderr());
  const host = all.find((r) => /listening on 127\.0\.0\.1:\d+/.test(r.msg));
  assert.ok(host, 'the host\'s own lines are JSON too');
  assert.equal(host.component, 'plugio');
  assert.equal(host.plugin, undefined);
  assert.equal(host.socket, undefined);

  const conn = all.find((r) => r.plugin === 'logger' && r.msg.startsWith('connection '));
  assert.ok(conn, 'the logger logged the connection');
  assert.equal(conn.socket, id);
  assert.equal(conn.event, 'connection');
  assert.equal(conn.nsp, '/logged');
  assert.equal(conn.level, 'info');

  const said = all.find((r) => r.plugin === 'e2e' && r.msg === odd);
  assert.ok(said, `the odd message came through intact: ${JSON.stringify(all.filter((r) => r.plugin === 'e2e'))}`);
  assert.deepEqual([said.level, said.socket, said.event, said.nsp], ['debug', id, 'say', '/logged']);
  const warned = all.find((r) => r.plugin === 'e2e' && r.msg === 'a warning');
  assert.equal(warned.level, 'warn');

  const gone = all.find((r) => r.plugin === 'logger' && r.msg.startsWith('disconnect '));
  assert.deepEqual([gone.socket, gone.event], [id, 'disconnect']);
});

test('format json: a fault report and its backtrace are records with the faulting socket and event', T, async () => {
  const srv = await start({ format: 'json' });
  const socket = await h.connect(`${srv.url}/logged`);
  const id = socket.id;
  const gone = h.next(socket, 'disconnect');
  socket.emit('null');
  await gone;
  await waitFor(srv, (t) => /quarantined/.test(t), 'the quarantine line');
  await h.stopChecked(srv);

  const all = records(srv.stderr());
  const fault = all.filter((r) => r.plugin === 'crash' && r.level === 'error' && r.socket === id);
  const head = fault.find((r) => /handler null_deref raised .*SIGSEGV/.test(r.msg));
  assert.ok(head, `the report: ${JSON.stringify(fault)}`);
  const frames = fault.filter((r) => /^ {2}#\d+ 0x[0-9a-f]+/.test(r.msg));
  assert.ok(frames.length >= 1, 'the backtrace, one record per frame');
  for (const r of [head, ...frames]) {
    assert.equal(r.event, 'null');
    assert.equal(r.nsp, '/logged');
  }
});

test('format json: a middleware\'s lines carry the socket and namespace, and no event', T, async () => {
  const srv = await h.startServer({
    server: { log: { format: 'json', level: 'debug' } },
    plugins: { auth: { path: path.join(h.BUILD, 'plugins', 'auth', 'libauth.so'), config: { tokens: { good: 'user' } } } },
    extraEvents: [{ name: 'connection', namespace: '/gated', handler: 'e2e:on_connection' }],
    middleware: [{ handler: 'auth:authenticate', namespace: '/gated' }],
  });
  const ok = await h.connect(`${srv.url}/gated`, { auth: { token: 'good' } });
  const id = ok.id;
  await waitFor(srv, (t) => t.includes(`"msg":"${id} is user"`), 'the middleware\'s debug line');
  await h.stopChecked(srv);
  const all = records(srv.stderr());
  const r = all.find((x) => x.msg === `${id} is user`);
  assert.deepEqual([r.plugin, r.level, r.nsp, r.socket, r.event], ['auth', 'debug', '/gated', id, undefined]);
});

test('format json: an ack callback\'s lines carry the socket that answered', T, async () => {
  const srv = await start({ format: 'json', level: 'debug' });
  const socket = await h.connect(srv.url);
  const id = socket.id;
  socket.on('question', (cb) => cb('yes'));
  const answer = h.next(socket, 'answer');
  socket.emit('ask', { event: 'question', tag: 'T1', timeout: 5000 });
  assert.equal((await answer)[0].status, 'ok');
  await waitFor(srv, (t) => t.includes('"msg":"ack callback for T1: answered"'), 'the callback\'s line');
  await h.stopChecked(srv);
  const r = records(srv.stderr()).find((x) => x.msg === 'ack callback for T1: answered');
  assert.deepEqual([r.plugin, r.nsp, r.socket, r.event], ['e2e', '/', id, undefined]);
});

test('level info drops a plugin\'s debug line; the text format stays as it was', T, async () => {
  const srv = await start({ level: 'info' });
  const socket = await h.connect(`${srv.url}/logged`);
  await socket.timeout(5000).emitWithAck('say', 'quiet', 0);
  await socket.timeout(5000).emitWithAck('say', 'loud', 1);
  await waitFor(srv, (t) => /e2e: loud/.test(t), 'the info line');
  const text = srv.stderr();
  assert.match(text, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z INFO {2}e2e: loud$/m);
  assert.doesNotMatch(text, /quiet/);
  assert.doesNotMatch(text, /^\{/m, 'no JSON in the text format');
  await h.stopChecked(srv);
});

test('a reload switches text to json at once; a wrong format in the reload is refused at file:line:column', T, async () => {
  const srv = await start(null);
  const socket = await h.connect(`${srv.url}/logged`);
  const id = socket.id;
  await waitFor(srv, (t) => /INFO {2}logger: connection /.test(t), 'the text connection line');
  const before = srv.stderr().length;

  const doc = structuredClone(srv.doc);
  doc.server.log = { format: 'json', level: 'debug' };
  rewrite(srv, doc);
  await waitFor(srv, (t) => /"msg":"reload #1 done/.test(t), 'reload #1 in JSON');
  await socket.timeout(5000).emitWithAck('say', 'after the reload', 0);
  await waitFor(srv, (t) => /after the reload/.test(t), 'the say line');

  const bad = structuredClone(doc);
  bad.server.log = { format: 'xml' };
  rewrite(srv, bad);
  await waitFor(srv, (t) => /reload failed/.test(t), 'the failed reload');
  await h.stopChecked(srv);

  /* Text up to the reload's switch, JSON from it on, to the end. */
  const lines = srv.stderr().slice(before).split('\n');
  const first = lines.findIndex((l) => l.startsWith('{'));
  assert.ok(first > 0, 'text before the switch');
  for (const l of lines.slice(0, first)) assert.match(l, /^\d{4}-\d\d-\d\dT\S+Z (INFO |DEBUG|WARN |ERROR) \S+: /);
  const after = records(lines.slice(first).join('\n'));
  assert.ok(after.some((r) => /^reload #1 done/.test(r.msg)), 'at once: the reload\'s own line is JSON');
  const said = after.find((r) => r.msg === 'after the reload');
  assert.deepEqual([said.plugin, said.socket, said.event, said.level], ['e2e', id, 'say', 'debug']);

  const yaml = fs.readFileSync(srv.yamlFile, 'utf8').split('\n');
  const line = yaml.findIndex((l) => l.includes('"xml"'));
  const col = yaml[line].indexOf('"xml"') + 1;
  const err = after.find((r) => r.msg.includes('unknown log format'));
  assert.ok(err, 'the error is a JSON record: the format in force is kept');
  assert.equal(err.msg, `${srv.yamlFile}:${line + 1}:${col}: unknown log format 'xml' (plugio has text and json)`);
  assert.ok(after.some((r) => /reload failed/.test(r.msg)));
});

test('a wrong format or level stops the start with file:line:column', T, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-logs-'));
  const file = path.join(dir, 'plugio.yaml');
  fs.writeFileSync(file, 'server:\n  port: 0\n  log:\n    format: yaml\n    level: chatty\n');
  const r = spawnSync(h.PLUGIO, [file], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, new RegExp(`^${file.replace(/[.]/g, '\\.')}:4:13: unknown log format 'yaml' \\(plugio has text and json\\)$`, 'm'));
  assert.match(r.stderr, new RegExp(`^${file.replace(/[.]/g, '\\.')}:5:12: unknown log level 'chatty' \\(debug, info, warn or error\\)$`, 'm'));
});

test('--log-level wins over server.log.level, at start and on reload; the format still follows the file', T, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-logs-'));
  const file = path.join(dir, 'plugio.yaml');
  const yaml = (level, more = '') =>
    `server:\n  host: 127.0.0.1\n  port: 0\n${more}  log: {format: json, level: ${level}}\n`;
  fs.writeFileSync(file, yaml('error'));
  const child = spawn(h.PLUGIO, ['--log-level', 'info', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const srv = { stderr: () => stderr };
    /* Info lines, which level: error would drop. */
    await waitFor(srv, (t) => /"msg":"listening on 127\.0\.0\.1:\d+"/.test(t), 'the listening line');
    fs.writeFileSync(`${file}.tmp`, yaml('warn', '  maxConnections: 100\n'));
    fs.renameSync(`${file}.tmp`, file);
    await waitFor(srv, (t) => /"msg":"reload #1 done/.test(t), 'reload #1, an info line');
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, stderr);
  assert.equal(h.sanitizerReport(stderr), null, stderr);
  assert.ok(records(stderr).some((r) => r.level === 'info'));
});
