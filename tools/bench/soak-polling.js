#!/usr/bin/env node
'use strict';
/*
 * soak-polling.js - the long-polling share of tools/bench/soak: connect /
 * disconnect cycles with socket.io-client 4.8 (tools/bench's own
 * dependency) on HTTP long-polling only, next to loadgen's WebSocket
 * cycles.  loadgen speaks WebSocket only; polling is rarer in production
 * and costs a Node client more than a cycle a millisecond, so the soak
 * gives it a share of the cycles, not most of them.
 *
 *   node soak-polling.js --port P --cycles N --events E [--clients C (10)]
 *
 * --clients cycles at a time; each connects (forceNew, no reconnection),
 * emits its E/N events in turn - `ack` with a string, `ack` with a binary
 * argument (1 in 4), `fanout` without an ack (1 in 4: to room "bench",
 * where loadgen's cycles are) - each acked one awaited, then disconnects
 * and waits for the Engine.IO session to close.
 *
 * Prints: RESULT scenario=polling cycles=… cycles_done=… events=… acked=…
 * seconds=… cycle_rate=… errors=…; exit status 1 on any error.
 */
const path = require('node:path');
const { io } = require(path.join(__dirname, 'node_modules', 'socket.io-client'));

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const port = Number(args.port);
const cycles = Number(args.cycles || 0);
const events = Number(args.events || 0);
const clients = Number(args.clients || 10);
if (!port || !(cycles >= 0) || !(events >= 0) || !(clients >= 1)) {
  process.stderr.write('usage: soak-polling.js --port P --cycles N --events E [--clients C]\n');
  process.exit(2);
}

const pad = 'x'.repeat(16);
const bin = Buffer.from(pad);
const st = { started: 0, done: 0, events: 0, acked: 0, errors: 0 };

function error(what) {
  st.errors++;
  if (st.errors <= 20) process.stderr.write(`soak-polling: ${what}\n`);
}

async function cycle(k) {
  const n = Math.floor(events / cycles) + (k < events % cycles ? 1 : 0);
  const socket = io(`http://127.0.0.1:${port}`, {
    transports: ['polling'], forceNew: true, reconnection: false, timeout: 10000,
  });
  try {
    await new Promise((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    for (let i = 0; i < n; i++) {
      st.events++;
      if (i % 4 === 3) {
        socket.emit('fanout', 0, 0, pad);
        continue;
      }
      const arg = i % 4 === 1 ? bin : pad;
      const got = await socket.timeout(10000).emitWithAck('ack', arg);
      if (i % 4 === 1 ? !Buffer.from(got).equals(bin) : got !== pad) error(`cycle ${k}: a wrong ack`);
      st.acked++;
    }
    const closed = new Promise((resolve) => socket.io.engine.once('close', resolve));
    socket.disconnect();
    await closed;
    st.done++;
  } catch (e) {
    error(`cycle ${k}: ${e.message || e}`);
    socket.disconnect();
  }
}

async function worker() {
  while (st.started < cycles) await cycle(st.started++);
}

const t0 = process.hrtime.bigint();
Promise.all(Array.from({ length: Math.min(clients, cycles) }, worker)).then(() => {
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(`RESULT scenario=polling clients=${clients} cycles=${cycles} cycles_done=${st.done} ` +
    `events=${st.events} acked=${st.acked} seconds=${secs.toFixed(3)} ` +
    `cycle_rate=${(secs > 0 ? st.done / secs : 0).toFixed(1)} errors=${st.errors}\n`);
  process.exit(st.errors || st.done !== cycles ? 1 : 0);
});
