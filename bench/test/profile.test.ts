import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { summarizeProfile } from '../src/profile.js';

/** root → send (ours) → writeBuffer (native); plus (idle). Samples 1 ms apart from t = 1000 µs. */
function profile(): string {
  const nodes = [
    { id: 1, callFrame: { functionName: '(root)', url: '', lineNumber: -1 }, children: [2, 4] },
    { id: 2, callFrame: { functionName: 'send', url: 'file:///repo/apps/server/dist/plugins/realtime.js', lineNumber: 9 }, children: [3] },
    { id: 3, callFrame: { functionName: 'writeBuffer', url: '', lineNumber: -1 } },
    { id: 4, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 } },
  ];
  const samples = [3, 3, 2, 4, 3, 3];
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'prof-')), 'p.cpuprofile');
  writeFileSync(file, JSON.stringify({ nodes, startTime: 1000, endTime: 7000, samples, timeDeltas: samples.map(() => 1000) }));
  return file;
}

describe('summarizeProfile', () => {
  it('counts self and inclusive time as shares of busy time', () => {
    const s = summarizeProfile(profile(), '/repo');
    expect(s.busy).toBeCloseTo(5 / 6);
    expect(s.self[0]).toEqual({ fn: 'writeBuffer', share: 0.8 });
    expect(s.inclusive[0]).toEqual({ fn: 'send apps/server/dist/plugins/realtime.js:10', share: 1 });
    expect(s.areas.find((a) => a.area === 'apps/server')?.share).toBeCloseTo(0.2);
  });

  it('reads only the samples inside a window', () => {
    // Samples land at 2000, 3000, …, 7000 µs; keep 2000–3000: two writeBuffer samples.
    const s = summarizeProfile(profile(), '/repo', [2000, 3000]);
    expect(s.busy).toBe(1);
    expect(s.self).toEqual([{ fn: 'writeBuffer', share: 1 }]);
  });
});
