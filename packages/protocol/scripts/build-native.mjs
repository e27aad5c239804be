// Builds the optional native masking addon (native/mask.c) with node-gyp.
//
// The package works without it (src/mask.ts falls back to WebAssembly and
// JavaScript), so a machine without a C compiler gets a warning, not a failed
// build. Set CHAT_NATIVE=0 to skip it; CHAT_NATIVE=1 makes a failure fatal
// (.ci/run sets it, so CI cannot quietly lose the fast path).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const nativeDir = fileURLToPath(new URL('../native', import.meta.url));
const binary = new URL('../native/build/Release/chat_mask.node', import.meta.url);
const inputs = ['../native/mask.c', '../native/binding.gyp'].map((p) => new URL(p, import.meta.url));
const mode = process.env.CHAT_NATIVE;

if (mode === '0') {
  console.log('native mask addon: skipped (CHAT_NATIVE=0)');
  process.exit(0);
}

const mtime = (url) => fs.statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const built = mtime(binary);
if (built !== undefined && inputs.every((url) => mtime(url) <= built)) process.exit(0);

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const run = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release'], { cwd: nativeDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (run.status === 0) {
  console.log('native mask addon: built native/build/Release/chat_mask.node');
  process.exit(0);
}
const output = `${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
if (mode === '1') {
  console.error(`native mask addon: node-gyp failed (CHAT_NATIVE=1 makes this fatal)\n${output}`);
  process.exit(1);
}
console.warn(
  `native mask addon: not built, so large frames are masked in WebAssembly instead (slower, same result).\n` +
    `  node-gyp needs python3, make and a C compiler. Its last lines:\n${output.replace(/^/gm, '    ')}`,
);
