/**
 * The cross-dataset table of the model cards: `visemo compare` on each test set that no model in
 * the chain trained on, six and seven classes, every model on the same images in one run per set.
 * Writes OUT/<set>-<k>.json (compare's JSON) and OUT/cross-dataset.md, and prints the table.
 *
 * Usage: npx tsx scripts/cross-dataset.ts NEW_MODEL[,OTHER…] [OUT] (default OUT: runs/cross-dataset)
 *   NEW_MODEL is a run folder or bundled name with seven classes (a comma list scores several, e.g.
 *   a new run beside the bundled `visemo7`); the old six-class `visemo`, `paper` and face-api.js are
 *   scored beside them (six-class models only in the six-class tables).
 * Needs ../shared/datasets and the folders scripts/wild-data.ts writes into ../visemo-data (the
 * test sets are listed in scripts/test-sets.ts).
 */
import path from 'node:path';
import type { ComparisonResult } from '../src/evaluation/compare.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/atomic.js';
import { formatTable, pct } from '../src/util/table.js';
import { accuracyOf as acc, scoreOn, TEST_SETS as SETS, type TestSet } from './test-sets.js';

const [newArg, outArg] = process.argv.slice(2);
if (!newArg) throw new Error('usage: npx tsx scripts/cross-dataset.ts NEW_MODEL[,OTHER…] [OUT]');
const newModels = newArg.split(',').filter(Boolean);
const out = path.resolve(outArg ?? 'runs/cross-dataset');

const SIX_CLASS_MODELS = ['visemo', 'paper'];

const results: { set: TestSet; k: 6 | 7; r: ComparisonResult }[] = [];
for (const set of SETS) {
  for (const k of set.kinds) {
    const models = k === 7 ? [...newModels, 'faceapi'] : [...newModels, ...SIX_CLASS_MODELS, 'faceapi'];
    const r = await scoreOn(set, k, models);
    await writeJsonAtomic(path.join(out, `${set.id}-${k}.json`), r);
    results.push({ set, k, r });
  }
}

const names = [...newModels, ...SIX_CLASS_MODELS, 'faceapi'];
const rows = results.map(({ set, k, r }) => [`${set.label}, ${k} classes (${r.n})`, ...names.map((m) => (acc(r, m) === undefined ? '—' : pct(acc(r, m)!)))]);
// The targets' mean: seven classes where a set has them, CK+ on six.
const headline = results.filter(({ set, k }) => k === Math.max(...set.kinds));
const mean = (m: string) => headline.reduce((a, { r }) => a + acc(r, m)!, 0) / headline.length;
rows.push([`mean of the ${headline.length} sets (7 classes; CK+ 6)`, ...newModels.map((m) => pct(mean(m))), '—', '—', pct(mean('faceapi'))]);
const table = formatTable(['test set', ...names], rows);
const md = [`| test set | ${names.join(' | ')} |`, `|---|${names.map(() => '---|').join('')}`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
await writeFileAtomic(path.join(out, 'cross-dataset.md'), `${md}\n`);
console.log(table);
console.log(`\nwritten ${out}/*.json and cross-dataset.md`);
