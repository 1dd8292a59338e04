/**
 * The four test sets of the model cards (no model in the bundled chain trained on them), with the
 * aligned copies `visemo align` makes of them for models trained on aligned faces, and a helper
 * that scores models on one set with `visemo compare`.
 */
import path from 'node:path';
import { PAPER_CLASSES } from '../src/data/classes.js';
import { compareModels, type ComparisonResult } from '../src/evaluation/compare.js';
import { DEFAULT_OUT, SHARED_DATASETS } from './data-links.js';

export interface TestSet {
  id: string;
  label: string;
  data: string;
  /** Where `visemo align` writes its aligned copy (see alignTestSetsCommands). */
  aligned: string;
  limitPerClass?: number;
  /** Which class counts the targets use for this set, headline first. */
  kinds: (6 | 7)[];
}

export const TEST_SETS: TestSet[] = [
  {
    id: 'fer2013',
    label: 'FER2013 publictest',
    data: path.join(SHARED_DATASETS, 'fer2013', 'publictest'),
    aligned: path.join(DEFAULT_OUT, 'fer2013-publictest-aligned'),
    kinds: [7, 6],
  },
  {
    id: 'sfew',
    label: 'SFEW val (films never trained on)',
    data: path.join(SHARED_DATASETS, 'sfew', 'val'),
    aligned: path.join(DEFAULT_OUT, 'sfew-val-aligned'),
    kinds: [7, 6],
  },
  {
    id: 'fe',
    label: 'facial_expressions, held-out people (≤ 200 per class)',
    data: path.join(DEFAULT_OUT, 'fe-heldout'),
    aligned: path.join(DEFAULT_OUT, 'fe-heldout-aligned'),
    limitPerClass: 200,
    kinds: [7, 6],
  },
  {
    id: 'ckplus',
    label: 'CK+, 35 held-out subjects',
    data: path.join(DEFAULT_OUT, 'ckplus-heldout'),
    aligned: path.join(DEFAULT_OUT, 'ckplus-heldout-aligned'),
    kinds: [6],
  },
];

/** One `compare` run of `models` on `set` (its aligned copy if `aligned`), on k classes. */
export async function scoreOn(set: TestSet, k: 6 | 7, models: string[], aligned = false): Promise<ComparisonResult> {
  const data = aligned ? set.aligned : set.data;
  const r = await compareModels({
    data,
    models,
    classes: k === 7 ? 'all' : [...PAPER_CLASSES],
    limitPerClass: set.limitPerClass,
    backend: 'wasm',
    log: (l) => process.stderr.write(`${set.id}-${k}${aligned ? '-aligned' : ''}: ${l}\n`),
  });
  if (r.classes.length !== k) throw new Error(`${data} has ${r.classes.length} classes, expected ${k}`);
  return r;
}

export const accuracyOf = (r: ComparisonResult, model: string): number | undefined => r.models.find((x) => x.model === model)?.metrics.accuracy;
