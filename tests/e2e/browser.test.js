'use strict';
// The demo page (web/demo) and the Socket.IO Admin UI in a real browser:
// Debian's chromium, headless, driven by playwright-core over the DevTools
// protocol (no browser download).  plugio serves config/plugio.yaml as
// `tools/run` does - the page, the client script and the chat plugins -
// with only paths made absolute, 127.0.0.1 and a port the system picks, and
// the chat plugin loaded from a copy that a rename reloads.
//
// Without chromium the file is skipped with a message, except under
// tools/test (PLUGIO_REQUIRE_BROWSER=1), which installs it: there a missing
// browser fails.  Screenshots go to a temporary directory printed below.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const h = require('./helpers');

const CHROMIUM = process.env.PLUGIO_CHROMIUM || '/usr/bin/chromium';
const HAVE = fs.existsSync(CHROMIUM);
if (!HAVE && process.env.PLUGIO_REQUIRE_BROWSER !== '1') {
  test(`browser tests: skipped, no chromium at ${CHROMIUM} (apt-get install chromium, or tools/test)`,
    { skip: `no ${CHROMIUM}` }, () => {});
  return;
}
const { chromium } = require('playwright-core');

const T = { timeout: 30000 };
const SHOTS = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-browser-'));
const CHAT_SO = path.join(h.BUILD, 'plugins', 'chat', 'libchat.so');

let srv = null;
let browser = null;
let chatSo = null; /* the copy plugio loads */

/* config/plugio.yaml as it is, pointed at this build and at a copy of the
 * chat plugin, on 127.0.0.1 with a port the system picks. */
function demoConfig(dir) {
  chatSo = path.join(dir, 'libchat.so');
  fs.copyFileSync(CHAT_SO, chatSo);
  const text = fs.readFileSync(path.join(h.REPO, 'config', 'plugio.yaml'), 'utf8')
    .replaceAll('../build/plugins/chat/libchat.so', chatSo)
    .replaceAll('../build/', `${h.BUILD}/`)
    .replaceAll('../web/', `${h.REPO}/web/`)
    .replace(/^( {2}host:) .*$/m, '$1 127.0.0.1')
    .replace(/^( {2}port:) .*$/m, '$1 0');
  const file = path.join(dir, 'plugio.yaml');
  fs.writeFileSync(file, text);
  return file;
}

/* plugio started on the file, as helpers.startServer() starts one. */
async function startDemo() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plugio-demo-'));
  const child = spawn(h.PLUGIO, [demoConfig(dir)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`plugio did not start:\n${stderr}`)), 10000);
    child.stderr.on('data', (d) => {
      stderr += d;
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    exited.then(({ code }) => { clearTimeout(timer); reject(new Error(`plugio exited (${code}):\n${stderr}`)); });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    stderr: () => stderr,
    stop: async () => { child.kill('SIGTERM'); return exited; },
  };
}

test.before(async () => {
  srv = await startDemo();
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  console.log(`# screenshots in ${SHOTS}`);
});

test.after(async () => {
  if (browser) await browser.close();
  if (!srv) return;
  const { code, signal } = await srv.stop();
  assert.equal(h.sanitizerReport(srv.stderr()), null, srv.stderr());
  assert.equal(code, 0, `plugio exited with ${code} ${signal}\n${srv.stderr()}`);
});

/* A new page (its own context: its own socket) logged in with `token`,
 * in the room "lobby" it joins by itself. */
