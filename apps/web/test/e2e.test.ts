import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@chat/protocol';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, waitForHealthz } from '@chat/test-support';

/**
 * End to end: the built server (a child process, real SQLite file) serving the
 * built client, driven in Debian's Chromium through playwright-core.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/**
 * How long a page may take to show a state: vitest's default (1 s) is too
 * short when the whole suite shares two cores with this browser and server.
 */
const POLL_MS = 15_000;
const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');
const serverEntry = path.join(repo, 'apps/server/dist/server.js');
const shots = path.join(repo, 'apps/web/test-results');
const ADMIN_TOKEN = 'e2e-admin-token-0123456789';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) console.warn(`skipping browser tests: no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`);


class ServerProcess {
  child: ChildProcess | undefined;
  constructor(
    readonly port: number,
    readonly databasePath: string,
  ) {}
  get url() {
    return `http://127.0.0.1:${this.port}`;
  }
  async start(): Promise<void> {
    this.child = spawn(process.execPath, [serverEntry], {
      // Only what the server needs: CI exports DATABASE_URL/REDIS_URL for other tests,
      // and this server must stay on its own SQLite file.
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        PORT: String(this.port),
        HOST: '127.0.0.1',
        DATABASE_PATH: this.databasePath,
        LOG_LEVEL: 'warn',
        ADMIN_TOKEN,
        RATE_LOGINS_PER_MINUTE: '1000',
        RATE_MESSAGES_PER_SECOND: '1000',
        MAX_UPLOAD_BYTES: String(2 * 1024 * 1024), // small, so the oversized-file test sends little
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitForHealthz(this.url, 20_000, 'the server did not start within 20 s');
  }
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
}

describe.skipIf(!haveChromium)('the web client in Chromium', () => {
  let server: ServerProcess;
  let dir: string;
  let browser: Browser;
  let aliceContext: BrowserContext;
  let bobContext: BrowserContext;
  let alice: Page;
  let bob: Page;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chat-e2e-'));
    server = new ServerProcess(await freePort(), path.join(dir, 'chat.db'));
    await server.start();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    aliceContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    bobContext = await browser.newContext({ viewport: { width: 390, height: 760 } }); // a phone
    alice = await aliceContext.newPage();
    bob = await bobContext.newPage();
    await fs.mkdir(shots, { recursive: true });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (dir) await fs.rm(dir, { recursive: true, force: true });
  });

  const messages = (page: Page) => page.getByRole('log', { name: 'Messages' }).locator('li.message:not(.pending) .text');
  const send = async (page: Page, text: string) => {
    await page.getByRole('textbox', { name: 'Message' }).fill(text);
    await page.getByRole('textbox', { name: 'Message' }).press('Enter');
  };

  test('the first screen, signed out, loads with nothing in the console: no error, no CSP complaint, no failed request', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const complaints: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error' || message.type() === 'warning') complaints.push(`console ${message.type()}: ${message.text()}`);
    });
    page.on('pageerror', (error) => complaints.push(`page error: ${error.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) complaints.push(`${response.status()} from ${response.url()}`);
    });
    // A violation is a console message too, but only where the policy is enforced: count the events as well.
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => console.error(`CSP: ${event.violatedDirective} blocked ${event.blockedURI}`));
    });
    try {
      await page.goto(server.url);
      await page.getByRole('button', { name: 'Continue as guest' }).waitFor();
      // The session probe has answered (the form is drawn after it), and any late report has had a moment.
      await page.waitForLoadState('networkidle');
      expect(complaints).toEqual([]);
      const csp = (await page.request.get(server.url)).headers()['content-security-policy'];
      expect(csp).toContain("script-src 'self'");
    } finally {
      await context.close();
    }
  });

  test('two people sign in, join a room and talk both ways, with presence and typing', async () => {
    await alice.goto(server.url);
    await alice.getByLabel('Username').fill('alice');
    await alice.getByLabel('Password').fill('correct horse');
    await alice.getByRole('button', { name: 'Register' }).click();
    await expect.poll(() => alice.getByRole('status').textContent(), { timeout: POLL_MS }).toBe('Connected');
    await alice.getByLabel('Room id').fill('general');
    await alice.getByLabel('Title').fill('General');
    await alice.getByRole('button', { name: 'Create room' }).click();
    await alice.getByRole('heading', { name: 'General' }).waitFor();

    await bob.goto(server.url);
    await bob.getByLabel('Username').fill('bob');
    await bob.getByRole('button', { name: 'Continue as guest' }).click();
    await bob.getByRole('button', { name: '#general' }).click();
    await bob.getByRole('heading', { name: 'General' }).waitFor();

    // Presence: each sees the other online (alice made the room: its owner, and labelled so).
    await alice.getByRole('list', { name: 'Members' }).getByText('bob', { exact: true }).waitFor();
    await bob.getByRole('list', { name: 'Members' }).getByText('alice (owner)', { exact: true }).waitFor();

    await send(alice, 'hi bob');
    await bob.getByText('hi bob').waitFor();
    await bob.getByRole('textbox', { name: 'Message' }).pressSequentially('hello ');
    await alice.getByText('bob is typing…').waitFor();
    await bob.getByRole('textbox', { name: 'Message' }).press('Enter');
    await alice.getByText('hello', { exact: true }).waitFor();
    expect(await messages(alice).allTextContents()).toEqual(['hi bob', 'hello ']);
    expect(await messages(bob).allTextContents()).toEqual(['hi bob', 'hello ']);
  });

  test('renders an HTML payload as literal text', async () => {
    const payload = '<img src=x onerror="window.__pwned=1"><b>bold?</b>';
    await send(bob, payload);
    await alice.getByText(payload).waitFor();
    expect(await alice.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await alice.locator('.messages b, .messages img').count()).toBe(0);
  });

  test('keeps multi-line text and sends on Enter, breaks lines on Shift+Enter', async () => {
    const box = alice.getByRole('textbox', { name: 'Message' });
    await box.pressSequentially('line one');
    await box.press('Shift+Enter');
    await box.pressSequentially('line two');
    await box.press('Enter');
    await bob.getByText('line one\nline two').waitFor();
  });

  test('a reader whose connection drops while the other sends gets every message once, in order', async () => {
    // Bob's network goes away; his client keeps retrying.
    await bobContext.setOffline(true);
    await bob.evaluate(() => (window as unknown as { chatDebug: { drop(): void } }).chatDebug.drop());
    await expect.poll(() => bob.getByRole('status').textContent(), { timeout: POLL_MS }).not.toBe('Connected');
    for (const text of ['while away 1', 'while away 2', 'while away 3']) await send(alice, text);
    await alice.locator('li.message:not(.pending)').getByText('while away 3').waitFor();
    // Bob really was away: nothing of this reached him yet.
    expect(await bob.getByRole('status').textContent()).not.toBe('Connected');
    expect(await bob.getByText('while away 1').count()).toBe(0);

    await bobContext.setOffline(false);
    await expect.poll(() => bob.getByRole('status').textContent(), { timeout: 40_000 }).toBe('Connected');
    await bob.getByText('while away 3').waitFor();
    const seen = await messages(bob).allTextContents();
    expect(seen.slice(-3)).toEqual(['while away 1', 'while away 2', 'while away 3']);
    expect(new Set(seen).size).toBe(seen.length);
  }, 60_000);

  test('a message written while the server restarts is sent once it is back, and shown once to both', async () => {
    await server.stop();
    await expect.poll(() => alice.getByRole('status').textContent(), { timeout: POLL_MS }).not.toBe('Connected');
    await send(alice, 'sent during the restart');
    await alice.getByText('sending…').waitFor();
    await server.start();
    await expect.poll(() => alice.getByRole('status').textContent(), { timeout: 40_000 }).toBe('Connected');
    await expect.poll(() => bob.getByRole('status').textContent(), { timeout: 40_000 }).toBe('Connected');
    await bob.getByText('sent during the restart').waitFor();
    await expect.poll(() => alice.getByText('sending…').count(), { timeout: POLL_MS }).toBe(0);
    for (const page of [alice, bob]) {
      const seen = await messages(page).allTextContents();
      expect(seen.filter((t) => t === 'sent during the restart')).toHaveLength(1);
      expect(new Set(seen).size).toBe(seen.length);
    }
  }, 90_000);

  test('saves screenshots of the main view at desktop and phone width', async () => {
    await alice.screenshot({ path: path.join(shots, 'desktop.png') });
    await bob.screenshot({ path: path.join(shots, 'phone.png') });
    expect((await fs.stat(path.join(shots, 'desktop.png'))).size).toBeGreaterThan(1000);
    expect((await fs.stat(path.join(shots, 'phone.png'))).size).toBeGreaterThan(1000);
  });

  /** A user outside the browsers, speaking the protocol from Node (seeding rooms). */
  const outsider = async (username: string) => {
    const res = await fetch(`${server.url}/api/auth/guest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username }),
    });
    const { token } = (await res.json()) as { token: string };
    const ws = await connect(`ws://127.0.0.1:${server.port}/ws`, { headers: { authorization: `Bearer ${token}` }, protocols: ['chat.v1'] });
    const replies: Array<{ type: string; clientMsgId?: string }> = [];
    ws.on('message', (d) => replies.push(JSON.parse(d.toString())));
    const until = async (check: () => boolean) => {
      const deadline = Date.now() + 10_000;
      while (!check()) {
        if (Date.now() > deadline) throw new Error('no reply from the server');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    return {
      async say(room: string, texts: string[]) {
        ws.send(JSON.stringify({ type: 'join', room }));
        for (const [i, text] of texts.entries()) ws.send(JSON.stringify({ type: 'send', room, text, clientMsgId: `${room}-${i}` }));
        await until(() => replies.filter((r) => r.type === 'message').length >= texts.length);
      },
      close: () => ws.close(),
    };
  };
  const adminPost = (p: string, body: unknown) =>
    fetch(`${server.url}/api/admin${p}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      body: JSON.stringify(body),
    });

  test('loads history on join and older messages on scroll up', async () => {
    expect((await adminPost('/rooms', { id: 'archive', title: 'Archive' })).status).toBe(201);
    const seeder = await outsider('seeder');
    await seeder.say('archive', Array.from({ length: 120 }, (_, i) => `seed ${i + 1}`));
    seeder.close();
    await alice.reload();
    await alice.getByRole('button', { name: '#archive' }).click();
    await alice.getByText('seed 120', { exact: true }).waitFor();
    // The join brings the latest 50; the rest comes page by page as the person scrolls up.
    expect(await messages(alice).count()).toBe(50);
    const log = alice.getByRole('log', { name: 'Messages' });
    await expect
      .poll(async () => {
        await log.evaluate((el) => (el.scrollTop = 0));
        return messages(alice).count();
      }, { timeout: 15_000 })
      .toBe(120);
    expect((await messages(alice).allTextContents()).slice(0, 3)).toEqual(['seed 1', 'seed 2', 'seed 3']);
  });

  test('counts unread messages in the room list', async () => {
    await bob.reload(); // the room list as a returning person sees it
    await bob.getByRole('button', { name: '#archive' }).click();
    await bob.getByText('seed 120', { exact: true }).waitFor();
    await bob.getByRole('button', { name: '#general' }).click();
    const seeder = await outsider('seeder2');
    await seeder.say('archive', ['unread one', 'unread two']);
    seeder.close();
    await bob.getByRole('button', { name: '#archive' }).getByLabel('2 unread').waitFor();
    await bob.getByRole('button', { name: '#archive' }).click();
    await expect.poll(() => bob.getByLabel(/unread/).count(), { timeout: POLL_MS }).toBe(0);
  });

  test('tells a person in words when an admin removes them from the room', async () => {
    await bob.getByRole('button', { name: '#general' }).click();
    expect((await adminPost('/rooms/general/kick', { username: 'bob' })).status).toBe(204);
    await bob.getByRole('alert').getByText('#general removed you.').waitFor();
  });

  test('shows a server error in words', async () => {
    await send(alice, 'x'.repeat(5000)); // over the default MAX_MESSAGE_BYTES of 4096
    await alice.getByRole('alert').getByText(/too long.*not sent/).waitFor();
    // Refused, so it is neither left "sending…" nor re-sent after a reconnect.
    await expect.poll(() => alice.getByText('sending…').count(), { timeout: POLL_MS }).toBe(0);
  });

  test('a private room by invitation, a moderator made by its owner, and a direct conversation, all from the page', async () => {
    const carolContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    const daveContext = await browser.newContext({ viewport: { width: 1100, height: 720 } });
    try {
      const carol = await carolContext.newPage();
      const dave = await daveContext.newPage();
      for (const [page, name] of [[carol, 'carol'], [dave, 'dave']] as const) {
        await page.goto(server.url);
        await page.getByLabel('Username').fill(name);
        await page.getByLabel('Password').fill('correct horse');
        await page.getByRole('button', { name: 'Register' }).click();
        await expect.poll(() => page.getByRole('status').textContent(), { timeout: POLL_MS }).toBe('Connected');
      }
      // carol makes a private room and invites dave from it.
      await carol.getByLabel('Room id').fill('secret');
      await carol.getByLabel('Title').fill('Secret');
      await carol.getByLabel('Private (by invitation)').check();
      await carol.getByRole('button', { name: 'Create room' }).click();
      await carol.getByRole('heading', { name: 'Secret' }).waitFor();
      await carol.getByLabel('Invite by name').fill('dave');
      await carol.getByRole('button', { name: 'Invite', exact: true }).click();
      await carol.getByRole('alert').getByText('Invited dave to #secret.').waitFor();
      // dave sees it arrive, live, and accepts with the keyboard.
      const accept = dave.getByRole('button', { name: 'Accept the invitation to secret' });
      await accept.focus();
      await dave.keyboard.press('Enter');
      await dave.getByRole('heading', { name: 'Secret' }).waitFor();
      await send(dave, 'thanks for the invite');
      await carol.getByText('thanks for the invite', { exact: true }).waitFor();
      // dave edits his own message in the composer; carol, the owner, deletes it.
      await dave.getByRole('button', { name: 'Edit this message' }).click();
      await expect.poll(() => dave.getByRole('textbox', { name: 'Message' }).inputValue(), { timeout: POLL_MS }).toBe('thanks for the invite');
      await dave.getByRole('textbox', { name: 'Message' }).fill('thanks!');
      await dave.getByRole('textbox', { name: 'Message' }).press('Enter');
      await carol.getByText('thanks!', { exact: true }).waitFor();
      await carol.getByText('(edited)').waitFor();
      await carol.getByRole('button', { name: 'Delete this message by dave' }).click();
      await dave.getByText('message deleted').waitFor();
      expect(await dave.getByRole('button', { name: 'Edit this message' }).count()).toBe(0);
      // carol makes him a moderator: he gets the room's tools; a member does not see them.
      await expect.poll(() => dave.getByLabel('Invite by name').isVisible(), { timeout: POLL_MS }).toBe(false);
      await carol.getByRole('button', { name: 'Make dave a moderator' }).click();
      await dave.getByLabel('Invite by name').waitFor();
      await carol.getByText('dave (moderator)').waitFor();
      // An invite link is shown to copy.
      await dave.getByRole('button', { name: 'Create invite link' }).click();
      await expect.poll(() => dave.locator('p.invite-link').textContent(), { timeout: POLL_MS }).toMatch(/\/\?invite=[\w-]{20,}$/);
      // dave opens a conversation with carol; it appears on her side, named after him.
      await dave.getByLabel('People to talk to').fill('carol');
      await dave.getByRole('button', { name: 'Start conversation' }).click();
      await dave.getByRole('heading', { name: 'carol' }).waitFor();
      await send(dave, 'psst, <b>carol</b>');
      const fromDave = carol.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: /^dave/ });
      await fromDave.click();
      await carol.getByText('psst, <b>carol</b>', { exact: true }).waitFor();
      await carol.screenshot({ path: path.join(shots, 'conversations.png') });
    } finally {
      await carolContext.close();
      await daveContext.close();
    }
  });

  test('an admin runs the console from the page: figures, accounts, rooms and the audit log', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
    try {
      const page = await context.newPage();
      await page.goto(server.url);
      await page.getByLabel('Username').fill('olga');
      await page.getByLabel('Password').fill('correct horse');
      await page.getByRole('button', { name: 'Register' }).click();
      await expect.poll(() => page.getByRole('status').textContent(), { timeout: POLL_MS }).toBe('Connected');
      // Not an admin yet: no console.
      expect(await page.getByRole('button', { name: 'Admin console' }).isVisible()).toBe(false);
      const api = (method: string, p: string, body?: unknown) =>
        fetch(`${server.url}/api${p}`, {
          method,
          headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      expect((await api('PUT', '/admin/users/olga/role', { role: 'admin' })).status).toBe(204);
      expect((await api('POST', '/auth/register', { username: 'pete', password: 'correct horse' })).status).toBe(201);
      await page.reload();
      await page.getByRole('button', { name: 'Admin console' }).click();
      const consoleView = page.getByRole('region', { name: 'Admin console' });
      await consoleView.getByRole('heading', { name: 'Admin console' }).waitFor();
      await expect.poll(async () => Number(await consoleView.locator('dl.stats dd').first().textContent()), { timeout: POLL_MS }).toBeGreaterThanOrEqual(1);
      // Accounts: search, then deactivate pete with the keyboard.
      await consoleView.getByLabel('Search accounts', { exact: true }).fill('pet');
      await consoleView.getByRole('button', { name: 'Search' }).click();
      // Only pete matches (olga was listed before the search answered).
      await expect.poll(() => consoleView.getByRole('list', { name: 'Accounts' }).locator('li').count(), { timeout: POLL_MS }).toBe(1);
      await consoleView.getByRole('list', { name: 'Accounts' }).getByText(/^pete — /).waitFor();
      await consoleView.getByRole('button', { name: 'Deactivate pete' }).focus();
      await page.keyboard.press('Enter');
      await consoleView.getByRole('list', { name: 'Accounts' }).getByText(/^pete \(deactivated\)/).waitFor();
      expect((await api('POST', '/auth/login', { username: 'pete', password: 'correct horse' })).status).toBe(403);
      // Rooms: make one, archive it.
      await consoleView.getByLabel('New room id').fill('ops');
      await consoleView.getByLabel('New room title').fill('Operations');
      await consoleView.getByRole('button', { name: 'Create', exact: true }).click();
      await consoleView.getByText('#ops — Operations', { exact: true }).waitFor();
      await consoleView.getByRole('button', { name: 'Archive ops' }).click();
      await consoleView.getByText('#ops — Operations (archived)').waitFor();
      // The audit log names who did what, newest first.
      const audit = consoleView.getByRole('list', { name: 'Audit log' });
      await audit.getByText(/olga · update_room in #ops$/).waitFor();
      await audit.getByText(/olga · deactivate_user → pete$/).waitFor();
      await audit.getByText(/ADMIN_TOKEN · set_instance_role → olga$/).waitFor();
      // A room's members: ban one, unban by name, rename the room.
      await consoleView.getByRole('button', { name: 'Members of general' }).click();
      const members = consoleView.getByRole('list', { name: 'Members of general' });
      await members.getByText(/^alice/).waitFor();
      await consoleView.getByRole('button', { name: 'Ban alice from general' }).click();
      await audit.getByText(/olga · ban → alice in #general$/).waitFor();
      await expect.poll(() => members.getByText(/^alice/).count(), { timeout: POLL_MS }).toBe(0);
      await consoleView.getByLabel('Unban from general', { exact: true }).fill('alice');
      await consoleView.getByRole('button', { name: 'Unban', exact: true }).click();
      await audit.getByText(/olga · unban → alice in #general$/).waitFor();
      await consoleView.getByLabel('Title of general').fill('General chat');
      await consoleView.getByRole('button', { name: 'Save', exact: true }).click();
      await consoleView.getByText('#general — General chat', { exact: true }).waitFor();
      // A password reset, typed into the field that opens beside the account.
      await consoleView.getByRole('button', { name: 'Reset the password of pete' }).click();
      await consoleView.getByLabel('New password for pete', { exact: true }).fill('another long one');
      await consoleView.getByRole('button', { name: 'Set', exact: true }).click();
      await page.getByRole('alert').getByText('A new password is set for pete; their sessions ended.').waitFor();
      await page.screenshot({ path: path.join(shots, 'admin-console.png') });
      // Back to the chat.
      await page.getByRole('button', { name: 'Admin console' }).click();
      await page.getByRole('navigation', { name: 'Rooms' }).waitFor();
    } finally {
      await context.close();
    }
  });

  test('mentions with the room closed, a reply and its thread, reactions and pins, all from the page', async () => {
    const contexts = [await browser.newContext({ viewport: { width: 1100, height: 800 } }), await browser.newContext({ viewport: { width: 1100, height: 800 } })];
    try {
      const [erin, frank] = [await contexts[0]!.newPage(), await contexts[1]!.newPage()];
      const register = async (page: Page, name: string) => {
        await page.goto(server.url);
        await page.getByLabel('Username').fill(name);
        await page.getByLabel('Password').fill('correct horse');
        await page.getByRole('button', { name: 'Register' }).click();
        await expect.poll(() => page.getByRole('status').textContent(), { timeout: POLL_MS }).toBe('Connected');
      };
      const createRoom = async (page: Page, id: string) => {
        await page.getByLabel('Room id').fill(id);
        await page.getByLabel('Title').fill(id);
        await page.getByRole('button', { name: 'Create room' }).click();
        await page.getByRole('heading', { name: id }).waitFor();
      };
      await register(erin, 'erin');
      await createRoom(erin, 'plans');
      await register(frank, 'frank');
      const frankRooms = frank.getByRole('navigation', { name: 'Rooms' });
      await frankRooms.getByRole('button', { name: /^#plans/ }).click();
      await frank.getByRole('heading', { name: 'plans' }).waitFor();
      // frank moves to a room of his own: #plans is closed, he is still in it.
      await createRoom(frank, 'frank-room');
      await send(erin, '@frank can you look at <this>?');
      await frankRooms.getByRole('button', { name: /^#plans/ }).getByLabel('1 mentioning you').waitFor();
      await frankRooms.getByRole('button', { name: /^#plans/ }).click();
      await expect.poll(() => frank.getByLabel('1 mentioning you').count(), { timeout: POLL_MS }).toBe(0);
      const log = (page: Page) => page.getByRole('log', { name: 'Messages' });
      const mention = log(frank).locator('li.message.mentions-me');
      await mention.getByText('can you look at <this>?').waitFor();
      expect(await mention.locator('mark.mention.own').textContent()).toBe('@frank');

      // frank replies; erin sees the quote, and the parent's thread.
      await mention.getByRole('button', { name: 'Reply to erin' }).click();
      await frank.getByText('Replying to erin').waitFor();
      await frank.getByRole('textbox', { name: 'Message' }).fill('on it');
      await frank.getByRole('textbox', { name: 'Message' }).press('Enter');
      const reply = log(erin).locator('li.message', { hasText: 'on it' });
      await reply.locator('blockquote.quote').getByText('can you look at <this>?').waitFor();
      await erin.getByRole('button', { name: 'Open the thread of 1 reply' }).click();
      await erin.getByRole('list', { name: 'Replies' }).getByText('on it', { exact: true }).waitFor();
      await erin.getByRole('button', { name: 'Close thread' }).click();

      // Reactions: erin picks one with the keyboard; frank adds his to it, then takes it back.
      await reply.getByRole('button', { name: 'React to this message by frank' }).focus();
      await erin.keyboard.press('Enter');
      // The palette opens with the focus on its first emoji: Enter again reacts.
      await expect.poll(() => erin.evaluate(() => document.activeElement?.getAttribute('aria-label')), { timeout: POLL_MS }).toBe('React 👍');
      await erin.keyboard.press('Enter');
      const thumbs = log(frank).locator('li.message', { hasText: 'on it' }).getByRole('button', { name: /^👍 1: erin$/ });
      await thumbs.click();
      await log(erin).getByRole('button', { name: '👍 2: erin, frank' }).waitFor();
      await log(frank).getByRole('button', { name: '👍 2: erin, frank' }).click();
      await log(erin).getByRole('button', { name: '👍 1: erin' }).waitFor();

      // Pins: erin owns the room and pins her question; frank, a member, cannot, and sees it in the pinned list.
      // (The question comes first in the log; the reply below it quotes it.)
      await log(erin).locator('li.message', { hasText: 'can you look' }).first().getByRole('button', { name: 'Pin this message' }).click();
      await log(frank).locator('li.message', { hasText: 'can you look' }).first().getByText('pinned', { exact: true }).waitFor();
      expect(await frank.getByRole('button', { name: 'Pin this message' }).count()).toBe(0);
      await frank.getByRole('button', { name: 'Pinned' }).click();
      await frank.getByRole('list', { name: 'Pinned messages' }).getByText('can you look at <this>?').waitFor();
      await frank.screenshot({ path: path.join(shots, 'threads-reactions.png') });
    } finally {
      for (const c of contexts) await c.close();
    }
  });

  test('a search from the page finds a message in an old page of history, marks the match, and opens it in its room', async () => {
    expect((await adminPost('/rooms', { id: 'findings', title: 'Findings' })).status).toBe(201);
    const seeder = await outsider('finder-seeder');
    const texts = Array.from({ length: 150 }, (_, i) => `hay ${i + 1}`);
    texts[19] = 'the <b>Needle</b> is under the café';
    await seeder.say('findings', texts);
    seeder.close();
    const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
    try {
      const page = await context.newPage();
      const consoleErrors: string[] = [];
      page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
      await page.goto(server.url);
      await page.getByLabel('Username').fill('gina');
      await page.getByLabel('Password').fill('correct horse');
      await page.getByRole('button', { name: 'Register' }).click();
      await expect.poll(() => page.getByRole('status').textContent(), { timeout: POLL_MS }).toBe('Connected');
      // Search covers the rooms one is in: gina joins; the needle is older than the 50 messages a join loads.
      await page.getByRole('navigation', { name: 'Rooms' }).getByRole('button', { name: /^#findings/ }).click();
      await page.getByText('hay 150', { exact: true }).waitFor();
      expect(await page.getByText('hay 21', { exact: true }).count()).toBe(0);

      await page.getByRole('searchbox', { name: 'Search messages' }).fill('needl CAFE');
      await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
      const results = page.getByRole('list', { name: 'Search results' });
      const result = results.getByRole('button', { name: /finder-seeder in #findings/ });
      await result.waitFor();
      expect(await results.getByRole('button').count()).toBe(1);
      // The markup in the message is text; the matches are <mark>s the client made from offsets.
      expect(await result.locator('.snippet').textContent()).toBe('the <b>Needle</b> is under the café');
      expect(await result.locator('mark.match').allTextContents()).toEqual(['Needle', 'café']);
      await page.getByRole('status').filter({ hasText: /1 message for/ }).waitFor();
      await page.screenshot({ path: path.join(shots, 'search.png') });

      // Opening it loads the history around it (it is not in the latest 50) and brings it into view, marked.
      await result.click();
      await page.getByRole('heading', { name: 'Findings' }).waitFor();
      const found = page.getByRole('log', { name: 'Messages' }).locator('li.message.focused');
      await expect.poll(() => found.locator('.text').textContent(), { timeout: POLL_MS }).toBe('the <b>Needle</b> is under the café');
      await expect.poll(() => found.isVisible(), { timeout: POLL_MS }).toBe(true);
      // What lies between it and the latest messages loads a page (50) a click: 45 around it, 50 latest, 55 between.
      const gap = page.getByRole('button', { name: /^Load \d+ more messages?$/ });
      expect(await gap.textContent()).toBe('Load 55 more messages');
      await gap.click();
      await expect.poll(() => gap.textContent(), { timeout: POLL_MS }).toBe('Load 5 more messages');
      await gap.click();
      await expect.poll(() => messages(page).count(), { timeout: POLL_MS }).toBe(150);
      expect(await gap.count()).toBe(0);

      // Nothing found is said; Clear empties the list.
      await page.getByRole('searchbox', { name: 'Search messages' }).fill('nowhere');
      await page.getByRole('searchbox', { name: 'Search messages' }).press('Enter');
      await page.getByText('Nothing found for “nowhere”.').waitFor();
      await page.getByRole('button', { name: 'Clear' }).click();
      expect(await results.getByRole('button').count()).toBe(0);
      expect(consoleErrors).toEqual([]);
    } finally {
      await context.close();
    }
  }, 90_000);

  /** A 4×3 PNG, made once with sharp (the server's image library) and kept as bytes. */
  const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAQAAAADCAIAAAA7ljmRAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAEElEQVQImWMwTjsDRww4OQA/XBC9rAe9TAAAAABJRU5ErkJggg==', 'base64');

  test('files from the attach button, a paste and a drop upload at once, go with a send, and show as a preview or a download link; an oversized one is refused in words', async () => {
    const contexts = [await browser.newContext(), await browser.newContext()];
    try {
      const [sender, reader] = await Promise.all(contexts.map((c) => c.newPage()));
      const signIn = async (page: Page, name: string) => {
        await page.goto(server.url);
        await page.getByLabel('Username').fill(name);
        await page.getByRole('button', { name: 'Continue as guest' }).click();
        await expect.poll(() => page.getByRole('status').textContent(), { timeout: POLL_MS }).toBe('Connected');
      };
      await signIn(sender!, 'filer');
      await sender!.getByLabel('Room id').fill('files');
      await sender!.getByLabel('Title').fill('Files');
      await sender!.getByRole('button', { name: 'Create room' }).click();
      await sender!.getByRole('heading', { name: 'Files' }).waitFor();
      // Signed in after the room exists: its first room list has it (another page sees a new room at the next 30 s refresh).
      await signIn(reader!, 'getter');
      await reader!.getByRole('button', { name: '#files' }).click();
      await reader!.getByRole('heading', { name: 'Files' }).waitFor();
      const tray = sender!.getByRole('list', { name: 'Files to send' });

      // An image, alone (no text): ready, sent, previewed on the other page and loaded.
      await sender!.getByLabel('Files to attach').setInputFiles({ name: 'dot.png', mimeType: 'image/png', buffer: TINY_PNG });
      await tray.getByText('ready').waitFor();
      await sender!.getByRole('button', { name: 'Send' }).click();
      await expect.poll(() => tray.isHidden(), { timeout: POLL_MS }).toBe(true);
      const image = reader!.getByRole('img', { name: 'dot.png' });
      await image.waitFor();
      expect(await image.getAttribute('width')).toBe('4');
      expect(await image.getAttribute('height')).toBe('3');
      await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth), { timeout: POLL_MS }).toBeGreaterThan(0);
      expect(await image.locator('xpath=..').getAttribute('target')).toBe('_blank');

      // A text file with words: a download link with name and size, whose address gives the bytes back.
      await sender!.getByLabel('Files to attach').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('hello file\n') });
      await tray.getByText('ready').waitFor();
      await send(sender!, 'the notes');
      const link = reader!.getByRole('link', { name: 'notes.txt' });
      await link.waitFor();
      await reader!.getByText('(11 B)').waitFor();
      const href = await link.getAttribute('href');
      expect(await reader!.evaluate(async (url) => (await fetch(url!)).text(), href)).toBe('hello file\n');

      // Pasted into the composer, and dropped on the messages: the same tray, the same send.
      await sender!.evaluate(() => {
        const data = new DataTransfer();
        data.items.add(new File(['pasted'], 'pasted.txt', { type: 'text/plain' }));
        document.getElementById('composer-text')!.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
      });
      await sender!.evaluate(() => {
        const data = new DataTransfer();
        data.items.add(new File(['dropped'], 'dropped.txt', { type: 'text/plain' }));
        const log = document.querySelector('[aria-label="Messages"]')!;
        log.dispatchEvent(new DragEvent('dragover', { dataTransfer: data, bubbles: true, cancelable: true }));
        log.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
      });
      await expect.poll(() => tray.getByText('ready').count(), { timeout: POLL_MS }).toBe(2);
      await send(sender!, 'pasted and dropped');
      await reader!.getByRole('link', { name: 'pasted.txt' }).waitFor();
      await reader!.getByRole('link', { name: 'dropped.txt' }).waitFor();

      // Too large (over the 2 MiB this server allows): the server's reason in words, and nothing sent.
      const before = await messages(reader!).count();
      await sender!.getByLabel('Files to attach').setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(3 * 1024 * 1024, 7) });
      const refusal = tray.getByRole('alert');
      await refusal.waitFor({ timeout: POLL_MS });
      expect(await refusal.textContent()).toMatch(/large|bytes|limit/i);
      await sender!.getByRole('button', { name: 'Send' }).click();
      await sender!.getByRole('button', { name: 'Remove big.bin' }).click();
      await expect.poll(() => tray.isHidden(), { timeout: POLL_MS }).toBe(true);
      await new Promise((r) => setTimeout(r, 500));
      expect(await messages(reader!).count()).toBe(before);
    } finally {
      for (const c of contexts) await c.close();
    }
  }, 90_000);
});
