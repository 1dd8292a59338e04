/**
 * One unit of `prepare` work: a video (frames → faces) or an image (→ face), made monochrome,
 * augmented when asked, and written as PNGs into DATASET/<split>/<label>/. Runs inside a worker.
 */
import { hashHex } from '../util/hash.js';
import { alignFace, cutAligned } from '../align/align-image.js';
import path from 'node:path';
import type { SplitName } from '../data/split.js';
import { toRgb } from '../image/decode.js';
import { loadFaceDetector, type DetectorModel, type FaceDetection, type FaceDetector } from '../image/face-detector.js';
import { mainTrackFaces } from '../tracking/main-track.js';
import { centreSquare, largestFace, roundBox, squareAround, type FaceBox, type RawImage } from '../image/geometry.js';
import { chooseFrames, extractFrames, probeVideo, type FrameChoice } from '../image/video.js';
import { writeFileAtomic } from '../util/atomic.js';
import { addNoise, encodePng, grayCrop, hashString, planAugmentations, rotatedGrayCrop, type Augmentation, type AugmentSpec } from './augment.js';
import type { SourceUnit } from './sources.js';

/** Everything that decides the output pixels; stored in the dataset for the resume check. */
export interface ProcessOptions {
  size: number;
  margin: number;
  /** Cut faces aligned by their landmarks (src/align) instead of a square around the box; a face whose landmarks fail keeps the box square. */
  align?: boolean;
  detect: boolean;
  detector: DetectorModel;
  minScore: number;
  frames: FrameChoice;
  augment: AugmentSpec;
  seed: number;
}

export interface ManifestImage {
  /** Path inside the dataset, '/'-separated. */
  file: string;
  source: string;
  subject: string | null;
  video: string | null;
  /** Seconds into the video; null for images. */
  frameTime: number | null;
  split: SplitName;
  label: string;
  augmentation: Augmentation | null;
  /** Face box in source pixels (null with --no-detect), and the detector's score. */
  box: FaceBox | null;
  score: number | null;
}

export interface UnitResult {
  id: string;
  ok: boolean;
  error?: string;
  frames: number;
  faces: number;
  noFace: number;
  /** With align: faces whose landmarks failed, cut as a box square instead. */
  unaligned?: number;
  images: ManifestImage[];
}

export interface UnitTask {
  unit: SourceUnit;
  split: SplitName;
  augment: boolean;
  /** The unit's file-name stem, unique in the dataset (uniqueStems). */
  stem: string;
}

