/**
 * `visemo audit` end to end, up to its numbers: finds the images of every DATA folder, gives each
 * its groups by the `--group-by` rule, gets every model's prediction for each — face crops used as
 * given (`crops`), or photos through predict's pipeline: the detector's most confident face, cut
 * as each model's training faces were cut — and hands them to audit.ts's arithmetic. The report
 * and the files are the CLI's (src/report/audit-report.ts).
 */
import os from 'node:os';
import path from 'node:path';
import { decodeAtSizes, type DecodedSet, type SkippedImage } from '../data/decoded-set.js';
import type { FaceCut } from '../data/face-cut.js';
import { scanImageFolder, type ImageItem } from '../data/image-folder.js';
import { inferenceBackends, useBackend, type InferenceBackendChoice } from '../engine/backend.js';
import { toRgb } from '../image/decode.js';
import { detectorFor, loadFaceDetector, type DetectorChoice, type DetectorModel } from '../image/face-detector.js';
import { FACEAPI_MODEL, loadClassifiers, type Classifier } from '../inference/classifier.js';
import { cutFacesAs, detectScaled } from '../inference/recognizer.js';
import { firstLine, VisemoError } from '../util/errors.js';
import { INFERENCE_DEFAULTS } from '../config/inference.js';
import { startProgress } from '../util/progress.js';
import { assignGroups, describeRule, parseGroupRule, type Breakdown, type GroupedItem, type GroupRule } from './audit-groups.js';
import { auditBreakdown, DEFAULT_MIN_GROUP, type BreakdownAudit } from './audit.js';
import { restrictedArgmax } from './compare.js';

export const AUDIT_FORMAT = 'visemo-audit@1';

export interface AuditOptions {
  /** Folders of images, one subfolder per class (a train/val/test folder: its test/ split). */
  data: string[];
  /** Bundled names, run folders, or 'faceapi'. */
  models: string[];
  /** 'dataset', a CSV file, or a regular expression with a capture group (audit-groups.ts). */
  groupBy: string;
  /** The images are face crops: classify them whole. Default: photos, faces found by the detector. */
  crops?: boolean;
  /** Classes to score: 'all' (default: every class folder found) or a list every model knows. */
  classes?: string[] | 'all';
  minGroup?: number;
  /** Default wasm, as compare: face-api's net runs natively there. */
  backend?: InferenceBackendChoice;
  tta?: boolean;
  detector?: DetectorChoice;
  minFaceScore?: number;
  log?: (line: string) => void;
}

export interface AuditModel {
  model: string;
  source: string;
  /** The classes the model outputs (a superset of the audited ones). */
  modelClasses: string[];
  inputSize: number;
  runtime: string;
  /** How faces found in photos were cut for it (absent with crops). */
  faceCut?: FaceCut;
}

/** audit.json. */
export interface AuditResult {
  format: typeof AUDIT_FORMAT;
  /** The DATA folders, absolute. */
  data: string[];
  groupBy: string;
  /** The rule in words. */
  rule: string;
  crops: boolean;
  /** The face detector that found faces in photos (absent with crops). */
  detector?: string;
  classes: string[];
  minGroup: number;
  tta: boolean;
  backend: string;
  /** Images found with a group in some breakdown, and those scored (found minus skipped). */
  images: number;
  scored: number;
  /** Unreadable images, and photos in which no face was found: left out for every model. */
  skipped: SkippedImage[];
  models: AuditModel[];
  breakdowns: BreakdownAudit[];
  machine: { processor: string; cores: number };
  seconds: number;
  createdAt: string;
}

/** One scored image: what predictions.csv lists. */
export interface AuditPrediction {
  path: string;
  truth: string;
  /** Its group in each breakdown (null: none). */
  groups: (string | null)[];
  /** Each model's predicted class. */
  predicted: string[];
}

interface LabelledItem extends GroupedItem {
  label: string;
}

