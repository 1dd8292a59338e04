#!/usr/bin/env node
// `npm test`: every *.test.ts under src/ and test/, at any depth, in one `node --test` run, one
// file at a time; exits with its status. (Node 20's --test takes no globs, and a shell glob such
// as src/*/*.test.ts silently skips deeper folders.)
// Usage: node scripts/run-tests.mjs [folder or file …] [--node-test-option …]
//   e.g. node scripts/run-tests.mjs src/engine --test-name-pattern=wasm
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/** Test files under `dir`, sorted, skipping node_modules and dot folders. */
function testFiles(dir) {
  if (!statSync(dir).isDirectory()) return [dir];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const options = args.filter((a) => a.startsWith('--'));
const roots = args.filter((a) => !a.startsWith('--'));
const missing = roots.filter((r) => !existsSync(r));
if (missing.length) {
  console.error(`run-tests: not found: ${missing.join(', ')}`);
  process.exit(1);
}
const files = (roots.length ? roots : ['src', 'test']).flatMap(testFiles);
if (files.length === 0) {
  console.error(`run-tests: no *.test.ts under ${roots.join(', ')}`);
  process.exit(1);
}
const run = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...options, ...files], { stdio: 'inherit' });
if (run.error) throw run.error;
process.exit(run.status ?? 1);
