'use strict';
// The plugio command itself: --check, and a configuration error at start-up.
const test = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const h = require('./helpers');

const T = { timeout: 15000 };

function writeConfig(text) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-cli-'));
  const file = path.join(dir, 'plugio.yaml');
  fs.writeFileSync(file, text);
  return file;
}

function plugio(...args) {
  return spawnSync(h.PLUGIO, args, { encoding: 'utf8', timeout: 10000 });
}

const GOOD = h.toYaml({
  server: { host: '127.0.0.1', port: 0 },
  plugins: { e2e: h.PLUGIN },
  events: [{ name: 'echo', handler: 'e2e:echo' }],
});

test('--check accepts a good configuration (exit 0)', T, () => {
  const r = plugio('--check', writeConfig(GOOD));
  assert.equal(r.status, 0, r.stderr);
});

function badConfig(handler, extra = []) {
  return writeConfig([
    'server:',
    '  host: 127.0.0.1',
    '  port: 0',
    'plugins:',
    `  e2e: ${JSON.stringify(h.PLUGIN)}`,
    'events:',
    '  - name: echo',
    `    handler: "${handler}"`,
    ...extra,
    '',
  ].join('\n'));
}

function errorLines(r, file) {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith(`${file}:`));
  for (const l of lines) assert.match(l, /^.+:\d+:\d+: .+/);
  return lines;
}

test('--check reports every schema error as file:line:col and exits 2', T, () => {
  const file = badConfig('e2e:echo', ['  - name: other', '    handler: "nobody:echo"', 'bogus_key: 1']);
  const r = plugio('--check', file);
  assert.equal(r.status, 2, `exit ${r.status}\n${r.stderr}`);
  const lines = errorLines(r, file);
  assert.ok(lines.some((l) => l.startsWith(`${file}:10:`) && /nobody/.test(l)), r.stderr);
  assert.ok(lines.some((l) => l.startsWith(`${file}:11:`) && /bogus_key/.test(l)), r.stderr);
});

test('--check reports a symbol the plugin does not export at its line', T, () => {
  const file = badConfig('e2e:no_such_symbol');
  const r = plugio('--check', file);
  assert.equal(r.status, 2, `exit ${r.status}\n${r.stderr}`);
  const lines = errorLines(r, file);
  assert.ok(lines.some((l) => l.startsWith(`${file}:8:`) && /no_such_symbol/.test(l)), r.stderr);
});

test('serving a bad configuration exits 2 without listening', T, () => {
  const file = writeConfig(GOOD.replace('e2e:echo', 'e2e:missing_handler'));
  const r = plugio(file);
  assert.equal(r.status, 2, r.stderr);
  assert.doesNotMatch(r.stderr, /listening on/);
  assert.match(r.stderr, /missing_handler/);
});

test('a relative plugin path resolves against the YAML file directory', T, () => {
  const file = writeConfig(GOOD);
  const rel = path.relative(path.dirname(file), h.PLUGIN);
  fs.writeFileSync(file, GOOD.replace(JSON.stringify(h.PLUGIN), JSON.stringify(rel)));
  const r = plugio('--check', file);
  assert.equal(r.status, 0, r.stderr);
});

// A handler must be a function of the plugin itself: the descriptor (a
// data object) or a libc function found through the plugin's handle would
// be called into garbage at the first event.
test('--check refuses a data symbol and a dependency\'s function as handlers, at their lines', T, () => {
  const file = badConfig('e2e:pio_plugin', ['  - name: other', '    handler: "e2e:malloc"']);
  const r = plugio('--check', file);
  assert.equal(r.status, 2, `exit ${r.status}\n${r.stderr}`);
  const lines = errorLines(r, file);
  assert.ok(lines.some((l) => l.startsWith(`${file}:8:14: plugin 'e2e' (`) &&
    /: 'pio_plugin' is a data object, not a function$/.test(l)), r.stderr);
  assert.ok(lines.some((l) => l.startsWith(`${file}:10:14: plugin 'e2e' (`) &&
    /: 'malloc' is defined in lib\S+, not in the plugin$/.test(l)), r.stderr);
  assert.match(r.stderr, /2 errors/);
});

test('a reload to a configuration naming a data symbol is refused; the old one keeps serving', T, async () => {
  const srv = await h.startServer({ events: [{ name: 'echo', handler: 'e2e:echo' }] });
  try {
    const socket = await h.connect(srv.url, { transports: ['websocket'] });
    assert.deepEqual(await socket.timeout(3000).emitWithAck('echo', 'before'), 'before');
    const bad = structuredClone(srv.doc);
    bad.events.push({ name: 'boom', handler: 'e2e:pio_plugin' });
    const tmp = `${srv.yamlFile}.tmp`;
    fs.writeFileSync(tmp, h.toYaml(bad));
    fs.renameSync(tmp, srv.yamlFile);
    const deadline = Date.now() + 5000;
    while (!/reload failed/.test(srv.stderr())) {
      assert.ok(Date.now() < deadline, `no reload outcome\n${srv.stderr()}`);
      await h.sleep(10);
    }
    assert.match(srv.stderr(), /plugio\.yaml:\d+:\d+: plugin 'e2e' \(.*\): 'pio_plugin' is a data object, not a function/);
    // Nothing was bound to it: no handler, no ack, and the host lives on.
    await assert.rejects(socket.timeout(500).emitWithAck('boom', 'x'));
    assert.deepEqual(await socket.timeout(3000).emitWithAck('echo', 'after'), 'after');
    assert.equal(socket.connected, true);
  } finally {
    h.closeAll();
    const { code } = await srv.stop();
    assert.equal(h.sanitizerReport(srv.stderr()), null, srv.stderr());
    assert.equal(code, 0, srv.stderr());
  }
});
