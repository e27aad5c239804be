/**
 * Infrastructure a fault test owns: a Redis server and a PostgreSQL cluster
 * it starts, kills and starts again on the same port (never the machine's
 * shared ones).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, until, within } from '../delivery/support.js';

export const REDIS_SERVER = ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));

/** Whether something answers PING on the port (a raw RESP exchange: no client library, no reconnects). */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export class OwnRedis {
  private child: ChildProcess | undefined;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(await freePort());
    await redis.restart();
    return redis;
  }

  /** Starts it (again) on its port, keeping nothing on disk, as the machine's own; resolves once it answers. */
  async restart(): Promise<void> {
    if (!REDIS_SERVER) throw new Error('no redis-server on this machine');
    this.child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await until(`redis-server on ${this.port} to answer`, () => answersPing(this.port), 10_000, 50);
  }

  /** Kills it at once (SIGKILL): a crash, not a shutdown. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await within('redis-server to exit', exited, 5000);
    this.child = undefined;
  }
}

const run = promisify(execFile);

/** Debian's PostgreSQL server binaries (initdb, pg_ctl), the newest installed. */
export const POSTGRES_BIN = (() => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
})();

/**
 * A PostgreSQL cluster of the test's own in a temporary directory, trust
 * authentication on 127.0.0.1. PostgreSQL refuses to run as root, so as root
 * it runs as the `postgres` system user (Debian's package makes it).
 */
export class OwnPostgres {
  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  private static async as(command: string, args: string[]): Promise<void> {
    const root = process.getuid?.() === 0;
    // runuser lives in sbin, which a plain user's PATH may lack.
    const runuser = ['/usr/sbin/runuser', '/sbin/runuser'].find((p) => existsSync(p)) ?? 'runuser';
    await run(root ? runuser : command, root ? ['-u', 'postgres', '--', command, ...args] : args, { timeout: 60_000 });
  }

  static async start(): Promise<OwnPostgres> {
    if (!POSTGRES_BIN) throw new Error('no PostgreSQL server binaries under /usr/lib/postgresql');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-faults-pg-'));
    if (process.getuid?.() === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const pg = new OwnPostgres(await freePort(), dir);
    await OwnPostgres.as(path.join(POSTGRES_BIN, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8']);
    await pg.restart();
    return pg;
  }

  /** Starts the server (again) on its port; resolves once it accepts connections. */
  async restart(): Promise<void> {
    const options = `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c fsync=off`;
    await OwnPostgres.as(path.join(POSTGRES_BIN!, 'pg_ctl'), ['-D', path.join(this.dir, 'data'), '-o', options, '-l', path.join(this.dir, 'log'), '-w', '-t', '30', 'start']);
  }

  /** Stops it at once (`immediate`: no checkpoint, connections cut, as a crash). */
  async kill(): Promise<void> {
    await OwnPostgres.as(path.join(POSTGRES_BIN!, 'pg_ctl'), ['-D', path.join(this.dir, 'data'), '-m', 'immediate', '-w', 'stop']).catch(() => {});
  }

  /**
   * Stops every process of the cluster (SIGSTOP) without closing a
   * connection: a database that no longer answers, as a hung host or a
   * network dropping packets looks to its clients. `thaw` lets it go on.
   */
  async freeze(): Promise<void> {
    await this.signalAll('STOP');
  }

  async thaw(): Promise<void> {
    await this.signalAll('CONT');
  }

  private async signalAll(signal: 'STOP' | 'CONT'): Promise<void> {
    const postmaster = Number(readFileSync(path.join(this.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
    // The postmaster stopped first and resumed last: it forks no backend the signal would miss.
    if (signal === 'STOP') process.kill(postmaster, 'SIGSTOP');
    const { stdout } = await run('pgrep', ['-P', String(postmaster)]).catch(() => ({ stdout: '' }));
    for (const pid of stdout.split('\n').filter(Boolean).map(Number)) process.kill(pid, `SIG${signal}`);
    if (signal === 'CONT') process.kill(postmaster, 'SIGCONT');
  }

  async destroy(): Promise<void> {
    await this.thaw().catch(() => {});
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
