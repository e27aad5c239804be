/**
 * Loaded into every benchmarked server (`node --expose-gc --import …`), ours
 * included, so that all three are measured the same way without touching
 * their code. Over the IPC channel the orchestrator opened it answers
 * `{ cmd: 'gc' }` (collect garbage until the heap settles, then report memory),
 * and it exits when the orchestrator goes away, so no server outlives a run.
 */
const gc = (globalThis as { gc?: () => void }).gc;

if (process.send) {
  process.on('message', (msg: { cmd?: string; id?: number }) => {
    if (msg?.cmd !== 'gc') return;
    void (async () => {
      for (let i = 0; i < 4 && gc; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 40));
      }
      const m = process.memoryUsage();
      process.send!({ id: msg.id, gc: gc !== undefined, rss: m.rss, heapUsed: m.heapUsed, external: m.external });
    })();
  });
  // The channel must not keep a server alive by itself, nor outlive the orchestrator.
  process.channel?.unref();
  process.on('disconnect', () => process.exit(0));
}

export {};
