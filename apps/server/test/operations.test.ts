import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import https from 'node:https';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '@chat/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { ADMIN_TOKEN, build, tempDir, type TestServer } from './helpers/build.js';
import { openClient } from './helpers/chat-client.js';
import { createRoom, request, signUp } from './helpers/http.js';
import { testStore } from './helpers/postgres.js';

const run = promisify(execFile);
const serverRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/**
 * The backup CLI's environment: only what it needs, never the runner's own
 * DATABASE_URL (CI exports one, and the CLI would then rightly refuse).
 */
const cliEnv = (env: Record<string, string>) => ({ PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env });

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});
const start = async (...args: Parameters<typeof build>) => {
  const s = await build(...args);
  servers.push(s);
  return s;
};

describe('/metrics', () => {
  it('needs the admin token (or METRICS_TOKEN) and answers in Prometheus text format', async () => {
    const server = await start();
    expect((await request(server, 'GET', '/metrics')).status).toBe(401);
    expect((await request(server, 'GET', '/metrics', { token: 'wrong-token-0123456789' })).status).toBe(401);
    const res = await request(server, 'GET', '/metrics', { token: ADMIN_TOKEN });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^# TYPE chat_ws_connections gauge$/m);

    const own = await start({ METRICS_TOKEN: 'metrics-token-0123456789' });
    expect((await request(own, 'GET', '/metrics', { token: 'metrics-token-0123456789' })).status).toBe(200);
    expect((await request(own, 'GET', '/metrics', { token: ADMIN_TOKEN })).status).toBe(401);
  });

  it('counts connections, messages, fan-out, commits, refused handshakes and errors', async () => {
    const server = await start();
    await createRoom(server, 'general');
    const alice = await openClient(server, { token: (await signUp(server, 'alice')).token, name: 'alice' });
    const bob = await openClient(server, { token: (await signUp(server, 'bob')).token, name: 'bob' });
    await alice.join('general');
    await bob.join('general');
    await alice.say('general', 'hello');
    await bob.next('message');
    alice.connection.send('{nope');
    await alice.next('error');
    await expect(connect(server.wsUrl)).rejects.toMatchObject({ status: 401 });

    const text = (await request(server, 'GET', '/metrics', { token: ADMIN_TOKEN })).text;
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1]);
    expect(value('chat_ws_connections')).toBe(2);
    expect(value('chat_messages_stored_total')).toBe(1);
    expect(value('chat_broadcast_fanout_count')).toBe(1);
    expect(value('chat_broadcast_fanout_sum')).toBe(2);
    expect(value('chat_db_commit_seconds_count')).toBe(1);
    expect(value('chat_ws_handshakes_rejected_total{status="401"}')).toBe(1);
    expect(value('chat_errors_total{code="bad_json"}')).toBe(1);
    expect(value('chat_ws_messages_in_total')).toBeGreaterThanOrEqual(4);
    expect(value('chat_ws_messages_out_total')).toBeGreaterThanOrEqual(5);
    expect(value('chat_ws_send_buffer_bytes')).toBeGreaterThanOrEqual(0);
    // Scraped again: the frame counters go on from where they were (they are handed over, not reset).
    const again = (await request(server, 'GET', '/metrics', { token: ADMIN_TOKEN })).text;
    const valueIn = (t: string, line: string) => Number(new RegExp(`^${line} (\\S+)$`, 'm').exec(t)?.[1]);
    expect(valueIn(again, 'chat_ws_messages_out_total')).toBeGreaterThanOrEqual(value('chat_ws_messages_out_total'));
    expect(valueIn(again, 'chat_messages_stored_total')).toBe(1);
  });

  it('carries the process metrics operators expect: CPU, memory, heap, GC, event-loop lag, handles', async () => {
    const server = await start();
    const text = (await request(server, 'GET', '/metrics', { token: ADMIN_TOKEN })).text;
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_gc_duration_seconds',
      'nodejs_active_handles_total',
    ]) {
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    }
    // Each name once, though many apps share the process (every test server has its own registry).
    expect(text.match(/^# TYPE nodejs_heap_size_used_bytes /gm)).toHaveLength(1);
    expect(text.match(/^# TYPE chat_ws_connections /gm)).toHaveLength(1);
  });
});

describe('pnpm admin (the first admin, from the machine the server runs on)', () => {
  it('promotes, lists and demotes against the live database; the session counts at once; the last admin stays', async ({ skip }) => {
    skip(testStore === 'postgres', 'run against the SQLite file here; with DATABASE_URL it opens PostgreSQL the same way');
    const server = await start();
    const alice = await signUp(server, 'alice');
    const admin = (...args: string[]) =>
      run(process.execPath, ['dist/cli/admin.js', ...args], { cwd: serverRoot, env: cliEnv({ DATABASE_PATH: server.databasePath, INIT_CWD: serverRoot }) });
    expect((await admin('list')).stdout).toMatch(/no admins yet/);
    expect((await request(server, 'GET', '/api/admin/rooms', { token: alice.token })).status).toBe(403);
    expect((await admin('promote', 'alice')).stdout).toMatch(/alice is now an admin/);
    expect((await request(server, 'GET', '/api/admin/rooms', { token: alice.token })).status).toBe(200);
    expect((await admin('list')).stdout.trim()).toBe('alice');
    await expect(admin('demote', 'alice')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/last admin/) });
    await expect(admin('promote', 'nobody')).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/no account nobody/) });
    await expect(admin('promote')).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/usage/) });
    expect((await request(server, 'GET', '/api/admin/rooms', { token: alice.token })).status).toBe(200);
  });
});

