/*
 * plugio's demo chat, on the chat and auth example plugins (namespace /chat):
 *   connect with {auth: {token}}        the auth middleware gives a role
 *   join / leave / users <room>         rooms and who is in them
 *   say <room> <text> -> {delivered}    the ack marks the message delivered
 *   image <room> <type> <bytes>         a pasted or picked image, as binary
 * and the events "message", "image", "joined", "left" from the others.
 * A socket that goes away leaves its rooms without a notice (plugio drops
 * its rooms before the disconnect handler, as socket.io does), so the list
 * of who is online is also asked for again every few seconds.
 */
'use strict';
/* global io */

const MAX_IMAGE = 512 * 1024; /* what the chat plugin accepts */
const TYPES = ['image/png', 'image/jpeg', 'image/gif', 'image/webp'];
const $ = (id) => document.getElementById(id);

let socket = null;
let me = null; /* {id, role} */
let current = null; /* the room shown */
const logs = new Map(); /* room -> its <ol> */
let presenceTimer = null;

function el(tag, props = {}, ...children) {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

const who = (id, role) => (me && id === me.id ? 'you' : `${role || 'guest'} ${id.slice(0, 6)}`);

function setStatus(text) { $('status').textContent = text; }

/* emit with an ack, as a promise that rejects on {error} or after 5 s */
async function call(event, ...args) {
  const answer = await socket.timeout(5000).emitWithAck(event, ...args);
  if (answer && answer.error) throw new Error(answer.error);
  return answer;
}

function append(room, item) {
  const log = logs.get(room);
  if (!log) return;
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

function notice(room, text) { append(room, el('li', { className: 'notice' }, text)); }

function message(room, from, role, body) {
  const state = el('span', { className: 'state' });
  const item = el('li', { className: from === me.id ? 'mine' : 'theirs' },
    el('span', { className: 'from' }, `${who(from, role)}: `), body, state);
  append(room, item);
  return { item, state };
}

function imageOf(type, data, from, role) {
  const url = URL.createObjectURL(new Blob([data], { type }));
  return el('img', { src: url, alt: `an image from ${who(from, role)}`, className: 'shared' });
}

/* Send something with an ack and show it as delivered (or failed). */
async function sent(shown, promise) {
  shown.state.textContent = ' … sending';
  try {
    const { delivered } = await promise;
    shown.item.dataset.state = 'delivered';
    shown.state.textContent = ` ✓ delivered to ${delivered}`;
  } catch (err) {
    shown.item.dataset.state = 'failed';
    shown.state.textContent = ` ✗ ${err.message}`;
  }
}

async function refreshUsers() {
  if (!current || !socket || !socket.connected) return;
  const room = current;
  let ids;
  try { ids = await call('users', room); } catch { return; }
  if (room !== current) return;
  $('users-title').textContent = `Online in ${room} (${ids.length})`;
  $('users').replaceChildren(...ids.sort().map((id) => el('li', {}, id === me.id ? `you (${me.role})` : id.slice(0, 6))));
}

function show(room) {
  current = room;
  for (const [name, log] of logs) log.hidden = name !== room;
  for (const b of $('rooms').querySelectorAll('button.room')) b.setAttribute('aria-current', b.value === room);
  $('room-title').textContent = room ? `# ${room}` : 'Join a room to talk';
  for (const c of ['text', 'image']) $(c).disabled = !room;
  $('send').querySelector('button').disabled = !room;
  if (!room) $('users').replaceChildren();
  refreshUsers();
}

function addRoom(room) {
  if (logs.has(room)) return;
  const log = el('ol', { className: 'log', role: 'log' });
  log.setAttribute('aria-label', `messages in ${room}`);
  logs.set(room, log);
  $('logs').append(log);
  const leave = el('button', { type: 'button', className: 'leave', textContent: 'Leave' });
  leave.setAttribute('aria-label', `Leave ${room}`);
  leave.onclick = () => leaveRoom(room);
  const pick = el('button', { type: 'button', className: 'room', value: room, textContent: `# ${room}` });
  pick.onclick = () => show(room);
  const item = el('li', {}, pick, leave);
  item.dataset.room = room;
  $('rooms').append(item);
}

async function joinRoom(room) {
  const { members } = await call('join', room);
  addRoom(room);
  notice(room, `You joined ${room} (${members} here)`);
  show(room);
}

async function leaveRoom(room) {
  try { await call('leave', room); } catch (err) { $('send-error').textContent = err.message; return; }
  logs.get(room).remove();
  logs.delete(room);
  $('rooms').querySelector(`li[data-room="${CSS.escape(room)}"]`).remove();
  show(current === room ? (logs.keys().next().value || null) : current);
}

/* An image as at most MAX_IMAGE bytes of a type the plugin takes: as it
 * is when it fits, else drawn smaller as a JPEG until it does. */
async function fitImage(file) {
  if (TYPES.includes(file.type) && file.size <= MAX_IMAGE) return file;
  const bitmap = await createImageBitmap(file);
  for (let side = 1600; side >= 200; side = Math.floor(side * 0.7)) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = el('canvas', { width: Math.round(bitmap.width * scale), height: Math.round(bitmap.height * scale) });
    canvas.getContext('2d').drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/jpeg', 0.85));
    if (blob && blob.size <= MAX_IMAGE) return blob;
  }
  throw new Error('the image is too large');
}

async function sendImage(file) {
  $('send-error').textContent = '';
  if (!current) return;
  try {
    const blob = await fitImage(file);
    const data = await blob.arrayBuffer();
    sent(message(current, me.id, me.role, imageOf(blob.type, data, me.id, me.role)), call('image', current, blob.type, data));
  } catch (err) {
    $('send-error').textContent = `Image not sent: ${err.message}`;
  }
}

function connect(token) {
  socket = io('/chat', { auth: { token } });
  setStatus('Connecting…');
  socket.on('connect', async () => {
    $('login-error').textContent = '';
    me = await call('whoami');
    $('status').dataset.socket = me.id;
    setStatus(`Connected as ${me.role} (${me.id.slice(0, 6)}) over ${socket.io.engine.transport.name}`);
    $('login').hidden = true;
    $('chat').hidden = false;
    $('logout').hidden = false;
    /* After a reconnection the server has forgotten the rooms: join again. */
    for (const room of logs.keys()) await call('join', room).catch(() => {});
    if (!current) await joinRoom($('room').value).catch((err) => { $('send-error').textContent = err.message; });
    else refreshUsers();
    presenceTimer ??= setInterval(refreshUsers, 5000);
  });
  socket.io.engine?.on('upgrade', () => me && setStatus(`Connected as ${me.role} (${me.id.slice(0, 6)}) over websocket`));
  socket.on('connect_error', (err) => {
    $('login-error').textContent = `Cannot connect: ${err.message}`;
    setStatus('Not connected');
  });
  socket.on('disconnect', (reason) => setStatus(`Disconnected (${reason})${socket.active ? ', reconnecting…' : ''}`));
  socket.on('message', ({ room, from, role, text }) => message(room, from, role, text));
  socket.on('image', ({ room, from, role, type, data }) => message(room, from, role, imageOf(type, data, from, role)));
  socket.on('joined', ({ room, from, role }) => { notice(room, `${who(from, role)} joined`); if (room === current) refreshUsers(); });
  socket.on('left', ({ room, from, role }) => { notice(room, `${who(from, role)} left`); if (room === current) refreshUsers(); });
}

$('login').addEventListener('submit', (e) => {
  e.preventDefault();
  if (socket) socket.close();
  connect($('token').value.trim());
});

$('logout').addEventListener('click', () => {
  socket.close();
  clearInterval(presenceTimer);
  presenceTimer = null;
  for (const room of [...logs.keys()]) { logs.get(room).remove(); logs.delete(room); }
  $('rooms').replaceChildren();
  show(null);
  setStatus('Not connected');
  $('chat').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('token').focus();
});

$('join').addEventListener('submit', async (e) => {
  e.preventDefault();
  $('send-error').textContent = '';
  try { await joinRoom($('room').value.trim()); } catch (err) { $('send-error').textContent = err.message; }
});

$('send').addEventListener('submit', (e) => {
  e.preventDefault();
  const text = $('text').value;
  if (!text || !current) return;
  $('text').value = '';
  $('send-error').textContent = '';
  sent(message(current, me.id, me.role, text), call('say', current, text));
});

$('image').addEventListener('change', () => {
  const [file] = $('image').files;
  if (file) sendImage(file);
  $('image').value = '';
});

document.addEventListener('paste', (e) => {
  if ($('chat').hidden) return;
  const file = [...e.clipboardData.files].find((f) => f.type.startsWith('image/'));
  if (!file) return;
  e.preventDefault();
  sendImage(file);
});
