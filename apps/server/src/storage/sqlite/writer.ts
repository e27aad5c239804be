import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConflictError, type AppendResult, type NewMessage } from '../store.js';
import { fromOutcomes, toColumns, type AppendOutcomes } from './append-wire.js';
import type { Synchronous } from './connection.js';

/** Which repository of the writer thread a request goes to. */
export type WriteTarget = 'users' | 'sessions' | 'rooms' | 'invitations' | 'messages' | 'audit' | 'attachments' | 'appends';

export interface WriteRequest {
  id: number;
  target: WriteTarget;
  method: string;
  args: unknown[];
}

export type WriteResponse = { id: number; result: unknown } | { id: number; error: { name: string; message: string } };

/** A thread's entry: next to this file once compiled; from the sources (vitest), its compiled copy in dist/. */
export function threadEntry(name: string): string {
  const here = fileURLToPath(new URL(`./${name}`, import.meta.url));
  if (existsSync(here)) return here;
  // Worker threads cannot load TypeScript: the test runner runs src/, `pnpm test` builds dist/ first.
  return here.replace(/([\\/])src([\\/])storage/, '$1dist$2storage');
}

/**
 * The store's writes, run on the writer thread (see writer-thread.ts). Each
 * call is answered after the commit that holds it, with what the repository
 * on that thread returned, or rejected with its error (a `ConflictError`
 * stays one). Calls are committed in the order they are made.
 */
export class WriterThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (r: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private failure: Error | undefined;
  private readonly exited: Promise<void>;

  /** @param logIsLong one 32-bit flag shared with the `Checkpointer` (it sets it, this thread clears it) */
  constructor(file: string, synchronous: Synchronous, logIsLong: Int32Array) {
    this.worker = new Worker(threadEntry('writer-thread.js'), { workerData: { file, synchronous, logIsLong } });
    // The answers of one commit arrive together, in call order.
    this.worker.on('message', (responses: WriteResponse[]) => {
      for (const response of responses) {
        const waiter = this.waiting.get(response.id);
        if (!waiter) continue;
        this.waiting.delete(response.id);
        if ('error' in response) {
          const { name, message } = response.error;
          waiter.reject(name === 'ConflictError' ? new ConflictError(message) : Object.assign(new Error(message), { name }));
        } else {
          waiter.resolve(response.result);
        }
      }
      if (this.waiting.size === 0) this.worker.unref();
    });
    this.worker.on('error', (err) => this.fail(err));
    this.exited = new Promise((resolve) => {
      this.worker.once('exit', () => {
        this.fail(new Error('the database writer thread has stopped'));
        resolve();
      });
    });
    // Idle, the thread must not keep the process alive; a write in flight does.
    this.worker.unref();
  }

  call<T>(target: WriteTarget, method: string, args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.nextId;
    const answered = new Promise<T>((resolve, reject) =>
      this.waiting.set(id, { resolve: resolve as (r: unknown) => void, reject }),
    );
    if (this.waiting.size === 1) this.worker.ref();
    this.worker.postMessage({ id, target, method, args } satisfies WriteRequest);
    return answered;
  }

  /** Stores a batch of chat messages; `authorName` completes the stored records here (see append-wire.ts). */
  async append(batch: NewMessage[], authorName: (id: number) => string): Promise<AppendResult[]> {
    const outcomes = await this.call<AppendOutcomes>('appends', 'append', [toColumns(batch)]);
    return fromOutcomes(batch, outcomes, authorName);
  }

  /** Lets the thread finish what it was given, then closes its connection. */
  async close(): Promise<void> {
    // Held (ref) until it has exited: an unreferenced thread would let a
    // process with nothing else to do end before the connection is closed.
    this.worker.ref();
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

  /**
   * @param logIsLong the flag shared with the `WriterThread`
   * @param intervalMs how often it copies the log back
   * @param restartFrames from this many frames in the log (4 KiB each), it has the writer start the log over
   */
  constructor(file: string, synchronous: Synchronous, logIsLong: Int32Array, intervalMs = 1000, restartFrames = 4096) {
    this.worker = new Worker(threadEntry('checkpoint-thread.js'), {
      workerData: { file, synchronous, logIsLong, intervalMs, restartFrames },
    });
    // A failed checkpointer costs a growing log, not data: the store keeps working.
    this.worker.on('error', () => {});
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.unref();
  }

  async close(): Promise<void> {
    this.worker.ref(); // as WriterThread.close
    this.worker.postMessage('close');
    await this.exited;
  }
}
