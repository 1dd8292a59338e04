#!/usr/bin/env node
// Builds the oneDNN addon behind the `native` backend (native/src/*.cc) with node-gyp.
// It is the package's `install` script, in a clone (npm ci) and in a project that installs
// visemo. It never fails the install: where the addon cannot be built (no libdnnl-dev, another
// OS, no compiler) it prints one line saying why and how to build it later, and exits 0;
// visemo then runs on the wasm backend, and `visemo doctor` says why native is missing.
// Usage: node scripts/build-native.mjs [--force]   (VISEMO_SKIP_NATIVE=1 skips it)
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const nativeDir = join(root, 'native');
const addon = join(nativeDir, 'build', 'Release', 'visemo_dnnl.node');
// Everything the build reads: binding.gyp, the sources and headers, the generated parameter header.
const sources = [
  join(nativeDir, 'binding.gyp'),
  ...['src', 'generated'].flatMap((dir) => readdirSync(join(nativeDir, dir)).map((f) => join(nativeDir, dir, f))),
];
const HEADER_DIRS = ['/usr/include', '/usr/local/include', '/opt/homebrew/include'];
// A clone has its sources; an installed package rebuilds with npm's own command.
const later = existsSync(join(root, 'src')) ? 'npm run build:native' : 'npm rebuild visemo';

function skip(why) {
  const line = `visemo: native backend not built (${why}); visemo uses wasm. Build it later with \`${later}\` (\`npx visemo doctor\` checks)`;
  console.log(line);
  // npm (7 and later) shows a dependency's install output only when the script fails, and this one
  // never does: at an install in a terminal, the line goes to that terminal too.
  if (process.env.npm_lifecycle_event === 'install' && !process.stdout.isTTY) {
    try {
      appendFileSync('/dev/tty', `\r\x1b[K${line}\n`);
    } catch {
      // no terminal (CI, a pipe): `visemo doctor` says it later
    }
  }
  process.exit(0);
}

/** Whether `cmd --version` runs. */
function runs(cmd) {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

if (process.env.VISEMO_SKIP_NATIVE) skip('VISEMO_SKIP_NATIVE is set');
if (process.platform !== 'linux' && process.platform !== 'darwin') skip(`not supported on ${process.platform}`);
if (!HEADER_DIRS.some((d) => existsSync(join(d, 'dnnl.hpp')))) skip('oneDNN headers not found: install libdnnl-dev');
if (!runs(process.env.CXX || 'c++')) skip('no C++ compiler: install build-essential');
if (!runs('make')) skip('make not found: install build-essential');
if (!runs('python3')) skip('python3 not found: node-gyp needs it');

const force = process.argv.includes('--force');
if (!force && existsSync(addon)) {
  const built = statSync(addon).mtimeMs;
  if (sources.every((f) => statSync(f).mtimeMs <= built)) {
    console.log('visemo: native backend up to date');
    process.exit(0);
  }
}

// node-gyp ships inside npm: npm names it to scripts it runs; else look next to the running npm, then next to node.
const candidates = [
  process.env.npm_config_node_gyp,
  process.env.npm_execpath && join(dirname(dirname(process.env.npm_execpath)), 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  join(dirname(dirname(process.execPath)), 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
].filter(Boolean);
const nodeGyp = candidates.find((p) => existsSync(p));
if (!nodeGyp) skip('node-gyp not found (it ships with npm)');

// Use the headers installed with Node when they are there, so no download is needed.
const args = [nodeGyp, 'rebuild'];
const prefix = dirname(dirname(process.execPath));
if (!process.env.npm_config_nodedir && existsSync(join(prefix, 'include', 'node', 'node_api.h'))) args.push(`--nodedir=${prefix}`);

const started = Date.now();
const result = spawnSync(process.execPath, args, { cwd: nativeDir, encoding: 'utf8' });
if (result.status !== 0 || !existsSync(addon)) {
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`;
  const firstError = output
    .split('\n')
    .find((l) => /error/i.test(l) && !/^gyp info/.test(l))
    ?.trim();
  skip(`node-gyp failed${firstError ? `: ${firstError.slice(0, 160)}` : ''}`);
}
console.log(`visemo: native backend built in ${((Date.now() - started) / 1000).toFixed(1)} s (${addon})`);
