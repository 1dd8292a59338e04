// The one image pipeline (pixels.ts, which the page runs) held to sharp's: decode.ts's gray and whole-image
// resize, crop.ts's square cut, and training's normalisation (batchArray).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { batchArray } from '../data/decoded-set.js';
import { cropFace } from './crop.js';
import { decodeGray, toGray, toRgb } from './decode.js';
import { squareAround, type FaceBox, type RawImage } from './geometry.js';
import { faceModelInput, grayCut, normalisePixels, resizeGray, toGrayPixels, warpAffine } from './pixels.js';
import { DATASETS } from '../../test/predict-helpers.js';

/**
 * Tolerances, in levels of 0–255. Gray and cut: sharp rounds to whole levels, pixels.ts does not,
 * so at most one level apart. Resize: pixels.ts averages blocks (an area filter; bilinear when
 * enlarging) where sharp uses lanczos3, whose ringing at hard edges differs most: on average
 * within MAX_MEAN_RESIZE, and 99% of pixels within MAX_P99_RESIZE (measured: at most 1.5 and 13 on
 * the test card's hard edges, 1.0 and 6 on SFEW faces).
 */
const MAX_GRAY = 1;
const MAX_MEAN_RESIZE = 2;
const MAX_P99_RESIZE = 16;

/** A colour test card: gradients and waves in the channels, a disc and hard-edged bars, w×h RGB. */
function testCard(width: number, height: number): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = (y * width + x) * 3;
      const disc = (x - width / 2) ** 2 + (y - height / 2) ** 2 < (Math.min(width, height) / 4) ** 2;
      const bar = Math.floor(x / 9) % 2 === 0 && y > height * 0.8;
      data[p] = disc ? 230 : Math.round((255 * x) / (width - 1));
      data[p + 1] = bar ? 20 : Math.round((255 * y) / (height - 1));
      data[p + 2] = disc ? 40 : Math.round(128 + 100 * Math.sin(x / 5) * Math.cos(y / 7));
    }
  }
  return { data, width, height, channels: 3 };
}

/** How far apart two images are: the largest, mean and 99th-percentile absolute difference. */
function diff(a: ArrayLike<number>, b: ArrayLike<number>): { max: number; mean: number; p99: number } {
  assert.equal(a.length, b.length);
  const d = Float64Array.from({ length: a.length }, (_, i) => Math.abs((a[i] ?? NaN) - (b[i] ?? NaN))).sort();
  return { max: d[d.length - 1] ?? 0, mean: d.reduce((s, v) => s + v, 0) / d.length, p99: d[Math.floor(0.99 * (d.length - 1))] ?? 0 };
}

const SFEW = path.join(DATASETS, 'sfew', 'train', 'happiness');
/** Images to compare on: the generated card, and real faces (SFEW's colour frames) where the datasets are. */
async function images(): Promise<{ name: string; rgb: RawImage }[]> {
  const out = [{ name: 'test card', rgb: testCard(160, 120) }];
  if (existsSync(SFEW)) for (const f of readdirSync(SFEW).sort().slice(0, 3)) out.push({ name: f, rgb: await toRgb(path.join(SFEW, f)) });
  return out;
}

test("gray conversion is sharp's grayscale() within one level", async () => {
  for (const { name, rgb } of await images()) {
    const d = diff((await toGray(rgb)).data, toGrayPixels(rgb).data);
    assert.ok(d.max <= MAX_GRAY, `${name}: gray differs from sharp's by ${d.max}`);
  }
});

