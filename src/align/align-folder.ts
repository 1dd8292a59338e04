/**
 * `visemo align`: an aligned copy of an image dataset, for training on aligned faces. Every image
 * keeps its relative path (as PNG), so a flat <class>/ or a train|val|test/<class>/ layout comes
 * out the same. Images whose landmarks are implausible are written unaligned (resized only) and
 * flagged, so the aligned dataset keeps every readable image; unreadable ones are listed.
 * OUT/align-manifest.json records each image's outcome and angle; a re-run resumes.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { scanImageFolder, type ImageFolder, type ImageItem } from '../data/image-folder.js';
import { exists, readJson, writeFileAtomic, writeJsonAtomic } from '../util/atomic.js';
import { firstLine, VisemoError } from '../util/errors.js';
import { isInside, realResolve } from '../util/paths.js';
import { toGray } from '../image/decode.js';
import { alignFaces } from './align-image.js';
import { FER_GEOMETRY } from './geometry.js';
import { loadLandmarkNet, type LandmarkNet } from './landmarks.js';
import { ALIGN_MANIFEST } from '../data/face-cut.js';

const MANIFEST_VERSION = 1;
/** Faces per landmark-net call: on wasm 4–16 are fastest per face (larger batches get slower again). */
const DEFAULT_BATCH = 8;
/** The manifest is rewritten at most this often (ms) while a run goes on, so a killed run resumes. */
const MANIFEST_EVERY_MS = 5000;

export interface AlignFolderOptions {
  src: string;
  out: string;
  /** Output width and height (default 48, FER2013's). */
  size?: number;
  /** Write into a non-empty folder, or start over one aligned with other settings. */
  force?: boolean;
  /** Called after each batch with images done (including those finished by an earlier run) and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Landmark net (default faceLandmark68Net). */
  net?: LandmarkNet;
  /** Faces per landmark-net call (default 8). */
  batch?: number;
}

export type ImageStatus = 'aligned' | 'fallback' | 'unreadable';

export interface ManifestEntry {
  status: ImageStatus;
  /** Output file relative to OUT ('/'-separated); absent for unreadable images. */
  file?: string;
  /** Roll of the eye line in degrees (positive: the face was turned clockwise); absent for unreadable images. */
  angle?: number;
  /** Why an image fell back or could not be read. */
  reason?: string;
  detail?: string;
}

export interface AlignManifest {
  tool: 'visemo align';
  version: number;
  src: string;
  size: number;
  model: string;
  geometry: typeof FER_GEOMETRY;
  /** False while a run is going on (or was killed). */
  complete: boolean;
  /** Keyed by the source image's path relative to SRC, in the dataset's order. */
  images: Record<string, ManifestEntry>;
}

export interface AlignProblem {
  /** Source image, relative to SRC. */
  source: string;
  status: 'fallback' | 'unreadable';
  reason: string;
  detail?: string;
}

export interface AlignFolderSummary {
  src: string;
  out: string;
  size: number;
  images: number;
  aligned: number;
  /** Written unaligned (resized only): their landmarks were implausible. */
  fallback: number;
  /** Not written. */
  unreadable: number;
  /** Already written by an earlier run and left as they were. */
  resumed: number;
  seconds: number;
  /** Every fallback and unreadable image, in the dataset's order. */
  problems: AlignProblem[];
  manifest: string;
}

/** Output names: the source's relative path as .png; a clash (a.jpg beside a.png) keeps the old extension too. */
function outputNames(items: ImageItem[]): string[] {
  const plain = items.map((it) => `${it.rel.replace(/\.[^./]+$/, '')}.png`);
  const count = new Map<string, number>();
  for (const p of plain) count.set(p, (count.get(p) ?? 0) + 1);
  return items.map((it, i) => (count.get(plain[i]!)! > 1 ? `${it.rel}.png` : plain[i]!));
}

