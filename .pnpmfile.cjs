// pnpm reads this file before every install and `pnpm run`.
//
// Why it exists: native addons (better-sqlite3, our masking addon) are compiled
// by node-gyp, which by default downloads Node's C headers from nodejs.org.
// Machines that reach only a package registry cannot download them, although
// most Node installs carry the very same headers next to the binary
// (<prefix>/include/node: Debian's nodejs, the official tarballs and Docker
// images, nvm, fnm, volta). npm can be told so with `nodedir` in ~/.npmrc, but
// the pnpm that `npm i -g pnpm` installs (12) hands no such setting to build
// scripts. So here, where it costs one file read, we find the local headers
// and give every script `npm_config_nodedir`, which node-gyp reads. Where
// there are none (or they belong to another Node version) nothing is set and
// node-gyp downloads them as usual.
const fs = require('node:fs');
const path = require('node:path');

/** The install prefix whose include/node holds the headers of the Node running now, if any. */
function localNodeDir() {
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  const include = path.join(prefix, 'include', 'node');
  let header;
  try {
    header = fs.readFileSync(path.join(include, 'node_version.h'), 'utf8');
  } catch {
    return undefined;
  }
  if (!fs.existsSync(path.join(include, 'common.gypi'))) return undefined;
  const part = (name) => header.match(new RegExp(`#define ${name} (\\d+)`))?.[1];
  const version = `${part('NODE_MAJOR_VERSION')}.${part('NODE_MINOR_VERSION')}.${part('NODE_PATCH_VERSION')}`;
  // Headers of another version would build an addon that refuses to load.
  return version === process.versions.node ? prefix : undefined;
}

module.exports = {
  localNodeDir,
  hooks: {
    updateConfig(config) {
      // A nodedir the user chose wins.
      if (process.env.npm_config_nodedir || process.env.NPM_CONFIG_NODEDIR) return config;
      const nodedir = localNodeDir();
      if (nodedir === undefined) return config;
      return { ...config, extraEnv: { ...config.extraEnv, npm_config_nodedir: nodedir } };
    },
  },
};
