/**
 * Soft targets that a dataset brings with its images: `soft-targets.csv` at the dataset's root,
 * one row per image, `file,<class>,<class>,…` with the image's path relative to the root and a
 * non-negative weight per class (crowd votes such as FER+'s ten, or a mix such as 0.5/0.5 for a
 * compound expression). A row's weights are normalised to sum to 1. Training uses such a row in
 * place of the image's one-hot label; images without a row keep their label.
 *
 * Columns naming classes the run does not train are dropped before normalising (a six-class run
 * on seven-class votes), and a row left with no weight is an error naming the file and line.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { VisemoError } from '../util/errors.js';
import { hashHex } from '../util/hash.js';
import { normaliseClassName } from './classes.js';

export const SOFT_TARGETS_FILE = 'soft-targets.csv';

export interface SoftTargets {
  file: string;
  /** Hash of the file's bytes: a resumed run checks its targets did not change. */
  hash: string;
  /** Dataset-relative path → weights over the run's classes, summing to 1. */
  rows: Map<string, Float32Array>;
}

/** The dataset's soft targets over `classes`, or null when it has no soft-targets.csv. */
export async function readSoftTargets(root: string, classes: readonly string[]): Promise<SoftTargets | null> {
  const file = path.join(root, SOFT_TARGETS_FILE);
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null;
    throw new VisemoError(`cannot read ${file}: ${err.message}`, 'fix its permissions, or remove it to train on the labels alone');
  });
  if (text === null) return null;
  return { file, hash: hashHex(text, 16), rows: parseSoftTargets(text, classes, file) };
}

export function parseSoftTargets(text: string, classes: readonly string[], file: string): Map<string, Float32Array> {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split(',').map((h) => h.trim()) ?? [];
  if (header[0] !== 'file' || header.length < 2) {
    throw new VisemoError(`${file}: the first line must be 'file,<class>,<class>,…'`, `e.g. 'file,${classes.slice(0, 2).join(',')}'`);
  }
  // Column j of the file → index of the run's class, or −1 for a class the run leaves out.
  const column = header.slice(1).map((h) => classes.indexOf(normaliseClassName(h)));
  const rows = new Map<string, Float32Array>();
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n]!;
    if (line.trim() === '') continue;
    const cells = line.split(',');
    const where = `${file} line ${n + 1}`;
    if (cells.length !== header.length)
      throw new VisemoError(`${where} has ${cells.length} fields, the header ${header.length}`, 'give one weight per class column');
    const rel = cells[0]!.trim();
    const row = new Float32Array(classes.length);
    column.forEach((k, j) => {
      const v = Number(cells[j + 1]);
      if (!Number.isFinite(v) || v < 0)
        throw new VisemoError(`${where}: '${cells[j + 1]}' is not a non-negative number`, 'weights are vote counts or shares, 0 or more');
      if (k >= 0) row[k]! += v;
    });
    const sum = row.reduce((a, v) => a + v, 0);
    if (!(sum > 0)) throw new VisemoError(`${where}: ${rel} has no weight on any class of this run (${classes.join(', ')})`, 'remove the row or the image');
    if (rows.has(rel)) throw new VisemoError(`${where}: ${rel} is listed twice`, 'keep one row per image');
    rows.set(
      rel,
      row.map((v) => v / sum),
    );
  }
  return rows;
}

/**
 * The per-row "label" part of the training targets (n × k, row-major): an image's soft target
 * where the file lists it, its one-hot label otherwise, zeros for unlabeled rows (label −1).
 */
export function labelTargets(rels: readonly string[], labels: ArrayLike<number>, numClasses: number, soft: SoftTargets | null): Float32Array {
  const out = new Float32Array(rels.length * numClasses);
  rels.forEach((rel, i) => {
    const label = labels[i]!;
    if (label < 0) return;
    const row = soft?.rows.get(rel);
    if (row) out.set(row, i * numClasses);
    else out[i * numClasses + label] = 1;
  });
  return out;
}
