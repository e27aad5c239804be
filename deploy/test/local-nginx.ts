/**
 * deploy/nginx/cluster.conf in a real nginx (Debian's) on a free loopback
 * port, in front of local replicas: only the addresses change — the
 * upstream's chat-1…chat-3 become 127.0.0.1 ports. For the nginx tests here
 * and the fault test that kills a real node behind it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from '@chat/test-support';
import { type Directive, directives, formatNginxConf, parseNginxConf } from '../src/nginx-conf.js';

export const NGINX = process.env.NGINX_PATH ?? '/usr/sbin/nginx';
export const haveNginx = existsSync(NGINX);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface LocalNginx {
  port: number;
  stop(): Promise<void>;
}

/** nginx with the shipped cluster.conf, its upstream members at these ports (by name: chat-1…); resolves once it listens. */
export async function startLocalNginx(replicaPorts: Map<string, number>): Promise<LocalNginx> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'chat-nginx-'));
  const port = await freePort();
  const conf = parseNginxConf(readFileSync(path.join(repo, 'deploy/nginx/cluster.conf'), 'utf8'));
  const members = directives(conf, 'upstream')[0]!.block!.filter((d) => d.name === 'server');
  if (members.length !== replicaPorts.size) throw new Error(`the upstream names ${members.length} members, the test has ${replicaPorts.size}`);
  writeFileSync(path.join(dir, 'cluster.conf'), formatNginxConf(localCopy(conf, replicaPorts, port)));
  // What nginx:1.27-alpine's own nginx.conf provides around conf.d/, with every path in the temporary folder.
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    [
      'worker_processes 1;',
      `pid ${dir}/nginx.pid;`,
      `error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      'http {',
      '    access_log off;',
      ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `    ${kind}_temp_path ${dir}/${kind};`),
      `    include ${dir}/cluster.conf;`,
      '}',
      '',
    ].join('\n'),
  );
  let stderr = '';
  const nginx: ChildProcess = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
  nginx.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<never>((_resolve, reject) =>
    nginx.once('exit', (code) => reject(new Error(`nginx exited with ${code}: ${stderr}${readLog(dir)}`))),
  );
  exited.catch(() => undefined); // after start-up, exiting is stop()'s doing
  await Promise.race([exited, listening(port)]);
  return {
    port,
    async stop() {
      if (nginx.exitCode === null && nginx.signalCode === null) {
        const gone = new Promise((resolve) => nginx.once('exit', resolve));
        nginx.kill('SIGTERM');
        const timer = setTimeout(() => nginx.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The shipped file with only its addresses changed. `resolve` goes too: the
 * members become IP addresses, which need no resolving, and Debian's nginx
 * predates the parameter (1.27.3).
 */
export function localCopy(conf: Directive[], ports: Map<string, number>, listen: number): Directive[] {
  return conf.map((d) => {
    if (d.name === 'upstream') {
      const block = d.block!.map((member) => {
        if (member.name !== 'server') return member;
        const [address, ...params] = member.args;
        const host = address!.split(':')[0]!;
        const port = ports.get(host);
        if (port === undefined) throw new Error(`the upstream names ${host}, which is not a replica here`);
        return { ...member, args: [`127.0.0.1:${port}`, ...params.filter((p) => p !== 'resolve')] };
      });
      return { ...d, block };
    }
    if (d.name === 'server') {
      const block = d.block!.map((inner) => (inner.name === 'listen' ? { ...inner, args: [`127.0.0.1:${listen}`] } : inner));
      return { ...d, block };
    }
    return d;
  });
}

function readLog(dir: string): string {
  try {
    return readFileSync(path.join(dir, 'error.log'), 'utf8');
  } catch {
    return '';
  }
}

/** Resolves once something accepts connections on the port; gives up after 10 s. */
async function listening(port: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.setTimeout(1000);
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
      socket.once('timeout', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