/** Checks OUT against SRC and the settings; returns the entries an earlier run finished, to resume. */
async function openOutput(src: string, out: string, settings: { size: number; model: string }, force: boolean): Promise<Record<string, ManifestEntry>> {
  const manifestFile = path.join(out, ALIGN_MANIFEST);
  const entries = (await fs.readdir(out).catch(() => [] as string[])).filter((e) => !e.startsWith('.'));
  if (await exists(manifestFile)) {
    const previous = await readJson<AlignManifest>(manifestFile);
    const changed = [
      previous.src !== src && `source ${previous.src}`,
      previous.size !== settings.size && `--size ${previous.size}`,
      previous.model !== settings.model && `model ${previous.model}`,
      previous.version !== MANIFEST_VERSION && `manifest version ${previous.version}`,
    ].filter((c): c is string => typeof c === 'string');
    if (changed.length === 0 && !force) return previous.images ?? {};
    if (!force) {
      throw new VisemoError(
        `${out} holds an aligned copy made with other settings (${changed.join(', ')})`,
        'use the same source and --size to resume, another --out folder, or --force to start it over',
      );
    }
    // Start over: only the files this tool wrote go; anything else in the folder stays.
    for (const e of Object.values(previous.images ?? {})) if (e.file) await fs.rm(path.join(out, ...e.file.split('/')), { force: true });
    await fs.rm(manifestFile, { force: true });
    return {};
  }
  if (entries.length > 0 && !force) {
    throw new VisemoError(`${out} is not empty and was not written by visemo align`, 'give a new or empty folder with --out, or --force to write into it');
  }
  return {};
}

/** One invocation, settled: the folders, the images and their output names, the net. */
interface AlignJob {
  src: string;
  out: string;
  size: number;
  model: string;
  net: LandmarkNet;
  batch: number;
  folder: ImageFolder;
  names: string[];
  /** The entries an earlier run finished, by source path relative to SRC. */
  previous: Record<string, ManifestEntry>;
}

/** Writes an aligned copy of the dataset at `src` to `out`; see the module comment. */
export async function alignFolder(opts: AlignFolderOptions): Promise<AlignFolderSummary> {
  const started = performance.now();
  const job = await startAlign(opts);
  const { items } = job.folder;
  const { images, resumed, todo } = await resumedEntries(job);
  const manifestFile = path.join(job.out, ALIGN_MANIFEST);
  const manifest = (complete: boolean): AlignManifest => ({
    tool: 'visemo align',
    version: MANIFEST_VERSION,
    src: job.src,
    size: job.size,
    model: job.model,
    geometry: FER_GEOMETRY,
    complete,
    images: ordered(images, items),
  });
  await writeJsonAtomic(manifestFile, manifest(false));

  let done = resumed;
  let lastWrite = performance.now();
  opts.onProgress?.(done, items.length);
  for (let k = 0; k < todo.length; k += job.batch) {
    const chunk = todo.slice(k, k + job.batch);
    await alignChunk(job, chunk, images);
    done += chunk.length;
    opts.onProgress?.(done, items.length);
    if (performance.now() - lastWrite > MANIFEST_EVERY_MS) {
      await writeJsonAtomic(manifestFile, manifest(false));
      lastWrite = performance.now();
    }
  }
  await writeJsonAtomic(manifestFile, manifest(true));
  return summary(job, images, { resumed, seconds: (performance.now() - started) / 1000, manifest: manifestFile });
}

/** Checks the options and folders, scans SRC and opens OUT (refusing or resuming an earlier run); loads the net. */
async function startAlign(opts: AlignFolderOptions): Promise<AlignJob> {
  const size = opts.size ?? 48;
  if (!Number.isInteger(size) || size < 8) throw new VisemoError(`--size must be an integer of at least 8, got ${size}`, 'e.g. --size 48');
  const src = await realResolve(opts.src);
  const out = await realResolve(opts.out);
  if (isInside(out, src)) {
    throw new VisemoError(
      out === src ? `the output folder is the source folder (${opts.src})` : `the output folder ${opts.out} is inside the source folder ${opts.src}`,
      'choose an --out outside the dataset: images written there would be read as part of it',
    );
  }
  const folder = await scanImageFolder(src);
  const model = (opts.net?.model ?? 'full') === 'full' ? 'faceLandmark68Net' : 'faceLandmark68TinyNet';
  const previous = await openOutput(src, out, { size, model }, opts.force === true);
  const net = opts.net ?? (await loadLandmarkNet());
  await fs.mkdir(out, { recursive: true });
  return { src, out, size, model, net, batch: opts.batch ?? DEFAULT_BATCH, folder, names: outputNames(folder.items), previous };
}

/** The earlier run's entries still valid, and the indices of the images left to do. */
async function resumedEntries(job: AlignJob): Promise<{ images: Record<string, ManifestEntry>; resumed: number; todo: number[] }> {
  const { items } = job.folder;
  const images: Record<string, ManifestEntry> = {};
  let resumed = 0;
  const todo: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const before = job.previous[items[i]!.rel];
    // Resume only what the manifest vouches for and is still on disk (the manifest lags the images).
    if (before && before.status !== 'unreadable' && before.file === job.names[i] && (await exists(path.join(job.out, job.names[i]!)))) {
      images[items[i]!.rel] = before;
      resumed++;
    } else {
      todo.push(i);
    }
  }
  return { images, resumed, todo };
}

