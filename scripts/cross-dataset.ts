/**
 * The cross-dataset table of the model cards: `visemo compare` on each test set that no model in
 * the chain trained on, six and seven classes, every model on the same images in one run per set.
 * Writes OUT/<set>-<k>.json (compare's JSON) and OUT/cross-dataset.md, and prints the table.
 *
 * Usage: npx tsx scripts/cross-dataset.ts NEW_MODEL [OUT] (default OUT: runs/cross-dataset)
 *   NEW_MODEL is a run folder or bundled name with seven classes; the old six-class `visemo`, `paper`
 *   and face-api.js are scored beside it (six-class models only in the six-class tables).
 * Needs ../shared/datasets and the folders scripts/wild-data.ts writes into ../visemo-data.
 */
import path from 'node:path';
import { PAPER_CLASSES } from '../src/data/classes.js';
import { compareModels, type ComparisonResult } from '../src/evaluation/compare.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/atomic.js';
import { formatTable, pct } from '../src/util/table.js';
import { DEFAULT_OUT, SHARED_DATASETS } from './data-links.js';

const [newModel, outArg] = process.argv.slice(2);
if (!newModel) throw new Error('usage: npx tsx scripts/cross-dataset.ts NEW_MODEL [OUT]');
const out = path.resolve(outArg ?? 'runs/cross-dataset');

interface TestSet {
  id: string;
  label: string;
  data: string;
  limitPerClass?: number;
  /** Which class counts the targets use for this set. */
  kinds: (6 | 7)[];
}
const SETS: TestSet[] = [
  { id: 'fer2013', label: 'FER2013 publictest', data: path.join(SHARED_DATASETS, 'fer2013', 'publictest'), kinds: [7, 6] },
  { id: 'sfew', label: 'SFEW val (films never trained on)', data: path.join(SHARED_DATASETS, 'sfew', 'val'), kinds: [7, 6] },
  { id: 'fe', label: 'facial_expressions, held-out people (≤ 200 per class)', data: path.join(DEFAULT_OUT, 'fe-heldout'), limitPerClass: 200, kinds: [7, 6] },
  { id: 'ckplus', label: 'CK+, 35 held-out subjects', data: path.join(DEFAULT_OUT, 'ckplus-heldout'), kinds: [6] },
];
const SIX_CLASS_MODELS = ['visemo', 'paper'];

const results: { set: TestSet; k: 6 | 7; r: ComparisonResult }[] = [];
for (const set of SETS) {
  for (const k of set.kinds) {
    const models = k === 7 ? [newModel, 'faceapi'] : [newModel, ...SIX_CLASS_MODELS, 'faceapi'];
    const r = await compareModels({ data: set.data, models, classes: k === 7 ? 'all' : [...PAPER_CLASSES], limitPerClass: set.limitPerClass, backend: 'wasm', log: (l) => process.stderr.write(`${set.id}-${k}: ${l}\n`) });
    if (r.classes.length !== k) throw new Error(`${set.data} has ${r.classes.length} classes, expected ${k}`);
    await writeJsonAtomic(path.join(out, `${set.id}-${k}.json`), r);
    results.push({ set, k, r });
  }
}

const names = [newModel, ...SIX_CLASS_MODELS, 'faceapi'];
const acc = (r: ComparisonResult, m: string) => r.models.find((x) => x.model === m)?.metrics.accuracy;
const rows = results.map(({ set, k, r }) => [`${set.label}, ${k} classes (${r.n})`, ...names.map((m) => (acc(r, m) === undefined ? '—' : pct(acc(r, m)!)))]);
// The targets' mean: seven classes where a set has them, CK+ on six.
const headline = results.filter(({ set, k }) => k === Math.max(...set.kinds));
const mean = (m: string) => headline.reduce((a, { r }) => a + acc(r, m)!, 0) / headline.length;
rows.push([`mean of the ${headline.length} sets (7 classes; CK+ 6)`, pct(mean(newModel)), '—', '—', pct(mean('faceapi'))]);
const table = formatTable(['test set', ...names], rows);
const md = ['| test set | ' + names.join(' | ') + ' |', '|---|' + names.map(() => '---|').join(''), ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
await writeFileAtomic(path.join(out, 'cross-dataset.md'), md + '\n');
console.log(table);
console.log(`\nwritten ${out}/*.json and cross-dataset.md`);