export async function runAudit(opts: AuditOptions): Promise<{ result: AuditResult; predictions: AuditPrediction[] }> {
  const started = performance.now();
  const log = opts.log ?? (() => {});
  if (opts.data.length === 0) throw new VisemoError('no DATA folder given', 'give one or more folders of images, one subfolder per class');
  if (opts.models.length === 0) throw new VisemoError('--models names no model', `give a comma list, e.g. --models visemo7,${FACEAPI_MODEL}`);
  const minGroup = opts.minGroup ?? DEFAULT_MIN_GROUP;
  const { rule, classes, items, breakdowns } = await groupImages(opts, log);

  const { tfjs, runtime } = inferenceBackends(opts.backend ?? 'wasm');
  const backend = await useBackend(tfjs, { quiet: true });
  let contenders: Classifier[] = [];
  try {
    contenders = await loadClassifiers(
      opts.models,
      classes,
      { tta: opts.tta === true, runtime },
      'audit classes every model knows: --classes with a comma list (or paper)',
    );
    const detector = opts.crops ? undefined : detectorFor(opts.detector ?? INFERENCE_DEFAULTS.detector, 'image');
    const { sets, kept, skipped } = opts.crops
      ? await decodeCrops(items, classes, contenders)
      : await cutPhotoFaces(items, classes, contenders, detector!, opts.minFaceScore ?? INFERENCE_DEFAULTS.minFaceScore);
    for (const s of skipped) log(`warning: skipped ${s.path}: ${s.reason}`);
    if (kept.length === 0)
      throw new VisemoError(
        `none of the ${items.length} images could be scored`,
        opts.crops ? 'check the files named in the warnings above' : 'no face was found in any: if the images are face crops already, pass --crops',
      );

    const truth = kept.map((i) => classes.indexOf(items[i]!.label));
    const predicted = await classifyAll(contenders, sets, opts.crops === true, classes, kept.length, log);
    const audits = breakdowns.map((b) =>
      auditBreakdown({
        name: b.name,
        groups: kept.map((i) => b.groups[i]!),
        truth,
        predictions: contenders.map((c, m) => ({ model: c.name, predicted: predicted[m]! })),
        classes,
        minGroup,
      }),
    );
    const result: AuditResult = {
      format: AUDIT_FORMAT,
      data: opts.data.map((d) => path.resolve(d)),
      groupBy: opts.groupBy,
      rule: describeRule(rule, opts.groupBy),
      crops: opts.crops === true,
      detector,
      classes,
      minGroup,
      tta: opts.tta === true,
      backend,
      images: items.length,
      scored: kept.length,
      skipped,
      models: contenders.map((c) => auditModel(c, opts.crops === true)),
      breakdowns: audits,
      machine: { processor: os.cpus()[0]?.model ?? 'unknown processor', cores: os.cpus().length },
      seconds: (performance.now() - started) / 1000,
      createdAt: new Date().toISOString(),
    };
    const predictions = kept.map((i, k) => ({
      path: items[i]!.path,
      truth: items[i]!.label,
      groups: breakdowns.map((b) => b.groups[i]!),
      predicted: predicted.map((p) => classes[p[k]!]!),
    }));
    return { result, predictions };
  } finally {
    for (const c of contenders) c.dispose();
  }
}

/**
 * The images that have a group in some breakdown, with each breakdown's groups for them. The rule
 * is parsed first: a bad one fails before any image is read or model loaded.
 */
async function groupImages(
  opts: AuditOptions,
  log: (line: string) => void,
): Promise<{ rule: GroupRule; classes: string[]; items: LabelledItem[]; breakdowns: Breakdown[] }> {
  const rule = await parseGroupRule(opts.groupBy);
  const { items: found, classes } = await findImages(opts.data, opts.classes ?? 'all');
  const allBreakdowns = await assignGroups(rule, opts.groupBy, found, opts.data);
  const keep = found.map((_, i) => i).filter((i) => allBreakdowns.some((b) => b.groups[i] !== null));
  const items = keep.map((i) => found[i]!);
  const breakdowns: Breakdown[] = allBreakdowns.map((b) => ({ name: b.name, groups: keep.map((i) => b.groups[i]!) }));
  log(
    `${items.length} images of ${classes.length} classes with a group (${found.length - items.length} without) in ${opts.data.join(', ')}; ${breakdowns.length === 1 ? `groups: ${breakdowns[0]!.name}` : `breakdowns: ${breakdowns.map((b) => b.name).join(', ')}`}`,
  );
  return { rule, classes, items, breakdowns };
}