test("the square cut is crop.ts's, edge pixels repeated beyond the image", async () => {
  for (const { name, rgb } of await images()) {
    // One box inside the image, one reaching past its top-left corner (padded).
    const boxes: FaceBox[] = [
      { x: Math.round(rgb.width * 0.3), y: Math.round(rgb.height * 0.25), width: Math.round(rgb.width * 0.35), height: Math.round(rgb.height * 0.4) },
      { x: -10, y: -6, width: Math.round(rgb.width * 0.4), height: Math.round(rgb.height * 0.5) },
    ];
    for (const box of boxes) {
      const sharpCut = await cropFace(rgb, box, { margin: 0.3, gray: true });
      const cut = grayCut(rgb, squareAround(box, 0.3));
      assert.deepEqual([cut.width, cut.height], [sharpCut.width, sharpCut.height]);
      const d = diff(sharpCut.data, cut.data);
      assert.ok(d.max <= MAX_GRAY, `${name} ${JSON.stringify(box)}: cut differs from crop.ts's by ${d.max}`);
    }
  }
});

test("resizing is sharp's lanczos3 within the stated tolerance (crops and whole images)", async () => {
  for (const { name, rgb } of await images()) {
    const box = { x: Math.round(rgb.width * 0.25), y: Math.round(rgb.height * 0.2), width: Math.round(rgb.width * 0.4), height: Math.round(rgb.height * 0.45) };
    for (const size of [48, 64, 100]) {
      const crop = diff((await cropFace(rgb, box, { margin: 0.2, size, gray: true })).data, resizeGray(grayCut(rgb, squareAround(box, 0.2)), size));
      const whole = diff(await decodeGray(rgb, size), resizeGray(toGrayPixels(rgb), size));
      for (const [what, d] of [
        ['crop', crop],
        ['whole image', whole],
      ] as const) {
        assert.ok(
          d.mean <= MAX_MEAN_RESIZE && d.p99 <= MAX_P99_RESIZE,
          `${name} ${what} at ${size}: differs from sharp's by ${d.mean.toFixed(2)} on average, ${d.p99} or less at 99% of pixels`,
        );
      }
    }
  }
});

test('a resize to the same size, or of a flat image, changes nothing', () => {
  const flat = { data: new Float32Array(50 * 50).fill(77.4), width: 50, height: 50 };
  assert.ok(resizeGray(flat, 16).every((v) => v === 77));
  const ramp = { data: Float32Array.from({ length: 16 }, (_, i) => i * 10), width: 4, height: 4 };
  assert.deepEqual([...resizeGray(ramp, 4)], [...ramp.data]);
});

test("normalisation is training's (batchArray), bit for bit, repeated to the model's channels", () => {
  const pixels = Uint8Array.from({ length: 36 }, (_, i) => (i * 37) % 256);
  const norm = { mean: [0.52, 0.52, 0.52], std: [0.21, 0.21, 0.21] };
  for (const channels of [1, 3] as const) {
    const set = { size: 6, pixels, labels: new Int32Array(1), rels: [] };
    assert.deepEqual(normalisePixels(pixels, norm, channels), batchArray(set, [0], norm, channels));
  }
  const input = faceModelInput(testCard(40, 40), { x: 0, y: 0, width: 40, height: 40 }, 8, norm, 3);
  assert.equal(input.length, 8 * 8 * 3);
});

test('warpAffine samples bilinearly through the map, edge pixels beyond the frame', () => {
  const rgb = testCard(12, 10);
  // The identity map copies the image's top-left square.
  const same = warpAffine(rgb, [1, 0, 0, 0, 1, 0], 10);
  for (let y = 0; y < 10; y++)
    for (let x = 0; x < 10; x++) for (let c = 0; c < 3; c++) assert.equal(same.data[(y * 10 + x) * 3 + c], rgb.data[(y * 12 + x) * 3 + c]);
  // Half a pixel to the right: the mean of two neighbours; far outside: the nearest corner.
  const half = warpAffine(rgb, [1, 0, 0.5, 0, 1, 0], 2);
  assert.equal(half.data[0], Math.round((rgb.data[0]! + rgb.data[3]!) / 2));
  const outside = warpAffine(rgb, [0, 0, -50, 0, 0, 99], 1);
  assert.deepEqual(Array.from(outside.data), [...rgb.data.subarray(9 * 12 * 3, 9 * 12 * 3 + 3)]);
});