describe('backup and restore', () => {
  it('takes an online backup while the server runs; a new server on the restored file has identical history', async ({ skip }) => {
    skip(testStore === 'postgres', 'SQLite only: the backup CLI copies the SQLite file; PostgreSQL is backed up with pg_dump');
    const server = await start();
    await createRoom(server, 'general');
    const alice = await openClient(server, { token: (await signUp(server, 'alice')).token, name: 'alice' });
    await alice.join('general');
    for (let i = 1; i <= 30; i++) await alice.say('general', `message ${i}`);
    const history = async (s: TestServer, token: string) =>
      (await request(s, 'GET', '/api/rooms/general/messages?limit=100', { token })).body.messages;
    const before = await history(server, (await signUp(server, 'reader')).token);
    expect(before).toHaveLength(30);

    const dir = await tempDir();
    try {
      const file = path.join(dir.path, 'backup.db');
      // The CLI as an operator runs it, against the live database (the server keeps it open in WAL mode).
      const { stdout } = await run(process.execPath, ['dist/backup.js', file], {
        cwd: serverRoot,
        env: cliEnv({ DATABASE_PATH: server.databasePath, INIT_CWD: serverRoot }),
      });
      expect(stdout).toMatch(/backed up .* pages/);
      // Writing goes on during and after the backup; the copy is the state at backup time.
      await alice.say('general', 'after the backup');

      const restored = await start({}, { databasePath: file });
      const login = await request(restored, 'POST', '/api/auth/login', { body: { username: 'reader', password: 'correct-horse-battery' } });
      expect(login.status).toBe(200);
      expect(await history(restored, login.body.token)).toEqual(before);
      await restored.close();
    } finally {
      await dir.remove();
    }
  });

  it('says how to use it when the file is missing', async () => {
    await expect(run(process.execPath, ['dist/backup.js'], { cwd: serverRoot, env: cliEnv({}) })).rejects.toMatchObject({ code: 2 });
  });

  it('refuses, pointing to pg_dump, when DATABASE_URL is set', async () => {
    const dir = await tempDir();
    try {
      const refused = run(process.execPath, ['dist/backup.js', path.join(dir.path, 'backup.db')], {
        cwd: serverRoot,
        env: cliEnv({ DATABASE_URL: 'postgres://chat:secret@db.invalid/chat', DATABASE_PATH: path.join(dir.path, 'chat.db') }),
      });
      await expect(refused).rejects.toMatchObject({ code: 2, stderr: expect.stringMatching(/DATABASE_URL is set.*pg_dump/) });
      // It stopped before touching anything: no copy was written.
      await expect(readFile(path.join(dir.path, 'backup.db'))).rejects.toMatchObject({ code: 'ENOENT' });
    } finally {
      await dir.remove();
    }
  });
});

describe('TLS', () => {
  it('serves HTTPS and wss:// with TLS_CERT and TLS_KEY', async () => {
    const dir = await tempDir();
    try {
      const cert = path.join(dir.path, 'cert.pem');
      const key = path.join(dir.path, 'key.pem');
      await run('openssl', [
        'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost',
        '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost', '-keyout', key, '-out', cert,
      ]);
      const ca = await readFile(cert);
      const config = loadConfig({
        DATABASE_PATH: path.join(dir.path, 'chat.db'), ADMIN_TOKEN, LOG_LEVEL: 'silent', TLS_CERT: cert, TLS_KEY: key,
      });
      const app = await buildApp(config);
      try {
        await app.listen({ port: 0, host: '127.0.0.1' });
        const { port } = app.server.address() as { port: number };
        const get = (p: string, headers: Record<string, string> = {}, body?: string) =>
          new Promise<{ status: number; body: string; cookie: string | undefined; hsts: string | undefined }>((resolve, reject) => {
            const req = https.request({ host: '127.0.0.1', port, path: p, method: body ? 'POST' : 'GET', ca, headers }, (res) => {
              let data = '';
              res.on('data', (c) => (data += c));
              res.on('end', () => resolve({ status: res.statusCode!, body: data, cookie: res.headers['set-cookie']?.[0], hsts: res.headers['strict-transport-security'] }));
            });
            req.on('error', reject);
            req.end(body);
          });
        const health = await get('/healthz');
        expect(health.status).toBe(200);
        // Speaking TLS itself, the server asks browsers to keep to it (HSTS, half a year).
        expect(health.hsts).toMatch(/^max-age=15552000/);
        const guest = await get('/api/auth/guest', { 'content-type': 'application/json' }, JSON.stringify({ username: 'tls-user' }));
        expect(guest.status).toBe(201);
        // Over HTTPS the session cookie is marked Secure.
        expect(guest.cookie).toMatch(/; Secure/i);
        const { token } = JSON.parse(guest.body) as { token: string };
        const ws = await connect(`wss://127.0.0.1:${port}/ws`, {
          headers: { authorization: `Bearer ${token}` },
          protocols: ['chat.v1'],
          tls: { ca },
        });
        expect(ws.protocol).toBe('chat.v1');
        const reply = new Promise<string>((resolve) => ws.once('message', (d) => resolve(d.toString())));
        ws.send(JSON.stringify({ type: 'join', room: 'nowhere' }));
        expect(JSON.parse(await reply)).toMatchObject({ type: 'error', code: 'not_found' });
        ws.close();
        // A plain-HTTP client cannot talk to it.
        await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
      } finally {
        await app.close();
      }
    } finally {
      await dir.remove();
    }
  });

  it('refuses to start with only one of TLS_CERT and TLS_KEY', () => {
    expect(() => loadConfig({ TLS_CERT: '/x.pem' })).toThrow(/TLS_CERT and TLS_KEY must be set together/);
  });
});