/** Decodes, aligns and writes the images at `chunk` (indices into the folder's items), recording each outcome in `images`. */
async function alignChunk(job: AlignJob, chunk: number[], images: Record<string, ManifestEntry>): Promise<void> {
  const { items } = job.folder;
  const { size, names } = job;
  const decoded = await Promise.all(
    chunk.map((i) =>
      toGray(items[i]!.path).then(
        (image) => ({ image }),
        (err: unknown) => ({ error: firstLine(err) }),
      ),
    ),
  );
  const readable = chunk.flatMap((i, j) => {
    const d = decoded[j]!;
    return 'image' in d ? [{ i, image: d.image }] : [];
  });
  const results = await alignFaces(
    readable.map((r) => ({ image: r.image })),
    { size, net: job.net, batch: job.batch },
  );
  await Promise.all(
    readable.map(async ({ i }, j) => {
      const r = results[j]!;
      // toColourspace('b-w'): sharp would write one-channel raw input as three-channel sRGB.
      const png = await sharp(Buffer.from(r.pixels.buffer, r.pixels.byteOffset, r.pixels.length), { raw: { width: size, height: size, channels: 1 } })
        .toColourspace('b-w')
        .png()
        .toBuffer();
      await writeFileAtomic(path.join(job.out, ...names[i]!.split('/')), png);
      images[items[i]!.rel] = r.aligned
        ? { status: 'aligned', file: names[i], angle: round2(r.angle) }
        : { status: 'fallback', file: names[i], angle: round2(r.angle), reason: r.reason, detail: r.detail };
    }),
  );
  chunk.forEach((i, j) => {
    const d = decoded[j]!;
    if ('error' in d) images[items[i]!.rel] = { status: 'unreadable', reason: 'unreadable', detail: d.error };
  });
}

/** The run's counts and problems, in the dataset's order. */
function summary(job: AlignJob, images: Record<string, ManifestEntry>, run: { resumed: number; seconds: number; manifest: string }): AlignFolderSummary {
  const { src, out, size, folder } = job;
  const entries = folder.items.map((it) => [it.rel, images[it.rel]!] as const);
  const count = (s: ImageStatus) => entries.filter(([, e]) => e.status === s).length;
  return {
    src,
    out,
    size,
    images: folder.items.length + folder.unreadable.length,
    aligned: count('aligned'),
    fallback: count('fallback'),
    unreadable: count('unreadable') + folder.unreadable.length,
    resumed: run.resumed,
    seconds: run.seconds,
    problems: [
      ...entries
        .filter(([, e]) => e.status !== 'aligned')
        .map(([source, e]) => ({ source, status: e.status as 'fallback' | 'unreadable', reason: e.reason ?? e.status, detail: e.detail })),
      // Files whose names cannot be opened (not UTF-8): named, not written, not in the manifest.
      ...folder.unreadable.map((u) => ({ source: path.relative(src, u.path), status: 'unreadable' as const, reason: 'unreadable', detail: u.reason })),
    ],
    manifest: run.manifest,
  };
}

function ordered(images: Record<string, ManifestEntry>, items: ImageItem[]): Record<string, ManifestEntry> {
  const out: Record<string, ManifestEntry> = {};
  for (const it of items) if (images[it.rel]) out[it.rel] = images[it.rel]!;
  return out;
}

function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** The summary as a few lines for the terminal. */
export function formatAlignSummary(s: AlignFolderSummary, maxListed = 20): string {
  const written = s.aligned + s.fallback;
  const lines = [
    `images: ${s.images} in ${s.src}${s.resumed ? ` (${s.resumed} written by an earlier run, kept)` : ''}`,
    `aligned: ${s.aligned}, fallbacks (written unaligned): ${s.fallback}, unreadable (not written): ${s.unreadable}`,
    `written: ${written} images of ${s.size}x${s.size} in ${s.out}; outcomes and angles in ${s.manifest}`,
    `time: ${s.seconds.toFixed(1)} s`,
  ];
  for (const p of s.problems.slice(0, maxListed)) lines.push(`  ${p.status}: ${p.source}: ${p.detail ?? p.reason}`);
  if (s.problems.length > maxListed) lines.push(`  … and ${s.problems.length - maxListed} more (see ${ALIGN_MANIFEST})`);
  return lines.join('\n');
}