async function chatPage(token) {
  const context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
  context.setDefaultTimeout(5000);
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console: ${m.text()}`); });
  page.errors = errors;
  await page.goto(`${srv.url}/`);
  await page.getByLabel('Token').fill(token);
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByRole('heading', { name: '# lobby' }).waitFor().catch(async (err) => {
    await page.screenshot({ path: path.join(SHOTS, `failed-${token}.png`) });
    throw new Error(`${err.message}\npage errors: ${errors.join('\n')}\nstatus: ${await page.locator('#status').textContent()}`);
  });
  return page;
}

/* The socket id the page is connected with (its whoami). */
const socketId = (page) => page.locator('#status').getAttribute('data-socket');

async function say(page, text) {
  await page.getByRole('textbox', { name: 'Message' }).fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
}

/* A small red png (40x30) pasted into the page's message box. */
async function pasteRed(page) {
  await page.evaluate(async () => {
    const canvas = Object.assign(document.createElement('canvas'), { width: 40, height: 30 });
    const g = canvas.getContext('2d');
    g.fillStyle = '#d33';
    g.fillRect(0, 0, 40, 30);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    const data = new DataTransfer();
    data.items.add(new File([blob], 'red.png', { type: 'image/png' }));
    document.getElementById('text').dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true }));
  });
}

/* The `li` of the message `text` in the shown room's log. */
const line = (page, text) => page.locator('.log:not([hidden]) li', { hasText: text });

test('the demo page: two browsers chat in a room, see each other, get acks, share images, and survive a plugin reload', T, async () => {
  const alice = await chatPage('alice-token');
  const bob = await chatPage('bob-token');
  // Presence: each sees two online in the lobby, alice saw bob join.
  await alice.getByRole('heading', { name: 'Online in lobby (2)' }).waitFor();
  await bob.getByRole('heading', { name: 'Online in lobby (2)' }).waitFor();
  await line(alice, 'user').filter({ hasText: 'joined' }).waitFor();
  assert.match(await alice.locator('#status').textContent(), /Connected as admin/);
  assert.match(await bob.locator('#status').textContent(), /Connected as user/);

  // A message, shown as delivered to one on the sender's side.
  await say(alice, 'hello from alice');
  await line(bob, 'hello from alice').waitFor();
  assert.match(await line(bob, 'hello from alice').textContent(), /^admin \S+: hello from alice/);
  await alice.locator('li[data-state="delivered"]', { hasText: 'hello from alice' }).waitFor();
  assert.match(await line(alice, 'hello from alice').textContent(), /you: hello from alice ✓ delivered to 1/);

  // A pasted image (a small png drawn in the page) arrives as an image.
  await pasteRed(bob);
  await bob.locator('li[data-state="delivered"] img.shared').waitFor();
  const img = alice.getByRole('img', { name: /^an image from user \S+$/ }).first();
  await img.waitFor();
  await alice.waitForFunction(() => document.querySelector('img.shared')?.complete);
  assert.deepEqual(await img.evaluate((i) => [i.naturalWidth, i.naturalHeight]), [40, 30]);
  // The pixels came through: the image drawn back is the red it was.
  assert.deepEqual(await img.evaluate((i) => {
    const c = Object.assign(document.createElement('canvas'), { width: 1, height: 1 });
    c.getContext('2d').drawImage(i, 20, 15, 1, 1, 0, 0, 1, 1);
    return [...c.getContext('2d').getImageData(0, 0, 1, 1).data];
  }), [0xdd, 0x33, 0x33, 255]);

  // A large picked image is drawn smaller, as a JPEG, to fit the plugin's 512 KiB.
  await bob.evaluate(async () => {
    const canvas = Object.assign(document.createElement('canvas'), { width: 1500, height: 1000 });
    const g = canvas.getContext('2d');
    const pixels = g.createImageData(1500, 1000);
    for (let i = 0; i < pixels.data.length; i++) pixels.data[i] = (i % 4 === 3) ? 255 : Math.random() * 256;
    g.putImageData(pixels, 0, 0);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (blob.size <= 512 * 1024) throw new Error(`the noise png is only ${blob.size} bytes`);
    const data = new DataTransfer();
    data.items.add(new File([blob], 'noise.png', { type: 'image/png' }));
    const input = document.getElementById('image');
    input.files = data.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
  });
  const big = alice.locator('.log:not([hidden]) img.shared').nth(1);
  await big.waitFor();
  const got = await big.evaluate(async (i) => {
    await i.decode();
    const blob = await (await fetch(i.src)).blob();
    return { w: i.naturalWidth, h: i.naturalHeight, type: blob.type, size: blob.size };
  });
  assert.equal(got.type, 'image/jpeg');
  assert.ok(got.size <= 512 * 1024 && got.w < 1500 && Math.abs(got.w / got.h - 1.5) < 0.01, JSON.stringify(got));

  // Presence: bob leaves the lobby and comes back; alice sees both.
  await bob.getByRole('button', { name: 'Leave lobby' }).click();
  await line(alice, /^user \S+ left$/).waitFor();
  await alice.getByRole('heading', { name: 'Online in lobby (1)' }).waitFor();
  await bob.getByRole('textbox', { name: 'Room', exact: true }).fill('lobby');
  await bob.getByRole('button', { name: 'Join', exact: true }).click();
  await alice.getByRole('heading', { name: 'Online in lobby (2)' }).waitFor();
  assert.equal(await line(alice, /^user \S+ joined$/).count(), 2);
  await alice.screenshot({ path: path.join(SHOTS, 'demo-alice.png') });

  // A plugin reload: both pages keep their sockets (over WebSocket) and keep talking.
  await alice.locator('#status', { hasText: 'over websocket' }).waitFor();
  await bob.locator('#status', { hasText: 'over websocket' }).waitFor();
  const [aliceId, bobId] = [await socketId(alice), await socketId(bob)];
  const reloads = (srv.stderr().match(/reload #\d+ done/g) || []).length;
  h.installByRename(CHAT_SO, chatSo);
  for (let i = 0; i < 200 && (srv.stderr().match(/reload #\d+ done/g) || []).length === reloads; i++) await h.sleep(25);
  assert.match(srv.stderr(), new RegExp(`reload #${reloads + 1} done`));
  assert.match(srv.stderr(), /reload: plugin 'chat' \S+ -> \S+ /, 'the chat plugin was not loaded anew');
  await say(bob, 'still here after the reload');
  await line(alice, 'still here after the reload').waitFor();
  await bob.locator('li[data-state="delivered"]', { hasText: 'still here after the reload' }).waitFor();
  await say(alice, 'and so am I');
  await line(bob, 'and so am I').waitFor();
  assert.equal(await socketId(alice), aliceId);
  assert.equal(await socketId(bob), bobId);
  await bob.screenshot({ path: path.join(SHOTS, 'demo-bob.png') });
  assert.deepEqual([...alice.errors, ...bob.errors], []);
  await alice.context().close();
  await bob.context().close();
});

