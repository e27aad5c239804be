import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnNode } from '../lib/spawn.js';
import type { Command, DoneNotice, Reply } from './messages.js';

const here = path.dirname(fileURLToPath(import.meta.url));

interface Worker {
  child: ChildProcess;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
}

/**
 * The load generator: `count` worker processes (./worker.ts) holding the
 * client connections, and this side, which sends them commands and relays
 * fan-out completion notices to the worker holding the sender.
 */
export class LoadGenerator {
  private nextId = 1;
  /** Fan-out: the worker whose connection sends; others' `done` notices go to it. */
  senderWorker: number | undefined;

  private constructor(private readonly workers: Worker[]) {
    workers.forEach((w) => {
      w.child.on('message', (msg: Reply | DoneNotice | { ready: true }) => {
        if ('ev' in msg) {
          if (this.senderWorker !== undefined) this.workers[this.senderWorker]!.child.send(msg);
          return;
        }
        if (!('id' in msg)) return;
        const p = w.pending.get(msg.id);
        if (!p) return;
        w.pending.delete(msg.id);
        if (msg.ok) p.resolve(msg.result);
        else p.reject(new Error(msg.error));
      });
      w.child.on('exit', (code, signal) => {
        for (const p of w.pending.values()) p.reject(new Error(`load worker exited (${signal ?? code})`));
        w.pending.clear();
      });
    });
  }

  static async start(count: number): Promise<LoadGenerator> {
    const script = path.join(here, 'worker.js');
    const workers = await Promise.all(
      Array.from({ length: count }, async () => {
        const child = spawnNode([script], { cwd: process.cwd(), env: process.env });
        await new Promise<void>((resolve, reject) => {
          child.once('message', () => resolve());
          child.once('exit', (code) => reject(new Error(`load worker exited during start-up (${code})`)));
        });
        return { child, pending: new Map() } as Worker;
      }),
    );
    return new LoadGenerator(workers);
  }

  get size(): number {
    return this.workers.length;
  }

  pids(): number[] {
    return this.workers.map((w) => w.child.pid!);
  }

  /** Sends a command to worker `index` and resolves with its answer. */
  request<T>(index: number, command: Command): Promise<T> {
    const w = this.workers[index]!;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      w.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      w.child.send({ ...command, id });
    });
  }

  /** The same command to every worker (or one per worker from `make`). */
  all<T>(make: Command | ((index: number) => Command | undefined)): Promise<T[]> {
    return Promise.all(
      this.workers.map((_, i) => {
        const cmd = typeof make === 'function' ? make(i) : make;
        return cmd ? this.request<T>(i, cmd) : Promise.resolve(undefined as T);
      }),
    );
  }

  async close(): Promise<void> {
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.child.exitCode !== null) return resolve();
            w.child.once('exit', () => resolve());
            w.child.disconnect();
            setTimeout(() => w.child.kill('SIGKILL'), 5000).unref();
          }),
      ),
    );
  }
}
