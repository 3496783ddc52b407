'use strict';
/*
 * results.js - what the benchmark reports share: the raw file's lines read
 * (MACHINE, ELAPSED, FAILED, DISCARDED and RESULT lines of key=value
 * pairs, values optionally "quoted") and the median of the runs.
 */
const fs = require('node:fs');

const kv = (s) => {
  const o = {};
  for (const m of s.matchAll(/(\w+)=("([^"]*)"|\S*)/g)) o[m[1]] = m[3] !== undefined ? m[3] : m[2];
  return o;
};

/* {machine, elapsed, failed, discarded, results}: failed and discarded are
 * the lines' pairs; results maps case -> server -> [RESULT pairs]. */
function readResults(file) {
  const out = { machine: {}, elapsed: {}, failed: [], discarded: [], results: new Map() };
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('MACHINE ')) out.machine = kv(line);
    else if (line.startsWith('ELAPSED ')) out.elapsed = kv(line);
    else if (line.startsWith('FAILED ')) out.failed.push(kv(line));
    else if (line.startsWith('DISCARDED ')) out.discarded.push(kv(line));
    else if (line.startsWith('RESULT ')) {
      const r = kv(line);
      if (!out.results.has(r.case)) out.results.set(r.case, new Map());
      const byServer = out.results.get(r.case);
      if (!byServer.has(r.server)) byServer.set(r.server, []);
      byServer.get(r.server).push(r);
    }
  }
  return out;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

module.exports = { kv, readResults, median };
