import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@chat/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envOf, parseDockerfile, stages } from '../src/dockerfile.js';
import { freePort, waitForHealthz } from '@chat/test-support';

/**
 * No Docker engine runs here, so the image is proven another way: the
 * Dockerfile's build stage is replayed step by step in a clean temporary
 * folder (COPY from the committed tree, each RUN as a shell command), then the
 * final stage's command starts with the compose file's environment, and a
 * smoke test signs in, chats over WebSocket and reads history.
 *
 * OS-level steps (apt-get, the global pnpm) are the machine's: this one has
 * Node's build tools and pnpm already.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const root = mkdtempSync(path.join(os.tmpdir(), 'chat-image-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Container paths → folders under the temporary root. */
const CONTAINER = { '/src': 'src', '/out': 'out', '/app': 'out', '/data': 'data' } as const;
const hostPath = (p: string) => {
  for (const [from, to] of Object.entries(CONTAINER)) {
    if (p === from || p.startsWith(`${from}/`)) return path.join(root, to, p.slice(from.length));
  }
  return p;
};
const mapCommand = (cmd: string) =>
  cmd.replace(/(^|\s)(\/(?:src|out|app|data))(?=[\s/]|$)/g, (_m, pre: string, p: string) => `${pre}${hostPath(p)}`);

const tracked = execFileSync('git', ['ls-files', '-z'], { cwd: repo, encoding: 'utf8' }).split('\0').filter(Boolean);

function copyFromContext(sources: string[], destination: string, cwd: string): void {
  const target = path.isAbsolute(destination) ? hostPath(destination) : path.join(cwd, destination);
  for (const source of sources) {
    const clean = source.replace(/\/$/, '');
    const files = tracked.filter((f) => f === clean || f.startsWith(`${clean}/`));
    if (files.length === 0) throw new Error(`COPY ${source}: nothing in the build context`);
    for (const file of files) {
      // `COPY a b c ./` puts files in the folder; `COPY packages ./packages` puts the tree under it.
      const relative = file === clean ? path.basename(file) : path.relative(clean, file);
      const to = path.join(target, relative);
      mkdirSync(path.dirname(to), { recursive: true });
      cpSync(path.join(repo, file), to);
    }
  }
}


describe('the image, built and run without Docker', () => {
  const all = stages(parseDockerfile(readFileSync(path.join(repo, 'Dockerfile'), 'utf8')));
  const build = all.find((s) => s.name === 'build')!;
  const final = all[all.length - 1]!;

  it('replays the build stage: production install, build, prune', () => {
    let cwd = root;
    for (const ins of build.instructions) {
      if (ins.keyword === 'WORKDIR') {
        cwd = hostPath(ins.args[0]!);
        mkdirSync(cwd, { recursive: true });
      } else if (ins.keyword === 'COPY') {
        copyFromContext(ins.args.slice(0, -1), ins.args.at(-1)!, cwd);
      } else if (ins.keyword === 'RUN') {
        if (/\bapt-get\b|npm install -g/.test(ins.raw)) continue; // the machine's own tools
        execFileSync('bash', ['-ec', mapCommand(ins.raw)], { cwd, stdio: ['ignore', 'ignore', 'pipe'], env: process.env });
      }
    }
    const out = hostPath('/out');
    expect(readFileSync(path.join(out, 'web/index.html'), 'utf8')).toContain('<div id="app">');
    // Pruned: production dependencies only.
    const installed = execFileSync('ls', [path.join(out, 'node_modules/.pnpm')], { encoding: 'utf8' });
    expect(installed).toMatch(/better-sqlite3@/);
    expect(installed).not.toMatch(/vitest@|typescript@|playwright-core@/);
    // The masking addon is built in the build stage and shipped: the server in the image masks natively.
    // (Wherever this machine built it for the repo, so could the image's build stage, which has the compilers.)
    if (existsSync(path.join(repo, 'packages/protocol/native/build/Release/chat_mask.node'))) {
      const backend = execFileSync(process.execPath, ['--input-type=module', '-e', "console.log((await import('@chat/protocol')).maskBackend)"], {
        cwd: out,
        encoding: 'utf8',
      });
      expect(backend.trim()).toBe('native');
    }
  }, 600_000);

  it('starts with the compose environment; a person signs in, chats and reads history; SIGTERM exits 0', async () => {
    for (const ins of final.instructions) {
      if (ins.keyword === 'RUN') execFileSync('bash', ['-ec', mapCommand(ins.raw.replace(/&& chown \S+ \S+/, ''))]);
    }
    const compose = parse(readFileSync(path.join(repo, 'docker-compose.yml'), 'utf8')) as {
      services: { chat: { environment: Record<string, string> } };
    };
    const dotenv = Object.fromEntries(
      readFileSync(path.join(repo, '.env.example'), 'utf8')
        .split('\n')
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const imageEnv = Object.assign({}, ...final.instructions.filter((i) => i.keyword === 'ENV').map(envOf)) as Record<string, string>;
    const port = await freePort();
    const env: Record<string, string> = { ...imageEnv, ...dotenv, ...compose.services.chat.environment };
    // Container paths become the temporary folders; tests listen on loopback only.
    for (const key of ['DATABASE_PATH', 'WEB_ROOT']) env[key] = hostPath(env[key]!);
    Object.assign(env, { PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', PATH: process.env.PATH ?? '' });

    const cmd = final.instructions.find((i) => i.keyword === 'CMD')!.args;
    const child = spawn(cmd[0] === 'node' ? process.execPath : cmd[0]!, cmd.slice(1), {
      cwd: hostPath(final.instructions.find((i) => i.keyword === 'WORKDIR')!.args[0]!),
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitForHealthz(base, 20_000, 'the server did not start');
      expect(await (await fetch(base)).text()).toContain('<div id="app">');
      const post = (p: string, body: unknown, token?: string) =>
        fetch(base + p, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
          body: JSON.stringify(body),
        });
      const signUp = await post('/api/auth/register', { username: 'alice', password: 'correct horse' });
      expect(signUp.status).toBe(201);
      const { token } = (await signUp.json()) as { token: string };
      expect((await post('/api/admin/rooms', { id: 'general', title: 'General' }, env.ADMIN_TOKEN)).status).toBe(201);

      const ws = await connect(`ws://127.0.0.1:${port}/ws`, { headers: { authorization: `Bearer ${token}` }, protocols: ['chat.v1'] });
      const inbox: Array<{ type: string; text?: string }> = [];
      const next = (type: string) =>
        new Promise<{ type: string; text?: string }>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`no ${type}`)), 5000);
          const check = () => {
            const i = inbox.findIndex((m) => m.type === type);
            if (i >= 0) {
              clearTimeout(timer);
              ws.off('message', check);
              resolve(inbox.splice(i, 1)[0]!);
            }
          };
          ws.on('message', check);
          check();
        });
      ws.on('message', (d) => inbox.push(JSON.parse(d.toString()) as { type: string }));
      ws.send(JSON.stringify({ type: 'join', room: 'general' }));
      await next('joined');
      ws.send(JSON.stringify({ type: 'send', room: 'general', text: 'hello from the image', clientMsgId: 'smoke-1' }));
      expect((await next('message')).text).toBe('hello from the image');
      ws.close();

      const history = (await (await fetch(`${base}/api/rooms/general/messages`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        messages: Array<{ text: string }>;
      };
      expect(history.messages.map((m) => m.text)).toEqual(['hello from the image']);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
