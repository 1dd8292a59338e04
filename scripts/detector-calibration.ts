/**
 * How BlazeFace's boxes relate to SSD MobileNet's, and how often each finds a face: shared SFEW
 * train faces (film frames, frontal and turned) pasted at random sizes and places on 640×480
 * frames, both detectors run on every frame. Prints the recall of each (a face counts as found
 * when a box covers its pasted rectangle with IoU ≥ 0.3) and the median mapping from BlazeFace's box
 * to SSD's for faces both found — the figures behind SSD_LIKE in src/image/blazeface.ts.
 *
 *   npx tsx scripts/detector-calibration.ts [--faces 300] [--seed 1]
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { useBackend } from '../src/engine/backend.js';
import { detectBlazeFaces } from '../src/image/blazeface.js';
import { loadFaceDetector } from '../src/image/face-detector.js';
import type { FaceBox } from '../src/image/geometry.js';
import { calibrationBetween, IDENTITY_CALIBRATION, iou } from '../src/image/boxes.js';
import { createRng } from '../src/util/random.js';
import { SHARED_DATASETS } from './data-links.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const count = arg('faces', 300);
const rand = createRng(arg('seed', 1));
const root = path.join(SHARED_DATASETS, 'sfew', 'train');
const files = readdirSync(root).flatMap((c) => readdirSync(path.join(root, c)).map((f) => path.join(root, c, f)));
const chosen = Array.from({ length: count }, () => files[Math.floor(rand() * files.length)]!);

await useBackend('wasm', { quiet: true });
const ssd = await loadFaceDetector({ model: 'ssd' });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const found = { ssd: 0, blaze: 0, both: 0 };
const ratios = { dx: [] as number[], dy: [] as number[], sx: [] as number[], sy: [] as number[] };
const best = (boxes: { box: FaceBox }[], truth: FaceBox) =>
  boxes.filter((d) => iou(d.box, truth) >= 0.3).sort((a, b) => iou(b.box, truth) - iou(a.box, truth))[0]?.box;
const t0 = performance.now();
for (const [i, file] of chosen.entries()) {
  // Its own shape (SFEW's faces are about 143×181), 100–220 px wide.
  const { data: face, info } = await sharp(file)
    .resize(Math.round(100 + rand() * 120))
    .toBuffer({ resolveWithObject: true });
  const truth = { x: Math.round(rand() * (640 - info.width)), y: Math.round(rand() * (480 - info.height)), width: info.width, height: info.height };
  const { data } = await sharp({ create: { width: 640, height: 480, channels: 3, background: { r: 90, g: 110, b: 130 } } })
    .composite([{ input: face, left: truth.x, top: truth.y }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const image = { data: new Uint8Array(data), width: 640, height: 480, channels: 3 as const };
  const s = best(await ssd.detect(image), truth);
  // Raw BlazeFace boxes: the mapping is measured from them.
  const b = best(await detectBlazeFaces(image, { minScore: 0.5, calibration: IDENTITY_CALIBRATION }), truth);
  if (s) found.ssd++;
  if (b) found.blaze++;
  if (s && b) {
    found.both++;
    const c = calibrationBetween(b, s);
    for (const k of ['dx', 'dy', 'sx', 'sy'] as const) ratios[k].push(c[k]);
  }
  if ((i + 1) % 50 === 0) process.stderr.write(`${i + 1}/${count} frames\n`);
}
console.log(`${count} pasted SFEW train faces (100–220 px wide) on 640×480 frames, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
console.log(
  `found: SSD ${found.ssd} (${((100 * found.ssd) / count).toFixed(1)} %), BlazeFace ${found.blaze} (${((100 * found.blaze) / count).toFixed(1)} %), both ${found.both}`,
);
const fit = Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, Number(median(v).toFixed(3))]));
console.log(`BlazeFace box → SSD box, medians over ${found.both} faces: ${JSON.stringify(fit)}`);
