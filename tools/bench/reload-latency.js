#!/usr/bin/env node
'use strict';
/*
 * reload-latency - how long from a plugin file's final write to the first
 * event answered by the new version, while clients keep sending.
 *
 *   node tools/bench/reload-latency.js [--reloads 100] [--clients 20] [--idle N] [--build DIR]
 *
 * Starts plugio (from DIR, default <repo>/build: build it without
 * sanitizers) on 127.0.0.1 with the `reload` test plugin, keeps
 * --clients websocket clients sending acked `which` events back to back,
 * and --reloads times installs the other build of the plugin (written to
 * a temporary file, then renamed into place: the "final write" is the
 * rename).  Each latency runs from the rename to the first answer that
 * comes from the new build.  Prints p50, p99, min and max in ms.
 * --idle N also holds N idle Socket.IO connections open throughout (the C
 * load generator's connect scenario, which answers pings), as a real
 * server has them.
 */
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const { io } = require('socket.io-client');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const REPO = path.resolve(__dirname, '..', '..');
const BUILD = path.resolve(opt('build', path.join(REPO, 'build')));
const RELOADS = Number(opt('reloads', 100));
const CLIENTS = Number(opt('clients', 20));
const IDLE = Number(opt('idle', 0));
const builds = { a: 'libreload_a.so', b: 'libreload_b.so' };
const pluginDir = path.join(BUILD, 'tests', 'plugins', 'reload');

const now = () => Number(process.hrtime.bigint()) / 1e6;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-bench-reload-'));
  const live = path.join(dir, 'libreload.so');
  fs.copyFileSync(path.join(pluginDir, builds.a), live);
  const yaml = path.join(dir, 'plugio.yaml');
  fs.writeFileSync(yaml, [
    'server: { host: 127.0.0.1, port: 0 }',
    `plugins: { reload: "${live}" }`,
    'events:',
    '  - { name: which, handler: "reload:which" }',
    '',
  ].join('\n'));
  const child = spawn(path.join(BUILD, 'host', 'plugio'), [yaml],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`plugio did not start:\n${stderr}`)), 5000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
  });
  const url = `http://127.0.0.1:${port}`;
  let holder = null;
  if (IDLE > 0) {
    holder = spawn(path.join(BUILD, 'tools', 'bench', 'loadgen'),
      ['--port', String(port), '--scenario', 'connect', '--clients', String(IDLE),
        '--settle', '3600', '--connect-timeout', '120'], { stdio: 'ignore' });
    const fds = () => fs.readdirSync(`/proc/${child.pid}/fd`).length;
    const deadline = Date.now() + 120000;
    while (fds() < IDLE && Date.now() < deadline) await sleep(100);
    if (fds() < IDLE) throw new Error(`only ${fds()} descriptors open, wanted ${IDLE} idle connections`);
  }

  let current = 'a';
  let pending = null; // {id, at, resolve}
  let running = true;
  let events = 0;
  const sockets = await Promise.all(Array.from({ length: CLIENTS }, () => new Promise((resolve, reject) => {
    const s = io(url, { transports: ['websocket'], reconnection: false });
    s.once('connect', () => resolve(s));
    s.once('connect_error', reject);
  })));
  const loops = sockets.map(async (s) => {
    while (running) {
      const id = await s.timeout(10000).emitWithAck('which');
      events++;
      if (pending && id === pending.id) {
        const p = pending;
        pending = null;
        p.resolve(now() - p.at);
      }
    }
  });

  const latencies = [];
  for (let i = 0; i < RELOADS; i++) {
    const next = current === 'a' ? 'b' : 'a';
    const tmp = `${live}.tmp`;
    fs.copyFileSync(path.join(pluginDir, builds[next]), tmp);
    const seen = new Promise((resolve) => { pending = { id: next, at: now(), resolve }; });
    fs.renameSync(tmp, live);
    pending.at = now();
    latencies.push(await seen);
    current = next;
    await sleep(20);
  }
  running = false;
  await Promise.all(loops);
  sockets.forEach((s) => s.close());
  if (holder) holder.kill('SIGTERM');
  child.kill('SIGTERM');

  latencies.sort((x, y) => x - y);
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)];
  const failed = (stderr.match(/reload failed/g) || []).length;
  console.log(`reloads: ${RELOADS} under load from ${CLIENTS} websocket clients (${events} events answered)` +
    (IDLE ? `, ${IDLE} idle connections open` : ''));
  console.log(`final write -> first event answered by the new version (ms): ` +
    `p50 ${pct(50).toFixed(1)}  p99 ${pct(99).toFixed(1)}  min ${latencies[0].toFixed(1)}  max ${latencies.at(-1).toFixed(1)}`);
  console.log(`failed reloads: ${failed}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((e) => { console.error(e); process.exit(1); });
