/**
 * The package's entry points (package.json "exports"): each subpath names a built file whose source
 * is an entry file in src/, each entry exports what its docs say, and the root entry ('visemo', the
 * recogniser) loads none of the tooling: importing it must not pull in training, the server or the
 * queue (and so bullmq), which have entry points of their own.
 */
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, string | { types: string; import: string }> };

/** What each entry must export (values at run time; types are checked by scripts/check-package.sh's strict TypeScript file). */
const ENTRIES: Record<string, string[]> = {
  '.': ['EmotionRecognizer', 'runPredict', 'analyseVideoFile', 'resolveModel', 'DEFAULT_MODEL', 'INFERENCE_DEFAULTS', 'TRACKING_DEFAULTS', 'useBackend'],
  './train': ['prepare', 'trainRun', 'buildModel', 'buildPaperCnn', 'runExperiment', 'averageModels'],
  './evaluate': ['evaluateRun', 'compareModels', 'runAudit', 'auditBreakdown', 'writeAuditReport'],
  './export': ['exportModel'],
  './server': ['startServer', 'SERVER_DEFAULTS'],
  './queue': ['addVideoJobs', 'queueStatus', 'runWorker'],
};

/** src/<name>.ts for a subpath's built file ./dist/<name>.js. */
function sourceOf(subpath: string): string {
  const target = pkg.exports[subpath];
  assert.ok(target && typeof target === 'object', `exports["${subpath}"] is an object with types and import`);
  const m = /^\.\/dist\/(.+)\.js$/.exec(target.import);
  assert.ok(m, `exports["${subpath}"].import is ./dist/<name>.js, not ${target.import}`);
  assert.equal(target.types, `./dist/${m[1]}.d.ts`);
  return path.join(ROOT, 'src', `${m[1]}.ts`);
}

test('every subpath export has an entry file in src/, and each entry exports its names', async () => {
  const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
  assert.deepEqual(subpaths.sort(), Object.keys(ENTRIES).sort());
  for (const [subpath, names] of Object.entries(ENTRIES)) {
    const file = sourceOf(subpath);
    assert.ok(existsSync(file), `${subpath}: ${file} exists`);
    const mod = (await import(file)) as Record<string, unknown>;
    for (const name of names) assert.ok(mod[name] !== undefined, `${subpath} exports ${name}`);
  }
});

/** Relative modules a file imports at load time: static imports and re-exports, type-only ones left out. */
function loadTimeImports(file: string): string[] {
  const code = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '');
  const out: string[] = [];
  for (const m of code.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s*'(\.[^']+)'/gm)) if (!m[2]) out.push(m[3]!);
  for (const m of code.matchAll(/^\s*import\s+'(\.[^']+)'/gm)) out.push(m[1]!);
  return out.map((s) => path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')));
}

/** Every file `entry` loads at load time, following relative static imports. */
function loadClosure(entry: string): Set<string> {
  const seen = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    todo.push(...loadTimeImports(file).filter((f) => existsSync(f)));
  }
  return seen;
}

test("'visemo/queue' loads without bullmq (an optional package): no file it loads imports bullmq's values", () => {
  const closure = loadClosure(sourceOf('./queue'));
  const valueImport = /^\s*import\s+(?!type\b)[^;]*?from\s*'bullmq'/m;
  const importers = [...closure].filter((f) => valueImport.test(readFileSync(f, 'utf8'))).map((f) => path.relative(ROOT, f));
  assert.deepEqual(importers, [], `'visemo/queue' loads bullmq through ${importers.join(', ')}`);
  // The check itself sees a value import where there is one.
  assert.ok(valueImport.test(readFileSync(path.join(ROOT, 'src/queue/worker.ts'), 'utf8')), 'worker.ts imports bullmq, and the pattern finds it');
});

// export/'s graph builder is not tooling here: emotion-net runs a model on onnxruntime-node through it.
test('the root entry loads none of the tooling (training, experiment, prepare, evaluation, reports, server, queue)', () => {
  const seen = loadClosure(sourceOf('.'));
  const tooling = [...seen]
    .map((f) => path.relative(path.join(ROOT, 'src'), f))
    .filter((f) => /^(training|experiment|prepare|evaluation|server|queue|report)\//.test(f));
  assert.deepEqual(tooling, [], `'visemo' loads tooling modules: ${tooling.join(', ')}`);
  assert.ok(seen.size > 20, `followed the root entry's imports (${seen.size} files)`);
});
