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
 * The matching itself is in scripts/fer-match.ts (tested by test/fer-match.test.ts).
 *
 * Writes OUT/ferplus-fer2013-labels.csv: `file,label,corr` (file as in ferplus/votes.csv), atomically.
 * Usage: npx tsx scripts/fer-label-match.ts [OUT] (default ../visemo-data)
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../src/util/atomic.js';
import { bestMatch, faceOf, MIN_CORR, SIDE, type Face } from './fer-match.js';

const SHARED = path.resolve(import.meta.dirname, '../../shared/datasets');
const OUT = path.resolve(process.argv[2] ?? path.resolve(import.meta.dirname, '../../visemo-data'));
async function gray48(file: string): Promise<Uint8Array> {
  const { data, info } = await sharp(file).greyscale().raw().toBuffer({ resolveWithObject: true });
  if (info.width !== SIDE || info.height !== SIDE || info.channels !== 1) throw new Error(`${file}: not a 48×48 gray image`);
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

async function readFaces(entries: { file: string; name: string; label: string }[], what: string): Promise<Face[]> {
  const faces: Face[] = [];
  for (let i = 0; i < entries.length; i += 256) {
    const batch = entries.slice(i, i + 256);
    const pixels = await Promise.all(batch.map((e) => gray48(e.file)));
    batch.forEach((e, j) => faces.push(faceOf(e.name, e.label, pixels[j]!)));
    process.stderr.write(`\r${what}: ${faces.length}/${entries.length}`);
  }
  process.stderr.write('\n');
  return faces;
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
    const { match, corr, verdict } = bestMatch(p, jpegs);
    if (verdict === 'none') none++;
    else if (verdict === 'ambiguous') ambiguous++;
    else {
      rows.push(`${p.name},${match!.label},${corr.toFixed(4)}`);
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