/** A file-name stem from a source id: 'subject 1/anger/s1_an_1.avi' → 'subject_1_anger_s1_an_1'. */
export function slug(id: string): string {
  return id
    .replace(/\.[^./]+$/, '')
    .replace(/[^A-Za-z0-9+-]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/**
 * Stems unique by construction: the slug, and where two ids share it (a.jpg and a.png, 'S011 b'
 * and S011_b, names in other scripts that slug to the same letters, or to nothing) or it is empty,
 * the slug and a short hash of the id. Case is ignored, as some filesystems do.
 */
export function uniqueStems(ids: string[]): Map<string, string> {
  const bySlug = new Map<string, string[]>();
  for (const id of ids) {
    const key = slug(id).toLowerCase();
    bySlug.set(key, [...(bySlug.get(key) ?? []), id]);
  }
  const out = new Map<string, string>();
  for (const [key, group] of bySlug) {
    for (const id of group) out.set(id, group.length === 1 && key !== '' ? slug(id) : [slug(id), hashHex(id, 8)].filter(Boolean).join('_'));
  }
  return out;
}

const grayRaw = (data: Uint8Array, size: number): RawImage => ({ data, width: size, height: size, channels: 1 });

/**
 * The subject's face in each source: of an image, its largest face; of a video's frames, the
 * face of the video's main track (tracking/main-track.ts), so another person's face never stands in.
 */
async function subjectFaces(sources: { image: RawImage; time: number | null }[], detector: FaceDetector): Promise<(FaceDetection | null)[]> {
  const found: FaceDetection[][] = [];
  for (const src of sources) found.push(await detector.detect(src.image));
  if (sources.length === 1 && sources[0]!.time === null) return [largestFace(found[0]!) ?? null];
  return mainTrackFaces(sources.map((src, i) => ({ time: src.time ?? 0, faces: found[i]! })));
}

let detector: Promise<FaceDetector> | null = null;

export async function processUnit(task: UnitTask, opts: ProcessOptions, outRoot: string): Promise<UnitResult> {
  const { unit, split } = task;
  const result: UnitResult = { id: unit.id, ok: true, frames: 0, faces: 0, noFace: 0, images: [] };
  try {
    let sources: { image: RawImage; time: number | null; stem: string }[];
    if (unit.kind === 'video') {
      const info = await probeVideo(unit.path);
      const frames = await extractFrames(unit.path, info, chooseFrames(info, opts.frames));
      if (frames.length === 0) throw new Error('no frame could be decoded');
      sources = frames.map((f) => ({ image: f.image, time: f.pick.time, stem: `${task.stem}_f${String(f.pick.index).padStart(4, '0')}` }));
    } else {
      sources = [{ image: await toRgb(unit.path), time: null, stem: task.stem }];
    }
    result.frames = sources.length;
    if (opts.detect) detector ??= loadFaceDetector({ model: opts.detector, minScore: opts.minScore });
    const faces = opts.detect ? await subjectFaces(sources, await detector!) : null;
    const dir = path.join(outRoot, split, unit.label);
    for (const [k, src] of sources.entries()) {
      let box: FaceBox | null = null;
      let score: number | null = null;
      let square: FaceBox;
      if (faces) {
        const face = faces[k];
        if (!face) {
          result.noFace++;
          continue;
        }
        box = roundBox(face.box);
        score = Math.round(face.score * 1000) / 1000;
        square = squareAround(face.box, opts.margin);
      } else {
        square = centreSquare(src.image.width, src.image.height);
      }
      result.faces++;
      const alignment = opts.align ? await alignFace(src.image, { box: box ?? undefined, size: opts.size }) : null;
      const aligned = alignment?.aligned ? alignment : null;
      if (alignment && !aligned) result.unaligned = (result.unaligned ?? 0) + 1;
      const base = aligned ? grayRaw(aligned.pixels, opts.size) : await grayCrop(src.image, square, opts.size);
      const entry = (file: string, augmentation: Augmentation | null): ManifestImage => ({
        file: `${split}/${unit.label}/${file}`,
        source: unit.id,
        subject: unit.subject ?? null,
        video: unit.kind === 'video' ? unit.id : null,
        frameTime: src.time,
        split,
        label: unit.label,
        augmentation,
        box,
        score,
      });
      await writeFileAtomic(path.join(dir, `${src.stem}.png`), await encodePng(base));
      result.images.push(entry(`${src.stem}.png`, null));
      if (!task.augment) continue;
      for (const { aug, suffix } of planAugmentations(opts.augment, opts.seed, src.stem)) {
        // An aligned face is turned by cutting its square at another angle: real pixels in every corner.
        const rotate = async (degrees: number) =>
          aligned
            ? grayRaw(await cutAligned(src.image, { ...aligned.square, angle: aligned.square.angle - degrees }, opts.size), opts.size)
            : rotatedGrayCrop(src.image, square, opts.size, degrees);
        const copy = aug.type === 'rotate' ? await rotate(aug.degrees) : addNoise(base, aug.std, (opts.seed ^ hashString(`${src.stem}/noise`)) >>> 0);
        const file = `${src.stem}_${suffix}.png`;
        await writeFileAtomic(path.join(dir, file), await encodePng(copy));
        result.images.push(entry(file, aug));
      }
    }
  } catch (err) {
    result.ok = false;
    result.error = (err as Error).message;
  }
  return result;
}
