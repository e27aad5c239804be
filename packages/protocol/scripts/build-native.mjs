// Builds the optional native masking addon (native/mask.c) with node-gyp.
//
// The package works without it (src/mask.ts falls back to WebAssembly and
// JavaScript), so a machine without a C compiler gets a warning, not a failed
// build. Why it was not built is kept in native/build-failed.txt, so that the
// chat server's start-up line can say so (src/mask.ts reads it). Set
// CHAT_NATIVE=0 to skip the addon.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const nativeDir = fileURLToPath(new URL('../native', import.meta.url));
const binary = new URL('../native/build/Release/chat_mask.node', import.meta.url);
const failure = new URL('../native/build-failed.txt', import.meta.url);
const inputs = ['../native/mask.c', '../native/binding.gyp'].map((p) => new URL(p, import.meta.url));

if (process.env.CHAT_NATIVE === '0') {
  console.log('native mask addon: skipped (CHAT_NATIVE=0)');
  process.exit(0);
}

const mtime = (url) => fs.statSync(url, { throwIfNoEntry: false })?.mtimeMs;
const built = mtime(binary);
if (built !== undefined && inputs.every((url) => mtime(url) <= built)) process.exit(0);

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
const run = spawnSync(process.execPath, [nodeGyp, 'rebuild', '--release'], { cwd: nativeDir, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
if (run.status === 0) {
  fs.rmSync(failure, { force: true });
  console.log('native mask addon: built native/build/Release/chat_mask.node');
  process.exit(0);
}
const lines = `${run.error ?? ''}${run.stdout ?? ''}${run.stderr ?? ''}`.trim().split('\n');
// node-gyp's own error lines say what was missing (a compiler, python, the headers); the rest is noise.
const reason =
  lines.find((line) => /gyp ERR! (stack Error|find Python|configure error)|not found|No such file/.test(line))?.replace(/^gyp ERR! (stack )?/, '') ??
  `node-gyp exited with ${run.status}`;
fs.writeFileSync(failure, `${reason.trim()}\n\n${lines.slice(-40).join('\n')}\n`);
console.warn(
  `native mask addon: not built, so large frames are masked in WebAssembly instead (slower, same result).\n` +
    `  node-gyp needs python3, make and a C compiler. Its last lines (all in native/build-failed.txt):\n` +
    lines.slice(-15).join('\n').replace(/^/gm, '    '),
);
