import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForHealthz } from '@chat/test-support';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * A newcomer's first five minutes, replayed: the README's first command, as
 * printed, in a copy of this tree as `git clone` would give it, in a shell that
 * has nothing a user would not have: a new HOME (no ~/.npmrc settings, no pnpm
 * store, no build cache), a PATH with only the system's directories and a
 * fresh global npm prefix (so `npm i -g pnpm` installs the pnpm of the day),
 * no `npm_config_*`. Only the certificate variables pass, since this
 * machine's TLS goes through them. PORT is the one addition, so that the test
 * does not collide with a server already on 8080.
 *
 * First without a working compiler (it must fail), then with one (the same
 * command must install, build and serve). Then the install is broken the way
 * an interrupted build leaves it (the package in place, its binary missing,
 * pnpm's next install "Already up to date"): without a compiler the command
 * must fail saying what to install, with one it must repair the tree.
 *
 * It downloads every dependency and compiles better-sqlite3 twice: minutes.
 */
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const INSTALL_MS = 9 * 60_000;

const readmeCommands = (readme: string): string[] =>
  readme
    .match(/^```sh\n([\s\S]*?)^```/m)![1]!
    .split('\n')
    .filter(Boolean)
    .map((line) => line.replace(/\s+#.*$/, ''));

const root = mkdtempSync(path.join(os.tmpdir(), 'chat-front-door-'));
const home = path.join(root, 'home');
const prefix = path.join(root, 'npm-global');
const clone = path.join(root, 'chat');
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What a user's login shell would have, and no more. */
function userEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { HOME: home, PATH: [path.join(prefix, 'bin'), '/usr/local/bin', '/usr/bin', '/bin'].join(':'), ...extra };
  for (const name of ['NODE_EXTRA_CA_CERTS', 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'LANG']) {
    const value = process.env[name];
    if (value) env[name] = value;
  }
  return env;
}

/** The tree as a clone of it would be once this change is committed: tracked and new files, nothing ignored. */
function copyTree(): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repo, encoding: 'utf8' })
    .split('\0')
    .filter(Boolean);
  for (const file of files) {
    const from = path.join(repo, file);
    if (!existsSync(from)) continue; // deleted in the work tree, not yet in the index
    mkdirSync(path.dirname(path.join(clone, file)), { recursive: true });
    cpSync(from, path.join(clone, file));
  }
  execFileSync('git', ['init', '-q'], { cwd: clone });
}

function run(command: string, env: Record<string, string>): { status: number | null; output: string } {
  const result = spawnSync('bash', ['-c', command], { cwd: clone, env, encoding: 'utf8', timeout: INSTALL_MS, maxBuffer: 64 * 1024 * 1024 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const betterSqliteBinary = () => {
  const store = path.join(clone, 'node_modules/.pnpm');
  const dir = readFileSync(path.join(clone, 'pnpm-lock.yaml'), 'utf8').match(/^ {2}better-sqlite3@([\d.]+):/m)![1];
  return path.join(store, `better-sqlite3@${dir}`, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
};
const opensSqlite = () =>
  spawnSync(process.execPath, ['-e', "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"], { cwd: path.join(clone, 'apps/server') }).status === 0;

describe('the README, verbatim, on a fresh machine', () => {
  const readme = readFileSync(path.join(repo, 'README.md'), 'utf8');
  const [startCommand = '', testCommand = ''] = readmeCommands(readme);
  const noCompiler = { CXX: '/bin/false', CC: '/bin/false' };

  it('starts with the two commands: one runs the server, one runs every test', () => {
    expect(startCommand).toMatch(/pnpm start$/);
    expect(testCommand).toMatch(/pnpm test$/);
    // .ci/run runs the second one from the README itself.
    expect(readFileSync(path.join(repo, '.ci/run'), 'utf8')).not.toMatch(/export (npm_config_|NPM_CONFIG_|CHAT_NATIVE)/);
  });

  /** Runs the first command until the server answers /healthz; returns what it printed. */
  async function serve(): Promise<string> {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const server = spawn('bash', ['-c', startCommand], { cwd: clone, env: userEnv({ PORT: String(port) }), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    server.stdout.on('data', (chunk: Buffer) => (output += chunk));
    server.stderr.on('data', (chunk: Buffer) => (output += chunk));
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      const up = waitForHealthz(base, INSTALL_MS, 'the server did not come up');
      const early = exited.then((code) => Promise.reject(new Error(`the command exited with ${code} before the server came up`)));
      await Promise.race([up, early]).catch((error: Error) => {
        throw new Error(`${error.message}:\n${output.split('\n').slice(-60).join('\n')}`);
      });
      const page = await fetch(base);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="app">');
      return output;
    } finally {
      if (server.exitCode === null) process.kill(-server.pid!, 'SIGTERM');
      await exited;
    }
  }

  it('its first command, without a compiler, fails at the build; with one, the same command installs, builds and serves the chat', async () => {
    mkdirSync(home, { recursive: true });
    // The machine's trust store, as its system-wide npmrc gives it (a new prefix would lose it).
    const cafile = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(path.join(home, '.npmrc'), `prefix=${prefix}\n${cafile && cafile !== 'null' ? `cafile=${cafile}\n` : ''}`);
    copyTree();
    const failed = run(startCommand, userEnv(noCompiler));
    expect(failed.status, failed.output).not.toBe(0);
    expect(failed.output).toMatch(/better-sqlite3@[\d.]+ install: .*node-gyp rebuild/);

    const output = await serve();
    expect(output).not.toMatch(/wants Node\.js/);
    expect(output, 'the start-up line names the masking backend').toMatch(/"masking":"native"/);
  }, 2 * INSTALL_MS + 60_000);

  it('a better-sqlite3 whose binary went missing, without a compiler: the same command fails, naming what to install', () => {
    rmSync(betterSqliteBinary());
    expect(opensSqlite()).toBe(false);
    const { status, output } = run(startCommand, userEnv(noCompiler));
    expect(status, output).not.toBe(0);
    expect(output, 'pnpm sees nothing to do').toMatch(/Already up to date/);
    expect(output).toMatch(/better-sqlite3 .* did not build here/);
    expect(output).toMatch(/python3, make and a C\+\+ compiler/);
    expect(output).toMatch(/run the same command again/);
  }, INSTALL_MS);

  it('and once the compiler is back, the same command repairs it and serves', async () => {
    const output = await serve();
    expect(output).toMatch(/better-sqlite3 built and opens a database/);
    expect(opensSqlite()).toBe(true);
  }, INSTALL_MS + 60_000);
});
