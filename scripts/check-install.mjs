// Runs after every `pnpm install` (the root package's postinstall) and before
// `pnpm start` and `pnpm test`: proves that the one native dependency the
// server cannot run without, better-sqlite3, loads, and repairs it when it
// does not.
//
// Why: pnpm retries a build that failed, but one that was interrupted can
// leave the package in place with its binary missing, and then the next
// `pnpm install` reports "Already up to date" in two seconds without running
// any script at all (this postinstall included), so the server would crash on
// a missing binding. Hence the check also runs before start and test: the
// README's command either finishes the build or fails again, naming the fix.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const serverRequire = createRequire(path.join(root, 'apps/server/package.json'));

/** The reason better-sqlite3 cannot open a database here, or undefined when it can. */
function sqliteProblem() {
  try {
    // A fresh process each time: a failed load stays cached inside this one.
    const probe = spawnSync(
      process.execPath,
      ['-e', "const Database = require('better-sqlite3'); new Database(':memory:').prepare('select 1').get();"],
      { cwd: path.join(root, 'apps/server'), encoding: 'utf8' },
    );
    if (probe.status === 0) return undefined;
    return (probe.stderr || `exit code ${probe.status}`).trim().split('\n').find((line) => /Error|error/.test(line)) ?? probe.stderr.trim();
  } catch (error) {
    return String(error);
  }
}

/** node-gyp as pnpm provides it (the one matching its own), else the one our protocol package depends on. */
function nodeGyp() {
  const fromPnpm = process.env.npm_config_node_gyp;
  if (fromPnpm && fs.existsSync(fromPnpm)) return fromPnpm;
  return createRequire(path.join(root, 'packages/protocol/package.json')).resolve('node-gyp/bin/node-gyp.js');
}

function fail(reason, output = '') {
  const tail = output.trim().split('\n').slice(-20).join('\n');
  console.error(
    [
      '',
      'chat: better-sqlite3 (SQLite, which the server needs) did not build here.',
      `  ${reason}`,
      ...(tail ? ['  node-gyp said, last:', tail.replace(/^/gm, '    ')] : []),
      '',
      '  It is compiled from source when no prebuilt binary can be downloaded, which needs',
      '  python3, make and a C++ compiler (Debian/Ubuntu: apt-get install python3 make g++;',
      '  macOS: xcode-select --install), and Node\'s headers: found next to node itself in most',
      '  installs, otherwise downloaded from nodejs.org. Then run the same command again.',
      '',
    ].join('\n'),
  );
  process.exit(1);
}

const problem = sqliteProblem();
if (problem === undefined) process.exit(0);

let packageDir;
try {
  packageDir = path.dirname(fs.realpathSync(serverRequire.resolve('better-sqlite3/package.json')));
} catch {
  fail('It is not installed at all (apps/server depends on it): run `pnpm install` again.');
}
console.log(`chat: better-sqlite3 does not load (${problem}); building it now (about a minute)`);
const build = spawnSync(process.execPath, [nodeGyp(), 'rebuild', '--release'], {
  cwd: packageDir,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (build.error || build.status !== 0) fail(`node-gyp rebuild exited with ${build.error ?? build.status}.`, `${build.stdout}${build.stderr}`);
const after = sqliteProblem();
if (after !== undefined) fail(`It built, but still does not load: ${after}`);
console.log('chat: better-sqlite3 built and opens a database');
