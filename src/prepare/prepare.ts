/**
 * `visemo prepare`: from videos or images to an image-folder dataset that `visemo train` reads
 * as given: DATASET/{train,val,test}/<class>/*.png plus DATASET/manifest.json.
 *
 * Resumable: each finished unit leaves a record in DATASET/.prepare/units/, the options live in
 * DATASET/.prepare/options.json, and images are written atomically, so a killed run loses at most
 * the units in flight. Splits are decided from the unit list before any work, so they do not
 * depend on which frames had faces, nor on the order workers finish.
 */
import { hashHex } from '../util/hash.js';
import { isInside, realResolve } from '../util/paths.js';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { assignSplits, SPLIT_NAMES, type SplitName } from '../data/split.js';
import type { SplitMode } from '../config/recipe.js';
import { requireFfmpeg } from '../image/video.js';
import { exists, readJson, writeJsonAtomic } from '../util/atomic.js';
import { VisemoError } from '../util/errors.js';
import { startProgress } from '../util/progress.js';
import { runPool } from './pool.js';
import { uniqueStems, type ManifestImage, type ProcessOptions, type UnitResult, type UnitTask } from './process-unit.js';
import { scanSource, type SourceKind, type SourceScan, type SourceUnit } from './sources.js';

export interface PrepareOptions extends ProcessOptions {
  source: string;
  out: string;
  kind?: SourceKind;
  classes?: string[];
  split: SplitMode;
  subjectPattern?: string;
  /** Augment val and test images too (the paper's literal procedure). */
  augmentAll: boolean;
  workers?: number;
  force?: boolean;
  /** Process again the units that failed in an earlier run (they are skipped otherwise). */
  retryFailed?: boolean;
  /** Called after each unit with (units finished, units to do, last result). */
  onUnit?: (done: number, total: number, r: UnitResult) => void;
}

export interface PrepareSummary {
  kind: SourceKind;
  units: number;
  /** Units that failed in an earlier run, skipped (they are in `failed` too). */
  failedEarlier: number;
  /** Units finished by an earlier run and not redone. */
  resumed: number;
  processed: number;
  failed: { source: string; error: string }[];
  unparsed: { file: string; reason: string }[];
  frames: number;
  faces: number;
  noFace: number;
  /** With --align: faces whose landmarks failed, kept as box squares. */
  unaligned: number;
  imagesWritten: number;
  images: number;
  perSplit: Record<SplitName, Record<string, number>>;
  seconds: number;
  framesPerSecond: number;
}

export interface Manifest {
  tool: 'visemo prepare';
  created: string;
  source: string;
  options: Record<string, unknown>;
  summary: PrepareSummary;
  images: ManifestImage[];
}

const STATE_DIR = '.prepare';
const UNIT_DIR = 'units';
/** Units that failed, kept apart so a re-run skips them (they would fail again) unless --retry-failed. */
const FAILED_DIR = 'failed';

/** The options that decide the output, with the source's unit list hashed in: any change means a different dataset. */
function optionSet(opts: PrepareOptions, kind: SourceKind, units: SourceUnit[]): Record<string, unknown> {
  const listing = hashHex(
    units.map((u) => `${u.id}\t${u.label}\t${u.subject ?? ''}\t${u.split ?? ''}\n`),
    16,
  );
  return {
    kind,
    classes: opts.classes ?? 'all',
    size: opts.size,
    margin: opts.margin,
    // Absent unless set, so datasets prepared before the option existed still resume.
    align: opts.align || undefined,
    detect: opts.detect,
    detector: opts.detect ? opts.detector : null,
    minScore: opts.detect ? opts.minScore : null,
    frames: opts.frames,
    augment: opts.augment,
    augmentAll: opts.augmentAll,
    split: opts.split,
    subjectPattern: opts.subjectPattern ?? null,
    seed: opts.seed,
    sourceUnits: `${units.length}:${listing}`,
  };
}

function differences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]));
}

/** Removes temporary files that a killed run may have left (they start with '.' and end in '.tmp'). */
async function removeStaleTemps(dir: string): Promise<void> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) await removeStaleTemps(p);
    else if (e.name.startsWith('.') && e.name.endsWith('.tmp')) await fs.rm(p, { force: true });
  }
}