test('the demo page: an unknown token is refused with the reason, and the page stays at its login', T, async () => {
  const context = await browser.newContext();
  context.setDefaultTimeout(5000);
  const page = await context.newPage();
  await page.goto(`${srv.url}/`);
  await page.getByLabel('Token').fill('mallory-token');
  await page.getByRole('button', { name: 'Connect' }).click();
  await page.getByRole('alert').filter({ hasText: 'Cannot connect: unknown token' }).waitFor();
  assert.equal(await page.locator('#chat').isHidden(), true);
  assert.equal(await page.getByRole('button', { name: 'Connect' }).isVisible(), true);
  await context.close();
});

/* The row of socket `id` in the Admin UI's list of sockets. */
const socketRow = (page, id) =>
  page.getByRole('row').filter({ has: page.getByRole('cell', { name: id, exact: true }) });

/* The Admin UI's namespace selector (a Vuetify select) set to `nsp`. */
async function selectNamespace(page, nsp) {
  await page.locator('main .v-select.selector').click();
  await page.getByRole('option', { name: nsp, exact: true }).click();
}

/* The row of the Events page for socket `id`'s event `name` of `type`
 * ("Event received", "Event sent"). */
const eventRow = (page, id, type, name) => page.getByRole('row')
  .filter({ has: page.getByRole('link', { name: id, exact: true }) })
  .filter({ has: page.locator('.v-chip', { hasText: type }) })
  .filter({ has: page.locator('code').getByText(name, { exact: true }) });

/* What the Dashboard's cards show: the clients (the sum over transports),
 * the healthy servers and each namespace's sockets.  server_stats comes
 * every 2 s: waited for, some 8 s at most. */
