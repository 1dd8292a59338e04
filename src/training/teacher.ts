/**
 * Knowledge distillation (`train --teacher`): the training targets mix the labels with the class
 * probabilities of one or more teacher models (face-api.js's expression net, or our own runs).
 *
 * A teacher's probabilities are computed once per image and cached on disk, keyed by the image's
 * content hash and the teacher (face-api's package version, or a run's weights hash), so later runs
 * and resumed ones read them back. They are folded to the student's classes and softened by the
 * temperature T (p^(1/T), renormalised). The target is then (1−w)·labels + w·teacher, trained with
 * the usual cross-entropy: its gradient is that of w·KL(teacher ‖ student) plus the label term.
 * (The student's own temperature is 1: its softmax sits inside the model.) An image without a label
 * (label −1) learns from the teachers alone.
 *
 * Several teachers are averaged. A teacher that lacks some of the student's classes (a six-class
 * run teaching a seven-class model has no neutral) leaves those classes to the others: it gives
 * their mean probability to them and scales its own to the remaining mass.
 */
import type { TeacherSpec } from '../config/recipe.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeItems, type DecodedSet } from '../data/decoded-set.js';
import type { ImageItem } from '../data/image-folder.js';
import { FACEAPI_MODEL, loadClassifier, type Classifier } from '../inference/classifier.js';
import { RUN_FILES } from '../model/run-files.js';
import { readJson, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { hashHex } from '../util/hash.js';
import { startProgress } from '../util/progress.js';

/** Where teacher probabilities are cached: VISEMO_CACHE_DIR, else ~/.cache/visemo. */
export function defaultCacheDir(): string {
  return path.join(process.env.VISEMO_CACHE_DIR ?? path.join(os.homedir(), '.cache', 'visemo'), 'teachers');
}

interface CacheFile {
  teacher: string;
  classes: string[];
  /** Content hash → probabilities over `classes`. */
  probs: Record<string, number[]>;
}

/**
 * The teachers' combined, softened probabilities over `classes` for every item (n × k, row-major),
 * items in the order of the training set's rows.
 */
export async function teacherTargets(
  items: ImageItem[],
  classes: string[],
  spec: TeacherSpec,
  opts: {
    cacheDir?: string;
    log?: (line: string) => void;
    /** Called before each teacher loads: selects the backend it scores on. */
    backendFor?: (teacher: string) => Promise<unknown>;
  } = {},
): Promise<Float32Array> {
  const log = opts.log ?? (() => {});
  const cacheDir = opts.cacheDir ?? defaultCacheDir();
  const hashes = await contentHashes(items);
  const perTeacher: { classes: string[]; probs: number[][] }[] = [];
  for (const name of spec.models) {
    await opts.backendFor?.(name);
    const classifier = await loadClassifier(name);
    try {
      const key = await teacherKey(classifier);
      const file = path.join(cacheDir, `${key}.json`);
      const cache: CacheFile = (await readJson<CacheFile>(file).catch(() => null)) ?? { teacher: classifier.source, classes: classifier.classes, probs: {} };
      // One image per uncached content: a file linked several times (oversampled data) is scored once.
      const missing = new Map<string, ImageItem>();
      items.forEach((it, i) => {
        if (!cache.probs[hashes[i]!] && !missing.has(hashes[i]!)) missing.set(hashes[i]!, it);
      });
      if (missing.size > 0) {
        const uncached = items.filter((_, i) => !cache.probs[hashes[i]!]).length;
        log(`teacher ${name}: ${uncached} of ${items.length} images to score (${items.length - uncached} cached in ${file})`);
        const { set, skipped } = await decodeItems([...missing.values()], [], classifier.inputSize, { label: `teacher ${name} decoding` });
        if (skipped.length > 0) throw new VisemoError(`teacher ${name}: cannot read ${skipped[0]!.path}: ${skipped[0]!.reason}`, 'remove or fix the file');
        const probs = await classifyInChunks(classifier, set, name);
        const keys = [...missing.keys()];
        probs.forEach((p, i) => (cache.probs[keys[i]!] = Array.from(p, (v) => Number(v.toPrecision(6)))));
        await fs.mkdir(cacheDir, { recursive: true });
        await writeJsonAtomic(file, cache);
      } else log(`teacher ${name}: all ${items.length} images cached in ${file}`);
      perTeacher.push({ classes: cache.classes, probs: hashes.map((h) => cache.probs[h]!) });
    } finally {
      classifier.dispose();
    }
  }
  const out = new Float32Array(items.length * classes.length);
  for (let i = 0; i < items.length; i++) {
    const row = combineTeachers(
      perTeacher.map((t) => ({ classes: t.classes, probs: t.probs[i]! })),
      classes,
      spec.temperature,
    );
    out.set(row, i * classes.length);
  }
  return out;
}

/** One teacher's probabilities over the student's classes it knows (renormalised), softened by T. */
export function foldToClasses(probs: ArrayLike<number>, teacherClasses: string[], classes: string[], temperature: number): (number | null)[] {
  const raw = classes.map((c) => {
    const j = teacherClasses.indexOf(c);
    return j < 0 ? null : Math.max(probs[j]!, 1e-8) ** (1 / temperature);
  });
  const sum = raw.reduce<number>((a, v) => a + (v ?? 0), 0);
  return raw.map((v) => (v === null ? null : v / sum));
}

/** The teachers' mean over the student's classes; see the module comment for teachers that lack classes. */
export function combineTeachers(teachers: { classes: string[]; probs: ArrayLike<number> }[], classes: string[], temperature: number): Float32Array {
  const folded = teachers.map((t) => foldToClasses(t.probs, t.classes, classes, temperature));
  const complete = folded.filter((f) => f.every((v) => v !== null)) as number[][];
  if (complete.length === 0) {
    const missing = classes.filter((_, k) => folded.every((f) => f[k] === null));
    throw new VisemoError(
      `no teacher knows every class of this run (${missing.join(', ') || 'each lacks some'})`,
      `add a teacher that does, such as ${FACEAPI_MODEL}`,
    );
  }
  const mean = classes.map((_, k) => complete.reduce((a, f) => a + f[k]!, 0) / complete.length);
  const out = new Float32Array(classes.length);
  for (const f of folded) {
    const lacking = f.reduce<number>((a, v, k) => a + (v === null ? mean[k]! : 0), 0);
    f.forEach((v, k) => (out[k]! += (v === null ? mean[k]! : v * (1 - lacking)) / folded.length));
  }
  return out;
}

/**
 * Batch targets: (1−w)·smoothed label + w·teacher; an unlabeled row (label −1) is the teacher's alone.
 * The label is one-hot, or the dataset's soft target for the row where `labelRows` (n × k, from
 * data/soft-targets.ts) gives one.
 */
export function mixTargets(
  labels: ArrayLike<number>,
  numClasses: number,
  labelSmoothing: number,
  teacher: { probs: Float32Array; weight: number } | null,
  rows: ArrayLike<number>,
  labelRows: Float32Array | null = null,
): Float32Array {
  const out = new Float32Array(rows.length * numClasses);
  for (let b = 0; b < rows.length; b++) {
    const r = rows[b]!;
    const label = labels[r]!;
    const w = teacher ? (label < 0 ? 1 : teacher.weight) : 0;
    if (label < 0 && !teacher) throw new Error(`row ${r} has no label and there is no teacher`);
    for (let k = 0; k < numClasses; k++) {
      const hard = labelRows ? labelRows[r * numClasses + k]! : label === k ? 1 : 0;
      const smoothed = label < 0 ? 0 : hard * (1 - labelSmoothing) + labelSmoothing / numClasses;
      out[b * numClasses + k] = (1 - w) * smoothed + (teacher ? w * teacher.probs[r * numClasses + k]! : 0);
    }
  }
  return out;
}

async function contentHashes(items: ImageItem[]): Promise<string[]> {
  const out: string[] = [];
  for (const it of items) out.push(hashHex(await fs.readFile(it.path), 40));
  return out;
}

/** Names a teacher by what determines its outputs: face-api's package version, or a run's weights. */
async function teacherKey(c: Classifier): Promise<string> {
  if (c.name === FACEAPI_MODEL) {
    const { createRequire } = await import('node:module');
    const pkg = createRequire(import.meta.url)('@vladmandic/face-api/package.json') as { version: string };
    return `faceapi-${pkg.version}-gray${c.inputSize}`;
  }
  const weights = await fs.readFile(path.join(c.source, RUN_FILES.weights));
  return `run-${hashHex(weights, 16)}-gray${c.inputSize}`;
}

/** Scores a decoded set in chunks, with a progress bar (face-api takes ~10 ms a face). */
async function classifyInChunks(c: Classifier, set: DecodedSet, name: string): Promise<Float32Array[]> {
  const CHUNK = 512;
  const n = set.labels.length;
  const px = set.size * set.size;
  const bar = startProgress(n, `teacher ${name}`);
  const out: Float32Array[] = [];
  for (let i = 0; i < n; i += CHUNK) {
    const m = Math.min(CHUNK, n - i);
    const chunk: DecodedSet = {
      size: set.size,
      pixels: set.pixels.subarray(i * px, (i + m) * px),
      labels: set.labels.subarray(i, i + m),
      rels: set.rels.slice(i, i + m),
    };
    out.push(...(await c.classify(chunk)));
    bar.update(i + m);
  }
  bar.stop();
  return out;
}
