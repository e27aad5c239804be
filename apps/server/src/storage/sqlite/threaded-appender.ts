import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { AppendResult, NewMessage } from '../store.js';
import type { Synchronous } from './connection.js';

export interface AppendRequest {
  id: number;
  batch: NewMessage[];
}

export type AppendResponse = { id: number; results: AppendResult[] } | { id: number; error: string };

/** A thread's entry: next to this file once compiled; from the sources (vitest), its compiled copy in dist/. */
export function threadEntry(name: string): string {
  const here = fileURLToPath(new URL(`./${name}`, import.meta.url));
  if (existsSync(here)) return here;
  // Worker threads cannot load TypeScript: the test runner runs src/, `pnpm test` builds dist/ first.
  return here.replace(/([\\/])src([\\/])storage/, '$1dist$2storage');
}

/**
 * `appendMessages` on the writer thread (see writer-thread.ts). Each call is
 * answered after its batch is committed there, with the same results the
 * in-thread repository would give.
 */
export class ThreadedAppender {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: AppendResult[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  constructor(file: string, synchronous: Synchronous) {
    this.worker = new Worker(threadEntry('writer-thread.js'), { workerData: { file, synchronous } });
    this.worker.on('message', (response: AppendResponse) => {
      const waiter = this.waiting.get(response.id);
      if (!waiter) return;
      this.waiting.delete(response.id);
      if ('error' in response) waiter.reject(new Error(response.error));
      else waiter.resolve(response.results);
    });
    this.worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        this.fail(new Error('the message writer thread has stopped'));
        resolve();
      });
    });
    // Idle, the thread must not keep the process alive; a batch in flight does (see append).
    this.worker.unref();
  }

  append(batch: NewMessage[]): Promise<AppendResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.nextId;
    const answered = new Promise<AppendResult[]>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    if (this.waiting.size === 1) this.worker.ref();
    this.worker.postMessage({ id, batch } satisfies AppendRequest);
    return answered.finally(() => {
      if (this.waiting.size === 0) this.worker.unref();
    });
  }

  /** Lets the thread finish what it was given, then closes its connection. */
  async close(): Promise<void> {
    if (!this.failure) this.worker.postMessage('close');
    await this.exited;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const waiter of this.waiting.values()) waiter.reject(err);
    this.waiting.clear();
  }
}

/** Runs checkpoint-thread.ts until closed. */
export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(file: string, synchronous: Synchronous, intervalMs = 1000) {
    this.worker = new Worker(threadEntry('checkpoint-thread.js'), { workerData: { file, synchronous, intervalMs } });
    // A failed checkpointer costs a growing log, not data: the store keeps working.
    this.worker.on('error', () => {});
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.unref();
  }

  async close(): Promise<void> {
    this.worker.postMessage('close');
    await this.exited;
  }
}