/** Checks the output folder against the options; clears it under --force. Returns the finished unit records. */
async function openOutput(out: string, options: Record<string, unknown>, force: boolean, retryFailed: boolean): Promise<Map<string, UnitResult>> {
  const state = path.join(out, STATE_DIR);
  const optionsFile = path.join(state, 'options.json');
  const entries = (await fs.readdir(out).catch(() => [] as string[])).filter((e) => !e.startsWith('.'));
  if (await exists(optionsFile)) {
    const previous = (await readJson<{ options: Record<string, unknown> }>(optionsFile)).options;
    const changed = differences(previous, options);
    if (changed.length > 0) {
      if (!force) {
        throw new VisemoError(
          `${out} was prepared with other options (${changed.join(', ')} differ)`,
          'use the same options to resume, another --out folder, or --force to start that folder over',
        );
      }
      for (const name of [...SPLIT_NAMES, STATE_DIR, 'manifest.json']) await fs.rm(path.join(out, name), { recursive: true, force: true });
    }
  } else if (entries.length > 0) {
    throw new VisemoError(`${out} is not empty and was not written by visemo prepare`, 'give a new or empty folder with --out');
  }
  await fs.mkdir(path.join(state, UNIT_DIR), { recursive: true });
  await fs.mkdir(path.join(state, FAILED_DIR), { recursive: true });
  await removeStaleTemps(out);
  await writeJsonAtomic(optionsFile, { options });
  const done = new Map<string, UnitResult>();
  // Failed units too, unless asked: a file that failed (over the pixel budget, say) fails again.
  for (const dir of retryFailed ? [UNIT_DIR] : [FAILED_DIR, UNIT_DIR]) {
    for (const name of await fs.readdir(path.join(state, dir))) {
      if (!name.endsWith('.json')) continue;
      const r = await readJson<UnitResult>(path.join(state, dir, name)).catch(() => null);
      if (r && r.ok === (dir === UNIT_DIR)) done.set(r.id, r);
    }
  }
  return done;
}

/** Splits for every unit: the source's own when it has them, else assigned (seeded, videos whole). */
function splitUnits(units: SourceUnit[], mode: SplitMode, seed: number): SplitName[] {
  if (units.every((u) => u.split)) return units.map((u) => u.split!);
  if (mode === 'subject') {
    const missing = units.filter((u) => !u.subject);
    if (missing.length > 0) {
      throw new VisemoError(
        `--split subject needs a subject for every file, and ${missing.length} have none (e.g. ${missing[0]!.id})`,
        'give --subject-pattern with a regex whose first group is the subject in the file name, or use --split random',
      );
    }
  }
  return assignSplits(
    units.map((u) => ({ label: u.label, subject: u.subject, group: u.id })),
    { mode, seed },
  );
}

export async function prepare(opts: PrepareOptions): Promise<PrepareSummary> {
  const started = performance.now();
  const { out, source, scan, options, done } = await startPrepare(opts);
  const stems = uniqueStems(scan.units.map((u) => u.id));
  const tasks = unitTasks(scan.units, splitUnits(scan.units, opts.split, opts.seed), done, stems, opts.augmentAll);

  const results = new Map([...done].filter(([, r]) => r.ok));
  const failed: PrepareSummary['failed'] = [...done.values()]
    .filter((r) => !r.ok)
    .map((r) => ({ source: r.id, error: `${r.error ?? 'unknown error'} (in an earlier run; --retry-failed to try again)` }));
  const failedBefore = failed.length;
  // Named as failures of this run (exit 1), never lost: a re-run finds them again until renamed.
  for (const u of scan.unreadable) failed.push({ source: u.path, error: u.reason });
  const run = await processUnits(opts, out, tasks, stems, scan.kind, { results, failed });
  const { images, perSplit, frames, faces, noFace, unaligned } = collectImages(scan.units, results);
  const seconds = (performance.now() - started) / 1000;
  const summary: PrepareSummary = {
    kind: scan.kind,
    units: scan.units.length,
    resumed: done.size - failedBefore,
    failedEarlier: failedBefore,
    processed: tasks.length - (failed.length - failedBefore - scan.unreadable.length),
    failed,
    unparsed: scan.unparsed,
    frames,
    faces,
    noFace,
    unaligned,
    imagesWritten: run.imagesWritten,
    images: images.length,
    perSplit,
    seconds: Math.round(seconds * 100) / 100,
    framesPerSecond: Math.round((run.frames / seconds) * 10) / 10,
  };
  const manifest: Manifest = { tool: 'visemo prepare', created: new Date().toISOString(), source, options, summary, images };
  await writeJsonAtomic(path.join(out, 'manifest.json'), manifest);
  return summary;
}

/** Checks the folders, scans the source and opens the output (refusing, resuming or, under --force, clearing it). */
async function startPrepare(
  opts: PrepareOptions,
): Promise<{ out: string; source: string; scan: SourceScan; options: Record<string, unknown>; done: Map<string, UnitResult> }> {
  const out = path.resolve(opts.out);
  const source = path.resolve(opts.source);
  // Through links too: a linked source path must not hide that the output is inside it.
  if (isInside(await realResolve(out), await realResolve(source))) {
    throw new VisemoError(`--out ${opts.out} is inside the source folder`, 'write the dataset somewhere else, so it is not read back as source');
  }
  const scan = await scanSource(source, {
    kind: opts.kind,
    classes: opts.classes,
    subjectPattern: opts.subjectPattern ? compilePattern(opts.subjectPattern) : undefined,
  });
  if (scan.kind !== 'images') await requireFfmpeg();
  const options = optionSet(opts, scan.kind, scan.units);
  const done = await openOutput(out, options, opts.force ?? false, opts.retryFailed ?? false);
  return { out, source, scan, options, done };
}

