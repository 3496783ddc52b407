'use strict';
/*
 * cluster/codec.js - values across the IPC channel to a Node.js node
 * (JSON underneath): binary becomes {$bin: base64} and a Date {$date: iso}
 * on the way out, and back on the way in.  Also `normalize`, which turns
 * whatever a socket.io-client receives into plain JSON-comparable data
 * (binary as {$bin: hex}) so tests compare with deepEqual.
 */

function isBinary(v) {
  return Buffer.isBuffer(v) || v instanceof ArrayBuffer || ArrayBuffer.isView(v);
}

function toBuffer(v) {
  if (Buffer.isBuffer(v)) return v;
  if (v instanceof ArrayBuffer) return Buffer.from(v);
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

function encode(v) {
  if (v === undefined || v === null) return v === undefined ? { $undefined: true } : null;
  if (isBinary(v)) return { $bin: toBuffer(v).toString('base64') };
  if (v instanceof Date) return { $date: v.toISOString() };
  if (Array.isArray(v)) return v.map(encode);
  if (typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = encode(x);
    return o;
  }
  return v;
}

function decode(v) {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(decode);
  if (typeof v.$bin === 'string' && Object.keys(v).length === 1) return Buffer.from(v.$bin, 'base64');
  if (typeof v.$date === 'string' && Object.keys(v).length === 1) return new Date(v.$date);
  if (v.$undefined === true && Object.keys(v).length === 1) return undefined;
  const o = {};
  for (const [k, x] of Object.entries(v)) o[k] = decode(x);
  return o;
}

/* What a receiver should compare: binary as {$bin: hex}, a Date as the
 * ISO string JSON.stringify makes of it (what a socket.io client gets). */
function normalize(v) {
  if (v === null || v === undefined) return v === undefined ? null : v;
  if (isBinary(v)) return { $bin: toBuffer(v).toString('hex') };
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(normalize);
  if (typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = normalize(x);
    return o;
  }
  return v;
}

module.exports = { encode, decode, normalize, isBinary, toBuffer };
