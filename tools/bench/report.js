#!/usr/bin/env node
'use strict';
/*
 * report.js RAW - the markdown table of a tools/bench/run: reads the RESULT
 * lines loadgen printed (with server= and case= added by run), takes the
 * median and range of each figure over the runs, and checks the targets
 * of issue 6.  Written in JavaScript because Node is needed for the
 * baseline anyway.
 */
const { readResults, median } = require('./results');

const { machine, elapsed, results, failed } = readResults(process.argv[2]);

function fmt(v, unit) {
  if (v === undefined || Number.isNaN(v)) return '—';
  if (unit === 'rate') {
    if (v >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
    if (v >= 1e3) return `${(v / 1e3).toFixed(1)}k`;
    return v.toFixed(0);
  }
  if (unit === 'bytes') return v >= 10240 ? `${(v / 1024).toFixed(1)} KB` : `${v.toFixed(0)} B`;
  if (unit === 'int') return v.toFixed(0);
  if (unit === 'pct') return `${v.toFixed(0)}%`;
  if (v >= 1000) return v.toFixed(0);
  if (v >= 100) return v.toFixed(0);
  if (v >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

// stats(case, server, key) -> {med, min, max, n} or undefined
function stats(c, server, key) {
  const rs = results.get(c)?.get(server);
  if (!rs) return undefined;
  const xs = rs.map((r) => Number(r[key])).filter((x) => Number.isFinite(x) && x >= 0);
  if (!xs.length) return undefined;
  return { med: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

function cell(c, server, key, unit) {
  const s = stats(c, server, key);
  if (!s) return '—';
  const rs = results.get(c).get(server);
  const errs = rs.reduce((a, r) => a + Number(r.errors || 0) + Number(r.lost || 0) + Number(r.failed || 0), 0);
  let text = fmt(s.med, unit);
  if (s.n > 1 && s.min !== s.max && unit !== 'int') text += ` (${fmt(s.min, unit)}–${fmt(s.max, unit)})`;
  if (s.n > 1 && unit === 'int' && s.min !== s.max) text += ` (${s.min}–${s.max})`;
  if (errs && key === keyOfFirst(c)) text += ` ⚠ ${errs} error(s)`;
  return text;
}

function ratio(c, key, other) {
  const a = stats(c, 'plugio', key);
  const b = stats(c, other, key);
  if (!a || !b || !b.med) return '—';
  return `${(a.med / b.med).toFixed(2)}×`;
}

const figures = {
  ack: [
    ['rate', 'acked events/s', 'rate'],
    ['p50_us', 'latency p50 (µs)'],
    ['p99_us', 'latency p99 (µs)'],
    ['p999_us', 'latency p99.9 (µs)'],
    ['srv_us_per_event', 'server CPU µs/event'],
    ['srv_cpu_pct', 'server CPU', 'pct'],
    ['gen_cpu_pct', 'loadgen CPU', 'pct'],
  ],
  fanout: [
    ['rate', 'deliveries/s', 'rate'],
    ['p50_us', 'delivery latency p50 (µs)'],
    ['p99_us', 'delivery latency p99 (µs)'],
    ['p999_us', 'delivery latency p99.9 (µs)'],
    ['srv_us_per_event', 'server CPU µs/delivery'],
    ['srv_cpu_pct', 'server CPU', 'pct'],
    ['gen_cpu_pct', 'loadgen CPU', 'pct'],
  ],
  connect: [
    ['conn_rate', 'connections/s', 'rate'],
    ['rate_first_1000', 'connections/s, first 1000', 'rate'],
    ['rate_last_1000', 'connections/s, last 1000', 'rate'],
    ['rss_per_conn_b', 'server RSS per idle connection', 'bytes'],
    ['srv_us_per_conn', 'server CPU µs/connection'],
    ['srv_cpu_pct', 'server CPU', 'pct'],
    ['gen_cpu_pct', 'loadgen CPU', 'pct'],
  ],
  idle: [
    ['rate', 'acked events/s (100×1)', 'rate'],
    ['p99_us', 'latency p99 (µs)'],
    ['srv_us_per_event', 'server CPU µs/event'],
    ['srv_cpu_pct', 'server CPU', 'pct'],
    ['gen_cpu_pct', 'loadgen CPU', 'pct'],
  ],
  reload: [
    ['rate', 'acked events/s', 'rate'],
    ['p99_us', 'latency p99 (µs)'],
    ['swap_p99_us', 'p99 of events sent ≤100 ms after a swap (µs)'],
    ['swaps', 'plugin files swapped', 'int'],
    ['reloads_done', 'reloads done (plugio log)', 'int'],
    ['reloads_failed', 'reloads failed (plugio log)', 'int'],
    ['lost', 'lost events', 'int'],
    ['dup', 'duplicate acks', 'int'],
    ['errors', 'errors', 'int'],
  ],
};
figures.cluster = figures.fanout; // two nodes of each kind joined through redis-server
const keyOfFirst = (c) => figures[c.split('-')[0]][0][0];

const out = [];
const p = (s = '') => out.push(s);
const shape = (c) => (c.startsWith('idle-') ? `ack 100×1, ${c.slice(5)} idle connections`
  : c.startsWith('cluster-') ? `fanout ${c.slice(8).replace(/(\d+)x(\d+)/, '$1×$2')} across 2 nodes (Redis adapter)`
    : c.replace('-', ' ').replace(/(\d+)x(\d+)/, '$1×$2').replace('+adapter', ', Redis adapter installed'));
p('| scenario | figure | plugio | Node socket.io | bare lws echo | plugio/Node | plugio/echo |');
p('| --- | --- | --- | --- | --- | --- | --- |');
for (const c of results.keys()) {
  const kind = c.split('-')[0];
  let first = true;
  for (const [key, label, unit] of figures[kind]) {
    const name = first ? `**${shape(c)}**` : '';
    first = false;
    p(`| ${name} | ${label} | ${cell(c, 'plugio', key, unit)} | ${cell(c, 'node', key, unit)} | ` +
      `${cell(c, 'echo', key, unit)} | ${ratio(c, key, 'node')} | ${ratio(c, key, 'echo')} |`);
  }
}
for (const f of failed) p(`\nFAILED: ${f.server} ${f.case}${f.rc ? ` (loadgen exit ${f.rc})` : ''}`);

// ---- targets -------------------------------------------------------------
const med = (c, s, k) => stats(c, s, k)?.med;
const targets = [];
function target(name, ok, detail) {
  targets.push(`| ${name} | ${ok === undefined ? 'n/a' : ok ? '**met**' : '**missed**'} | ${detail} |`);
}
const pct = (a, b) => (a !== undefined && b ? `${((100 * a) / b).toFixed(1)}%` : '—');
const x = (a, b) => (a !== undefined && b ? `${(a / b).toFixed(2)}×` : '—');
for (const c of ['ack-100x1', 'ack-1000x1']) {
  if (!results.has(c)) continue;
  const pr = med(c, 'plugio', 'rate'), er = med(c, 'echo', 'rate'), nr = med(c, 'node', 'rate');
  const pc = med(c, 'plugio', 'srv_us_per_event'), ec = med(c, 'echo', 'srv_us_per_event');
  target(`${shape(c)}: events/s ≥ 85% of echo`, pr !== undefined && er ? pr >= 0.85 * er : undefined,
    `${fmt(pr, 'rate')} vs ${fmt(er, 'rate')} = ${pct(pr, er)}`);
  target(`${shape(c)}: server CPU/event ≤ 1.25× echo`, pc !== undefined && ec ? pc <= 1.25 * ec : undefined,
    `${fmt(pc)} µs vs ${fmt(ec)} µs = ${x(pc, ec)}`);
  target(`${shape(c)}: events/s ≥ 2× Node`, pr !== undefined && nr ? pr >= 2 * nr : undefined,
    `${fmt(pr, 'rate')} vs ${fmt(nr, 'rate')} = ${x(pr, nr)}`);
}
if (results.has('ack-100x16')) {
  const c = 'ack-100x16';
  const pr = med(c, 'plugio', 'rate'), er = med(c, 'echo', 'rate');
  target('ack 100×16: events/s ≥ echo', pr !== undefined && er ? pr >= er : undefined,
    `${fmt(pr, 'rate')} vs ${fmt(er, 'rate')} = ${pct(pr, er)}`);
}
if (results.has('ack-100x1')) {
  const pp = med('ack-100x1', 'plugio', 'p99_us'), np = med('ack-100x1', 'node', 'p50_us');
  target('ack 100×1: plugio p99 < Node p50', pp !== undefined && np ? pp < np : undefined,
    `${fmt(pp)} µs vs ${fmt(np)} µs`);
}
for (const c of results.keys()) {
  if (!c.startsWith('fanout') || c.endsWith('+adapter')) continue;
  const pr = med(c, 'plugio', 'rate'), nr = med(c, 'node', 'rate');
  target(`${shape(c)}: deliveries/s ≥ 5× Node`, pr !== undefined && nr ? pr >= 5 * nr : undefined,
    `${fmt(pr, 'rate')} vs ${fmt(nr, 'rate')} = ${x(pr, nr)}`);
}
for (const c of results.keys()) {
  if (!c.startsWith('cluster')) continue;
  const pr = med(c, 'plugio', 'rate'), nr = med(c, 'node', 'rate');
  target(`${shape(c)}: deliveries/s ≥ 3× Node`, pr !== undefined && nr ? pr >= 3 * nr : undefined,
    `${fmt(pr, 'rate')} vs ${fmt(nr, 'rate')} = ${x(pr, nr)}`);
}
for (const c of results.keys()) {
  if (!c.endsWith('+adapter')) continue;
  const plain = c.slice(0, -'+adapter'.length);
  const a = med(c, 'plugio', 'rate'), b = med(plain, 'plugio', 'rate');
  target(`${shape(c)}: ≥ 95% of the rate without it`, a !== undefined && b ? a >= 0.95 * b : undefined,
    `${fmt(a, 'rate')} vs ${fmt(b, 'rate')} = ${pct(a, b)}`);
}
for (const c of results.keys()) {
  if (!c.startsWith('connect')) continue;
  const pm = med(c, 'plugio', 'rss_per_conn_b'), nm = med(c, 'node', 'rss_per_conn_b');
  target(`${shape(c)}: RSS/connection ≤ 1/8 of Node's`, pm !== undefined && nm ? pm <= nm / 8 : undefined,
    `${fmt(pm, 'bytes')} vs ${fmt(nm, 'bytes')} (1/8 = ${nm ? fmt(nm / 8, 'bytes') : '—'})`);
}
for (const c of results.keys()) {
  if (!c.startsWith('connect')) continue;
  const f = med(c, 'plugio', 'rate_first_1000'), l = med(c, 'plugio', 'rate_last_1000');
  target(`${shape(c)}: rate over the last 1000 within 20% of the first 1000`,
    f !== undefined && l !== undefined ? l >= 0.8 * f : undefined, `${fmt(l, 'rate')} vs ${fmt(f, 'rate')} = ${pct(l, f)}`);
  const pm = med(c, 'plugio', 'rss_per_conn_b');
  target(`${shape(c)}: RSS per idle connection ≤ 2,000 B`, pm !== undefined ? pm <= 2000 : undefined,
    `${fmt(pm, 'bytes')}`);
}
for (const c of results.keys()) {
  if (!c.startsWith('reload')) continue;
  const rs = results.get(c).get('plugio') || [];
  const bad = rs.reduce((a, r) => a + Number(r.lost || 0) + Number(r.dup || 0) + Number(r.errors || 0), 0);
  const swaps = rs.reduce((a, r) => a + Number(r.swaps || 0), 0);
  target(`${shape(c)}: 0 lost or failed events`, rs.length ? bad === 0 : undefined,
    `${bad} lost/duplicate/failed over ${rs.length} run(s), ${swaps} swaps`);
}

{
  const idle = [...results.keys()].filter((c) => c.startsWith('idle-')).map((c) => Number(c.slice(5)));
  const base = med('idle-0', 'plugio', 'rate');
  for (const n of idle.filter((k) => k > 0).sort((a, b) => a - b)) {
    const want = n >= 19000 || n === Math.max(...idle) ? 0.80 : 0.85;
    const r = med(`idle-${n}`, 'plugio', 'rate');
    target(`ack 100×1 with ${n} idle: ≥ ${want * 100}% of the rate with none`,
      r !== undefined && base ? r >= want * base : undefined, `${fmt(r, 'rate')} vs ${fmt(base, 'rate')} = ${pct(r, base)}`);
  }
}
p();
p('| target | | plugio (medians) |');
p('| --- | --- | --- |');
out.push(...targets);
p();
p(`Machine: ${machine.nproc} cores, ${machine.cpu}, Linux ${machine.kernel}, libwebsockets ${machine.lws}, ` +
  `Node ${machine.node}, socket.io ${machine.socketio}; ${machine.pinning}; ${machine.runs} run(s) per figure ` +
  `(median, range in parentheses), ${machine.warmup} s warm-up + ${machine.duration} s window; ` +
  `load average ${machine.loadavg} at start, ${elapsed.loadavg_end ?? '?'} at end; ` +
  `${elapsed.seconds ?? '?'} s in all; commit ${machine.commit} (host/ and sdk/ ${machine.tree}).`);
process.stdout.write(out.join('\n') + '\n');
