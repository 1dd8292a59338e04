/**
 * What alignment and distillation each buy: runs that differ in one setting, scored on the test
 * sets of the model cards. Runs trained on box crops are scored with face-api.js on the sets
 * themselves (one `compare` run per set and class count); runs trained on aligned faces on the
 * aligned copies of the same images (`visemo align`, see scripts/test-sets.ts).
 * Writes OUT/<set>-<k>[-aligned].json (compare's JSON) and OUT/ablation.md, and prints the table.
 *
 * Usage: npx tsx scripts/ablation.ts [--box RUN[,RUN…]] [--aligned RUN[,RUN…]] [--out DIR]
 *   (at least one run; default OUT: runs/ablation). Every run must have seven classes. face-api.js
 *   is always scored on the sets themselves, as the reference.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ComparisonResult } from '../src/evaluation/compare.js';
import { writeFileAtomic, writeJsonAtomic } from '../src/util/atomic.js';
import { formatTable, pct } from '../src/util/table.js';
import { accuracyOf, scoreOn, TEST_SETS } from './test-sets.js';

const { values } = parseArgs({ options: { box: { type: 'string' }, aligned: { type: 'string' }, out: { type: 'string' } } });
const list = (s: string | undefined) => (s ? s.split(',').filter(Boolean) : []);
const box = list(values.box);
const aligned = list(values.aligned);
if (box.length + aligned.length === 0) throw new Error('usage: npx tsx scripts/ablation.ts [--box RUN[,RUN…]] [--aligned RUN[,RUN…]] [--out DIR]');
const out = path.resolve(values.out ?? 'runs/ablation');
const columns = [...box, ...aligned, 'faceapi'];

const rows: string[][] = [];
const headline: Map<string, number[]> = new Map(columns.map((m) => [m, []]));
for (const set of TEST_SETS) {
  for (const k of set.kinds) {
    const results: ComparisonResult[] = [await scoreOn(set, k, [...box, 'faceapi'])];
    await writeJsonAtomic(path.join(out, `${set.id}-${k}.json`), results[0]);
    if (aligned.length) {
      const r = await scoreOn(set, k, aligned, true);
      if (r.n !== results[0]!.n) throw new Error(`${set.aligned} has ${r.n} images where ${set.data} has ${results[0]!.n}: align it again`);
      await writeJsonAtomic(path.join(out, `${set.id}-${k}-aligned.json`), r);
      results.push(r);
    }
    const acc = (m: string) => results.map((r) => accuracyOf(r, m)).find((a) => a !== undefined)!;
    rows.push([`${set.label}, ${k} classes (${results[0]!.n})`, ...columns.map((m) => pct(acc(m)))]);
    if (k === set.kinds[0]) columns.forEach((m) => headline.get(m)!.push(acc(m)));
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
rows.push([`mean of the ${TEST_SETS.length} sets (7 classes; CK+ 6)`, ...columns.map((m) => pct(mean(headline.get(m)!)))]);
const header = ['test set', ...box.map((m) => `${path.basename(m)} (box)`), ...aligned.map((m) => `${path.basename(m)} (aligned)`), 'faceapi'];
const md = [`| ${header.join(' | ')} |`, `|---|${columns.map(() => '---|').join('')}`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
await writeFileAtomic(path.join(out, 'ablation.md'), `${md}\n`);
console.log(formatTable(header, rows));
console.log(`\nwritten ${out}/*.json and ablation.md`);
