import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

/**
 * Spawns node with an IPC channel, through a shell that first raises the soft
 * fd limit to the hard one (10,000 sockets need more than the usual 1,024),
 * then `exec`s — so the pid is node's own and /proc/<pid>/stat is its CPU.
 */
export function spawnNode(args: string[], options: { cwd: string; env: NodeJS.ProcessEnv }): ChildProcess {
  const child = spawn('/bin/sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  return child;
}

/** Kills every child still running (on the way out, whatever happened). */
export function killChildren(): void {
  for (const child of live) child.kill('SIGKILL');
}