/** The units still to process (an earlier run's finished and failed ones are left out), with their splits. */
function unitTasks(units: SourceUnit[], splits: SplitName[], done: Map<string, UnitResult>, stems: Map<string, string>, augmentAll: boolean): UnitTask[] {
  const tasks: UnitTask[] = [];
  units.forEach((unit, i) => {
    if (done.has(unit.id)) return;
    const split = splits[i]!;
    tasks.push({ unit, split, augment: split === 'train' || augmentAll, stem: stems.get(unit.id)! });
  });
  return tasks;
}

/**
 * Runs the tasks on the worker pool, recording each finished unit in DATASET/.prepare (a success
 * clears an earlier failure's record) and adding it to `into`. Returns this run's frame and image counts.
 */
async function processUnits(
  opts: PrepareOptions,
  out: string,
  tasks: UnitTask[],
  stems: Map<string, string>,
  kind: SourceKind,
  into: { results: Map<string, UnitResult>; failed: PrepareSummary['failed'] },
): Promise<{ frames: number; imagesWritten: number }> {
  let frames = 0;
  let imagesWritten = 0;
  let finished = 0;
  const progress = startProgress(tasks.length, kind === 'images' ? 'images' : 'videos', 'faces {faces}/{frames}');
  let faces = 0;
  await runPool(tasks, opts, out, opts.workers ?? Math.min(2, os.availableParallelism()), async (r) => {
    finished++;
    frames += r.frames;
    faces += r.faces;
    imagesWritten += r.images.length;
    await writeJsonAtomic(path.join(out, STATE_DIR, r.ok ? UNIT_DIR : FAILED_DIR, `${stems.get(r.id)!}.json`), r);
    if (r.ok) {
      into.results.set(r.id, r);
      await fs.rm(path.join(out, STATE_DIR, FAILED_DIR, `${stems.get(r.id)!}.json`), { force: true });
    } else into.failed.push({ source: r.id, error: r.error ?? 'unknown error' });
    progress.update(finished, { faces, frames });
    opts.onUnit?.(finished, tasks.length, r);
  });
  progress.stop();
  return { frames, imagesWritten };
}

/** Every image of the finished units (this run's and earlier ones'), in the source's unit order, with the totals. */
function collectImages(units: SourceUnit[], results: Map<string, UnitResult>) {
  const images: ManifestImage[] = [];
  const perSplit = Object.fromEntries(SPLIT_NAMES.map((s) => [s, {} as Record<string, number>])) as PrepareSummary['perSplit'];
  let frames = 0;
  let faces = 0;
  let noFace = 0;
  let unaligned = 0;
  for (const unit of units) {
    const r = results.get(unit.id);
    if (!r) continue;
    frames += r.frames;
    faces += r.faces;
    noFace += r.noFace;
    unaligned += r.unaligned ?? 0;
    for (const img of r.images) {
      images.push(img);
      perSplit[img.split][img.label] = (perSplit[img.split][img.label] ?? 0) + 1;
    }
  }
  return { images, perSplit, frames, faces, noFace, unaligned };
}

function compilePattern(source: string): RegExp {
  try {
    return new RegExp(source);
  } catch (err) {
    throw new VisemoError(`--subject-pattern '${source}' is not a valid regular expression (${(err as Error).message})`, "e.g. '^(S\\d+)_' for S005_001.avi");
  }
}

/** The summary as a few lines for the terminal. */
export function formatSummary(s: PrepareSummary, out: string): string {
  const unit = s.kind === 'images' ? 'images' : 'videos';
  const lines = [
    `${unit} read: ${s.units - s.resumed - s.failedEarlier} this run (${s.processed} ok, ${s.failed.length - s.failedEarlier} failed)` +
      (s.resumed ? `, ${s.resumed} finished earlier` : '') +
      (s.failedEarlier ? `, ${s.failedEarlier} failed earlier and skipped (--retry-failed to try them again)` : ''),
    `frames: ${s.frames}, faces found: ${s.faces}` +
      (s.frames ? ` (${((100 * s.faces) / s.frames).toFixed(1)}%)` : '') +
      `, no face: ${s.noFace}` +
      (s.unaligned ? `, unaligned (landmarks failed, box kept): ${s.unaligned}` : ''),
    `images: ${s.images} in ${out} (${s.imagesWritten} written this run)`,
    ...SPLIT_NAMES.map(
      (sp) =>
        `  ${sp.padEnd(5)} ${
          Object.entries(s.perSplit[sp])
            .map(([c, n]) => `${c} ${n}`)
            .join(', ') || '-'
        }`,
    ),
    `time: ${s.seconds.toFixed(1)} s, ${s.framesPerSecond} frames/s`,
  ];
  for (const f of s.failed) lines.push(`failed: ${f.source}: ${f.error}`);
  if (s.unparsed.length) {
    lines.push(`skipped ${s.unparsed.length} file${s.unparsed.length > 1 ? 's' : ''} that could not be parsed:`);
    for (const u of s.unparsed.slice(0, 20)) lines.push(`  ${u.file}: ${u.reason}`);
    if (s.unparsed.length > 20) lines.push(`  … and ${s.unparsed.length - 20} more (see manifest.json)`);
  }
  return lines.join('\n');
}
