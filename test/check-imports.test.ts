/**
 * scripts/check-imports.mjs on small synthetic src/ trees: each kind of cycle fails the check
 * (exit 1, naming the edges), and a clean tree passes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CHECKER = fileURLToPath(new URL('../scripts/check-imports.mjs', import.meta.url));
const tmp = mkdtempSync(path.join(os.tmpdir(), 'visemo-check-imports-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes `files` (path under src/ → source) into a fresh tree and runs the checker on its src/. */
function check(name: string, files: Record<string, string>, ...flags: string[]): { status: number | null; out: string } {
  const src = path.join(tmp, name, 'src');
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(src, rel)), { recursive: true });
    writeFileSync(path.join(src, rel), text);
  }
  const r = spawnSync(process.execPath, [CHECKER, src, ...flags], { encoding: 'utf8' });
  return { status: r.status, out: r.stdout + r.stderr };
}

test('two folders that import each other fail, named with the edges that tie them', () => {
  const { status, out } = check('folders', {
    'a/one.ts': "import { two } from '../b/two.js';\nexport const one = two + 1;\n",
    // Type-only imports count: they are what ties folders together at design time.
    'b/two.ts': "import type { Three } from '../a/three.js';\nexport const two: Three = 2;\n",
    'a/three.ts': 'export type Three = number;\n',
  });
  assert.equal(status, 1, out);
  assert.match(out, /1 folder cycle\n {2}src\/a\/ <-> src\/b\/\n/);
  assert.match(out, /src\/a\/one\.ts -> src\/b\/two\.ts/);
  assert.match(out, /src\/b\/two\.ts -> src\/a\/three\.ts/);
  assert.doesNotMatch(out, /file cycle/);
});

test('a longer folder cycle (a → b → c → a) fails too', () => {
  const { status, out } = check('ring', {
    'a/x.ts': "export * from '../b/y.js';\n",
    'b/y.ts': "export { z } from '../c/z.js';\n",
    'c/z.ts': "import '../a/w.js';\nexport const z = 1;\n",
    'a/w.ts': 'export const w = 1;\n',
  });
  assert.equal(status, 1, out);
  assert.match(out, /src\/a\/ <-> src\/b\/ <-> src\/c\//);
});

test('a file cycle inside one folder fails', () => {
  const { status, out } = check('files', {
    'a/x.ts': "import { y } from './y.js';\nexport const x = () => y;\n",
    'a/y.ts': "import {\n  x,\n} from './x.js';\nexport const y = () => x;\n",
  });
  assert.equal(status, 1, out);
  assert.match(out, /1 file cycle\n {2}src\/a\/x\.ts <-> src\/a\/y\.ts\n/);
  assert.doesNotMatch(out, /folder cycle/);
});

test('a cycle closed by a dynamic import() fails', () => {
  const { status, out } = check('dynamic', {
    'a/registry.ts': "export async function load() {\n  return (await import('./impl.js')).impl;\n}\n",
    'a/impl.ts': "import type { load } from './registry.js';\nexport const impl: typeof load | null = null;\n",
  });
  assert.equal(status, 1, out);
  assert.match(out, /src\/a\/impl\.ts -> src\/a\/registry\.ts/);
  assert.match(out, /src\/a\/registry\.ts -> src\/a\/impl\.ts/);
});

test('a clean tree passes; tests, comments, strings and root files do not make cycles', () => {
  const { status, out } = check('clean', {
    'index.ts': "export * from './a/x.js';\nexport * from './b/y.js';\n",
    'version.ts': "export const version = '1';\n",
    'a/x.ts':
      "import { version } from '../version.js';\n// import { y } from '../b/y.js';\n/* import('../b/y.js') */\nexport const x = version + \"import { y } from '../b/y.js'\";\n",
    'a/x.test.ts': "import { y } from '../b/y.js';\n",
    'b/y.ts': "import { x } from '../a/x.js';\nimport { readFileSync } from 'node:fs';\nexport const y = x + readFileSync;\n",
  });
  assert.equal(status, 0, out);
  assert.match(out, /no folder or file import cycles among 4 files/);
});

test('--warn prints the cycles but exits 0', () => {
  const { status, out } = check('warn', { 'a/x.ts': "import './y.js';\n", 'a/y.ts': "import './x.js';\n" }, '--warn');
  assert.equal(status, 0, out);
  assert.match(out, /1 file cycle/);
});
