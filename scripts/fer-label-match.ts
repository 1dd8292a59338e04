/**
 * Finds FER2013's own label for each FER+ training face (issue 31: FER+'s crowd votes made the
 * default model disagree with FER2013's labels). FER+ names its faces by FER2013's row order
 * (`fer0000000.png`, original pixels) while `fer2013/train/<class>/` holds the Kaggle copies
 * under other names as lossy JPEGs whose contrast was also changed (a monotone map of the gray
 * levels, linear for some faces and not for others), so the two are matched by their pixels' ranks:
 * each PNG's nearest JPEG by the distance of standardised 8×8 block means of the ranks, then checked
 * on all 2,304 pixels. A match is kept only when the rank correlation of its pixels is at least
 * MIN_CORR and the runner-up's block distance is at least twice the best's.
 *
 * Writes OUT/ferplus-fer2013-labels.csv: `file,label,corr` (file as in ferplus/votes.csv), atomically.
 * Usage: npx tsx scripts/fer-label-match.ts [OUT] (default ../visemo-data)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../src/util/atomic.js';

const SHARED = path.resolve(import.meta.dirname, '../../shared/datasets');
const OUT = path.resolve(process.argv[2] ?? path.resolve(import.meta.dirname, '../../visemo-data'));
const SIDE = 48;
const MIN_CORR = 0.97;
const BLOCK = 6; // 8×8 blocks of 6×6 pixels
const DIMS = (SIDE / BLOCK) ** 2;

interface Face {
  name: string;
  label: string;
  pixels: Uint8Array;
  /** Standardised 8×8 block means. */
  key: Float32Array;
}

async function gray48(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== SIDE || info.height !== SIDE || info.channels !== 1) throw new Error(`${file}: not a 48×48 gray image`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

function standardise(v: ArrayLike<number>): Float32Array {
  let m = 0;
  for (let i = 0; i < v.length; i++) m += v[i]!;
  m /= v.length;
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += (v[i]! - m) ** 2;
  const sd = Math.sqrt(ss / v.length) || 1;
  return Float32Array.from({ length: v.length }, (_, i) => (v[i]! - m) / sd);
}

/** Each pixel's rank among the image's pixels (ties share their mean rank): a monotone change of gray levels leaves it unchanged. */
function ranks(p: Uint8Array): Float32Array {
  const count = new Float64Array(256);
  for (const v of p) count[v]!++;
  const rankOf = new Float32Array(256);
  let below = 0;
  for (let v = 0; v < 256; v++) {
    rankOf[v] = below + (count[v]! - 1) / 2;
    below += count[v]!;
  }
  return Float32Array.from(p, (v) => rankOf[v]!);
}

function blockKey(pixels: Uint8Array): Float32Array {
  const p = ranks(pixels);
  const n = SIDE / BLOCK;
  const b = new Float32Array(DIMS);
  for (let y = 0; y < SIDE; y++) for (let x = 0; x < SIDE; x++) b[Math.floor(y / BLOCK) * n + Math.floor(x / BLOCK)]! += p[y * SIDE + x]!;
  return standardise(b);
}

/** Spearman's rank correlation of two images' pixels. */
function correlation(a: Uint8Array, b: Uint8Array): number {
  const sa = standardise(ranks(a));
  const sb = standardise(ranks(b));
  let s = 0;
  for (let i = 0; i < sa.length; i++) s += sa[i]! * sb[i]!;
  return s / sa.length;
}

async function readFaces(entries: { file: string; name: string; label: string }[], what: string): Promise<Face[]> {
  const faces: Face[] = [];
  for (let i = 0; i < entries.length; i += 256) {
    const batch = entries.slice(i, i + 256);
    const pixels = await Promise.all(batch.map((e) => gray48(e.file)));
    batch.forEach((e, j) => faces.push({ name: e.name, label: e.label, pixels: pixels[j]!, key: blockKey(pixels[j]!) }));
    process.stderr.write(`\r${what}: ${faces.length}/${entries.length}`);
  }
  process.stderr.write('\n');
  return faces;
}

/** Squared distance of two keys, or Infinity once it passes `stopAt`. */
function distance(a: Float32Array, b: Float32Array, stopAt: number): number {
  let s = 0;
  for (let i = 0; i < DIMS; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
    if (s > stopAt) return Infinity;
  }
  return s;
}

async function main(): Promise<void> {
  const fer2013Dir = path.join(SHARED, 'fer2013', 'train');
  const jpegEntries: { file: string; name: string; label: string }[] = [];
  for (const label of (await fs.readdir(fer2013Dir)).sort()) {
    for (const name of (await fs.readdir(path.join(fer2013Dir, label))).sort()) jpegEntries.push({ file: path.join(fer2013Dir, label, name), name, label });
  }
  const votes = (await fs.readFile(path.join(SHARED, 'ferplus', 'votes.csv'), 'utf8')).trim().split('\n').slice(1);
  const pngEntries = votes
    .map((l) => l.split(','))
    .filter((c) => c[0] === 'train')
    .map((c) => ({ file: path.join(SHARED, 'ferplus', 'train', c[1]!), name: c[1]!, label: '' }));

  const jpegs = await readFaces(jpegEntries, 'fer2013 JPEGs');
  const pngs = await readFaces(pngEntries, 'FER+ PNGs');
  const rows = ['file,label,corr'];
  let kept = 0;
  let ambiguous = 0;
  let none = 0;
  for (const [i, p] of pngs.entries()) {
    let best = Infinity;
    let second = Infinity;
    let bestFace: Face | null = null;
    for (const j of jpegs) {
      const d = distance(p.key, j.key, second);
      if (d < best) {
        second = best;
        best = d;
        bestFace = j;
      } else if (d < second) second = d;
    }
    const corr = bestFace ? correlation(p.pixels, bestFace.pixels) : 0;
    if (!bestFace || corr < MIN_CORR) none++;
    else if (best * 2 > second) ambiguous++;
    else {
      rows.push(`${p.name},${bestFace.label},${corr.toFixed(4)}`);
      kept++;
    }
    if (i % 500 === 0)
      process.stderr.write(`
matching: ${i}/${pngs.length}`);
  }
  process.stderr.write('\n');
  await fs.mkdir(OUT, { recursive: true });
  const out = path.join(OUT, 'ferplus-fer2013-labels.csv');
  await writeFileAtomic(out, `${rows.join('\n')}\n`);
  console.log(
    `${kept} of ${pngs.length} FER+ faces matched to a FER2013 JPEG (${ambiguous} ambiguous, ${none} without one of rank correlation ≥ ${MIN_CORR}): ${out}`,
  );
}

await main();
