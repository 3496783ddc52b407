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
