#!/usr/bin/env node
'use strict';
/*
 * report.js RAW - the markdown tables of a tools/bench/strapi/run: the
 * median and range over the runs of each figure bench.js printed, for
 * plugio and the Node.js reference, and plugio ÷ Node; then each process's
 * CPU use per phase (percent of one core), which says what limited it.
 */
const { readResults, median } = require('../results');

const { machine, elapsed, results, failed: failedPairs, discarded: discardedPairs } =
  readResults(process.argv[2]);
const failed = failedPairs.map((f) => `FAILED ${Object.entries(f).map(([k, v]) => `${k}=${v}`).join(' ')}`);
const discarded = discardedPairs.filter((d) => d.case === 'handshake-cold').length;

function stats(c, server, key) {
  const xs = (results.get(c)?.get(server) || []).map((r) => Number(r[key])).filter((x) => Number.isFinite(x) && x >= 0);
  if (!xs.length) return undefined;
  return { med: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}
function fmt(v, unit) {
  if (unit === 'rate') return v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e3 ? `${(v / 1e3).toFixed(1)}k` : v.toFixed(0);
  if (unit === 'kb') return `${(v / 1024).toFixed(1)} MB`;
  if (unit === 'pct') return `${v.toFixed(0)}%`;
  if (unit === 'int') return v.toFixed(0);
  return v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2);
}
function cell(c, server, key, unit) {
  const s = stats(c, server, key);
  if (!s) return '—';
  let t = fmt(s.med, unit);
  if (s.n > 1 && fmt(s.min, unit) !== fmt(s.max, unit)) t += ` (${fmt(s.min, unit)}–${fmt(s.max, unit)})`;
  return t;
}
function ratio(c, key) {
  const a = stats(c, 'plugio', key);
  const b = stats(c, 'node', key);
  return a && b && b.med > 0 ? `${(a.med / b.med).toFixed(2)}×` : '—';
}
// Server CPU per unit of work (µs), from each record's CPU share and rate:
// what the server spent, whoever limited the rate.
for (const [c, by] of results) {
  for (const rs of by.values()) {
    for (const r of rs) {
      const rate = Number(r.conn_rate ?? r.deliv_rate);
      if (rate > 0 && r.srv_cpu !== undefined) r.srv_us = String((Number(r.srv_cpu) * 1e4) / rate);
      if (r.hook_rate > 0 && r.srv_cpu !== undefined) r.srv_us_hook = String((Number(r.srv_cpu) * 1e4) / Number(r.hook_rate));
    }
  }
}

const rows = [
  ['handshake-cold', 'conn_rate', 'rate', 'connections/s (cold cache)', 'higher'],
  ['handshake-cold', 'p50_ms', 'ms', 'connect p50, ms', 'lower'],
  ['handshake-cold', 'p99_ms', 'ms', 'connect p99, ms', 'lower'],
  ['handshake-cold', 'srv_us', 'us', 'server CPU per connection, µs', 'lower'],
  ['handshake-warm', 'conn_rate', 'rate', 'connections/s (warm cache)', 'higher'],
  ['handshake-warm', 'p50_ms', 'ms', 'connect p50, ms', 'lower'],
  ['handshake-warm', 'p99_ms', 'ms', 'connect p99, ms', 'lower'],
  ['handshake-warm', 'srv_us', 'us', 'server CPU per connection, µs', 'lower'],
  ['webhook-fanout', 'hook_rate', 'rate', 'webhooks/s accepted', 'higher'],
  ['webhook-fanout', 'deliv_rate', 'rate', 'deliveries/s at the clients', 'higher'],
  ['webhook-fanout', 'srv_us', 'us', 'server CPU per delivery, µs', 'lower'],
  ['webhook-fanout', 'p50_ms', 'ms', 'POST → client p50, ms', 'lower'],
  ['webhook-fanout', 'p99_ms', 'ms', 'POST → client p99, ms', 'lower'],
  ['rss', 'rss_kb', 'kb', 'server RSS after the fan-out', 'lower'],
  ['rss', 'hwm_kb', 'kb', 'server peak RSS (VmHWM)', 'lower'],
];

const out = [];
out.push(`Machine: ${machine.cpu || '?'}, ${machine.nproc || '?'} cores, Linux ${machine.kernel || '?'}, ` +
  `Node.js ${machine.node || '?'}, socket.io ${machine.socketio || '?'}; ${machine.pinning || '?'}; ` +
  `${machine.runs || '?'} run(s), ${machine.clients} clients, ${machine.inflight} webhooks in flight, ` +
  `${machine.duration} s windows, client ${machine.client}, stub latency ${machine.latency_ms} ms; commit ${machine.commit} (${machine.tree}); ` +
  `load average ${machine.loadavg}; ${elapsed.seconds || '?'} s.`);
out.push('');
out.push('| phase | figure | plugio | Node.js | plugio ÷ Node |');
out.push('| --- | --- | --- | --- | --- |');
for (const [c, key, unit, label, better] of rows) {
  out.push(`| ${c} | ${label} | ${cell(c, 'plugio', key, unit)} | ${cell(c, 'node', key, unit)} | ` +
    `${ratio(c, key)} (${better} is better) |`);
}
out.push('');
out.push('CPU use per phase, median (range), percent of one core: the server (core 0), the stub and the load ' +
  'generator (core 1), and other processes on core 0 / core 1 (other sessions on a shared machine):');
out.push('');
out.push('| phase | bridge | server | stub | generator | others on core 0 / core 1 | look-ups at the stub / connections they used (median of the runs) |');
out.push('| --- | --- | --- | --- | --- | --- | --- |');
for (const c of ['handshake-cold', 'handshake-warm', 'webhook-fanout']) {
  for (const s of ['plugio', 'node']) {
    const [a, b, g] = ['srv_cpu', 'stub_cpu', 'gen_cpu'].map((k) => cell(c, s, k, 'pct'));
    const o = stats(c, s, 'other_c0') ? `${cell(c, s, 'other_c0', 'pct')} / ${cell(c, s, 'other_c1', 'pct')}`
      : cell(c, s, 'other_all', 'pct');
    const lk = c === 'webhook-fanout' ? '—' : `${cell(c, s, 'lookups', 'int')} / ${cell(c, s, 'stub_conns', 'int')}`;
    out.push(`| ${c} | ${s === 'node' ? 'Node.js' : s} | ${a} | ${b} | ${g} | ${o} | ${lk} |`);
  }
}
const errs = [];
for (const [c, by] of results) {
  for (const [s, rs] of by) {
    const e = rs.reduce((a, r) => a + Number(r.errors || 0) + Number(r.lost || 0), 0);
    if (e) errs.push(`${s} ${c}: ${e} error(s) or lost event(s)`);
  }
}
out.push('');
out.push(errs.length || failed.length ? `⚠ ${[...errs, ...failed].join('; ')}` : 'No errors, no lost events.');
if (discarded) out.push(`${discarded} measurement(s) made again: other processes took 20% of a core or more.`);
console.log(out.join('\n'));