async function dashboardShows(page, want) {
  const read = () => page.evaluate(() => {
    const card = (title) => [...document.querySelectorAll('.v-card')]
      .find((c) => c.querySelector('.v-card__title')?.textContent.trim() === title);
    const numbers = (c) => [...(c?.querySelectorAll('h2') ?? [])].map((e) => Number(e.textContent));
    const namespaces = {};
    for (const tr of card('Namespaces')?.querySelectorAll('tbody tr') ?? [])
      namespaces[tr.cells[0].textContent.trim()] = Number(tr.cells[1].textContent);
    const [clients, servers] = [numbers(card('Clients')), numbers(card('Servers'))];
    return { clients: clients.length ? clients[0] + clients[1] : null, servers: servers[0] ?? null, namespaces };
  });
  let got = null;
  for (let i = 0; i < 80; i++) {
    got = await read();
    if (got.clients === want.clients && got.servers === want.servers &&
        Object.entries(want.namespaces).every(([n, c]) => got.namespaces[n] === c)) return;
    await page.waitForTimeout(100);
  }
  assert.fail(`the Dashboard shows ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
}

test('the Admin UI at /admin/: logs in, lists the sockets and their rooms, shows their events and the server\'s stats, disconnects a socket', T, async () => {
  const alice = await chatPage('alice-token');
  const bob = await chatPage('bob-token');
  const [aliceId, bobId] = [await socketId(alice), await socketId(bob)];

  const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
  context.setDefaultTimeout(5000);
  // The UI's index.html asks two CDNs for fonts and icons: no network here.
  await context.route((url) => url.hostname !== '127.0.0.1', (route) => route.abort());
  const admin = await context.newPage();
  await admin.goto(`${srv.url}/admin/`);
  await admin.getByLabel('Server URL').fill(srv.url);
  await admin.getByLabel('Username').fill('admin');
  await admin.getByLabel('Password').fill('wrong');
  await admin.getByRole('button', { name: 'Connect' }).click();
  await admin.getByText('Invalid credentials').waitFor();
  // A failed login makes the address wait 1 s (README "Admin UI"): a
  // login sooner is refused unchecked, which the UI shows as such.
  await admin.getByRole('button', { name: 'Connect' }).click();
  await admin.getByText('too many attempts, try again later').waitFor();
  await admin.waitForTimeout(1100);
  await admin.getByLabel('Password').fill('plugio-demo');
  await admin.getByRole('button', { name: 'Connect' }).click();
  await admin.getByRole('dialog').waitFor({ state: 'hidden' });

  // Sockets: both chat pages, in /chat.
  await admin.goto(`${srv.url}/admin/#/sockets/`);
  await selectNamespace(admin, '/chat');
  await socketRow(admin, aliceId).waitFor();
  await socketRow(admin, bobId).waitFor();

  // Rooms: the lobby with both, each role room with one.
  // (the namespace chosen stays chosen in the UI's store)
  await admin.goto(`${srv.url}/admin/#/rooms/`);
  for (const [room, n] of [['lobby', 2], ['role:admin', 1], ['role:user', 1]]) {
    const cells = admin.getByRole('row').filter({ hasText: room }).getByRole('cell');
    await cells.first().waitFor();
    assert.deepEqual((await cells.allTextContents()).map((t) => t.trim()).slice(0, 3), [room, 'Public', String(n)]);
  }
  await admin.screenshot({ path: path.join(SHOTS, 'admin-rooms.png') });

  // Events (development mode): what plugio told the UI as it happened -
  // event_received for what a socket emitted, event_sent for what plugio
  // sent it - so the chat must happen while the UI is connected.
  await admin.goto(`${srv.url}/admin/#/events/`);
  await admin.locator('.v-breadcrumbs', { hasText: 'Events' }).waitFor();
  await say(alice, 'hello admin');
  await line(bob, 'hello admin').waitFor();
  await pasteRed(bob);
  await alice.getByRole('img', { name: /^an image from user \S+$/ }).waitFor();
  for (const [id, type, name] of [[aliceId, 'Event received', 'say'], [bobId, 'Event sent', 'message'],
    [bobId, 'Event received', 'image'], [aliceId, 'Event sent', 'image']])
    await eventRow(admin, id, type, name).waitFor();
  // Their arguments, unfolded: the room and the text as alice sent them,
  // and the message as plugio sent it on to bob.
  const args = async (row) => {
    await row.getByRole('button').click();
    return JSON.parse(await admin.locator('tr.v-data-table__expanded__content pre').textContent());
  };
  assert.deepEqual(await args(eventRow(admin, bobId, 'Event sent', 'message')),
    [{ room: 'lobby', from: aliceId, role: 'admin', text: 'hello admin' }]);
  assert.deepEqual(await args(eventRow(admin, aliceId, 'Event received', 'say')), ['lobby', 'hello admin']);
  // Only the two chat sockets' events are listed in /chat.
  const ids = (await admin.locator('tbody a.link').allTextContents()).map((t) => t.trim());
  assert.deepEqual([...new Set(ids)].sort(), [aliceId, bobId].sort());
  await admin.screenshot({ path: path.join(SHOTS, 'admin-events.png'), fullPage: true });

  // The Dashboard: server_stats' numbers - alice, bob and the UI itself
  // connected; /chat with two sockets, /admin with the UI's; one server.
  await admin.goto(`${srv.url}/admin/#/`);
  await dashboardShows(admin, { clients: 3, servers: 1, namespaces: { '/chat': 2, '/admin': 1 } });
  await admin.screenshot({ path: path.join(SHOTS, 'admin-dashboard.png') });

  // Disconnect bob from the sockets list: his page says so, alice stays.
  await admin.goto(`${srv.url}/admin/#/sockets/`);
  await socketRow(admin, bobId).getByRole('button').click();
  await bob.locator('#status', { hasText: 'Disconnected (io server disconnect)' }).waitFor();
  // (the click reaches the row too, which opens the socket's page: back to the list)
  await admin.goto(`${srv.url}/admin/#/sockets/`);
  await socketRow(admin, aliceId).waitFor();
  await socketRow(admin, bobId).waitFor({ state: 'detached' });
  await alice.getByRole('heading', { name: 'Online in lobby (1)' }).waitFor({ timeout: 10000 });
  await admin.screenshot({ path: path.join(SHOTS, 'admin-sockets.png') });
  // ... and the Dashboard follows: bob's page closed its connection.
  await admin.goto(`${srv.url}/admin/#/`);
  await dashboardShows(admin, { clients: 2, servers: 1, namespaces: { '/chat': 1, '/admin': 1 } });
  assert.deepEqual([...alice.errors, ...bob.errors], []);
  await Promise.all([alice.context().close(), bob.context().close(), context.close()]);
});