/** Each model's predicted class (an index into `classes`, the most probable of them) for each of the `faces` scored faces, model by model. */
async function classifyAll(
  contenders: Classifier[],
  sets: Map<string, DecodedSet>,
  crops: boolean,
  classes: string[],
  faces: number,
  log: (line: string) => void,
): Promise<number[][]> {
  const predicted: number[][] = [];
  for (const c of contenders) {
    const set = sets.get(setKey(c, crops))!;
    const t0 = performance.now();
    const probs = await c.classify(set);
    predicted.push(probs.map((p) => restrictedArgmax(p, c.classes, classes)));
    log(`${c.name}: ${faces} faces in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  return predicted;
}

/** A model as audit.json describes it; how faces were cut only for photos. */
function auditModel(c: Classifier, crops: boolean): AuditModel {
  return { model: c.name, source: c.source, modelClasses: c.classes, inputSize: c.inputSize, runtime: c.runtime, faceCut: crops ? undefined : c.faceCut };
}

/** Every image of the DATA folders (a split folder's test/ split), restricted to `wanted`; classes in order. */
async function findImages(data: string[], wanted: string[] | 'all'): Promise<{ items: LabelledItem[]; classes: string[] }> {
  const items: LabelledItem[] = [];
  const found = new Set<string>();
  for (let d = 0; d < data.length; d++) {
    const folder = await scanImageFolder(data[d]!);
    let its = folder.items;
    if (folder.layout === 'split') {
      its = its.filter((it) => it.split === 'test');
      if (its.length === 0) throw new VisemoError(`${data[d]} has train/val folders but no test/ images`, 'give a flat class folder or one with a test/ split');
    }
    for (const it of its) {
      found.add(it.label);
      items.push({ path: it.path, rel: it.rel, data: d, label: it.label });
    }
  }
  if (wanted !== 'all') {
    const absent = wanted.filter((c) => !found.has(c));
    if (absent.length > 0)
      throw new VisemoError(
        `class${absent.length > 1 ? 'es' : ''} ${absent.join(', ')} not found in ${data.join(', ')}`,
        `the folders have: ${[...found].sort().join(', ')}; adjust --classes`,
      );
  }
  const classes = wanted === 'all' ? [...found].sort() : wanted;
  return { items: items.filter((it) => classes.includes(it.label)), classes };
}

/** Crops and photos are decoded once per input size (crops) or per cut and size (photos). */
function setKey(c: Classifier, crops: boolean): string {
  return crops ? String(c.inputSize) : `${JSON.stringify(c.faceCut)}@${c.inputSize}`;
}

const asImageItem = (it: LabelledItem): ImageItem => ({ path: it.path, rel: it.rel, label: it.label, file: path.basename(it.path) });

/** Face crops used as given, decoded at each model's input size; an unreadable one is dropped for every model. */
async function decodeCrops(
  items: LabelledItem[],
  classes: string[],
  models: Classifier[],
): Promise<{ sets: Map<string, DecodedSet>; kept: number[]; skipped: SkippedImage[] }> {
  const { sets, kept, skipped } = await decodeAtSizes(items.map(asImageItem), classes, [...new Set(models.map((c) => c.inputSize))]);
  return { sets: new Map([...sets].map(([size, set]) => [String(size), set])), kept, skipped };
}

/**
 * Photos as predict reads them: the detector finds the faces, the most confident one is the
 * image's face (a face set has one person per photo), cut for each model as its training faces
 * were. A photo without a face is skipped for every model, so all score the same images.
 */
async function cutPhotoFaces(
  items: LabelledItem[],
  classes: string[],
  models: Classifier[],
  detectorModel: DetectorModel,
  minScore: number,
): Promise<{ sets: Map<string, DecodedSet>; kept: number[]; skipped: SkippedImage[] }> {
  const detector = await loadFaceDetector({ model: detectorModel, minScore });
  const cuts = new Map<string, { cut: FaceCut; size: number }>();
  for (const c of models) cuts.set(setKey(c, false), { cut: c.faceCut, size: c.inputSize });
  const faces = new Map<string, Uint8Array[]>([...cuts.keys()].map((k) => [k, []]));
  const kept: number[] = [];
  const skipped: SkippedImage[] = [];
  const progress = startProgress(items.length, 'finding faces', '{file}');
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    try {
      const rgb = await toRgb(it.path);
      const [best] = await detectScaled(detector, rgb);
      if (!best) skipped.push({ path: it.path, reason: `no face found (detector ${detectorModel}, score ≥ ${minScore})` });
      else {
        for (const [key, { cut, size }] of cuts) faces.get(key)!.push((await cutFacesAs(rgb, [best.box], cut, size))[0]!);
        kept.push(i);
      }
    } catch (err) {
      skipped.push({ path: it.path, reason: `not a readable image (${firstLine(err)})` });
    }
    progress.update(i + 1, { file: it.rel });
  }
  progress.stop();
  const labels = Int32Array.from(kept, (i) => classes.indexOf(items[i]!.label));
  const rels = kept.map((i) => items[i]!.rel);
  const sets = new Map<string, DecodedSet>();
  for (const [key, { size }] of cuts) {
    const pixels = new Uint8Array(kept.length * size * size);
    faces.get(key)!.forEach((f, k) => pixels.set(f, k * size * size));
    sets.set(key, { size, pixels, labels, rels });
  }
  return { sets, kept, skipped };
}
