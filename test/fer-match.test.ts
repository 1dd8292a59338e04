/**
 * scripts/fer-match.ts, which finds FER2013's label for FER+'s faces, on generated faces: copies
 * remapped by a monotone gray curve and JPEG-compressed (as the Kaggle copies are) are found, a
 * duplicated candidate is called ambiguous, and a face with no copy among the candidates is none.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import sharp from 'sharp';
import { bestMatch, correlation, faceOf, ranks, SIDE } from '../scripts/fer-match.js';
import { createRng } from '../src/util/random.js';

/** A smooth random 48×48 gray "face": a few Gaussian blobs on a gradient. */
function makeFace(seed: number): Uint8Array {
  const rng = createRng(seed);
  const blobs = Array.from({ length: 6 }, () => ({ x: rng() * SIDE, y: rng() * SIDE, r: 4 + rng() * 10, a: (rng() - 0.5) * 200 }));
  const gx = (rng() - 0.5) * 3;
  const out = new Uint8Array(SIDE * SIDE);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      let v = 128 + gx * (x - SIDE / 2);
      for (const b of blobs) v += b.a * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.r * b.r));
      out[y * SIDE + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return out;
}

/** The Kaggle treatment: a monotone (gamma and stretch) remap of gray levels, then a lossy JPEG round trip. */
async function kaggleCopy(pixels: Uint8Array, gamma: number): Promise<Uint8Array> {
  const mapped = Uint8Array.from(pixels, (v) => Math.round(255 * (v / 255) ** gamma));
  const jpeg = await sharp(mapped, { raw: { width: SIDE, height: SIDE, channels: 1 } })
    .jpeg({ quality: 75 })
    .toBuffer();
  const { data } = await sharp(jpeg).greyscale().raw().toBuffer({ resolveWithObject: true });
  return new Uint8Array(data);
}

test('ranks are unchanged by a monotone remap, and a remapped copy correlates near 1', async () => {
  const face = makeFace(1);
  const remapped = Uint8Array.from(face, (v) => Math.round(255 * (v / 255) ** 1.8));
  const r1 = ranks(face);
  const r2 = ranks(remapped);
  // Ties may merge under the remap; ranks' order is kept.
  for (let i = 1; i < face.length; i++) assert.equal(Math.sign(r1[i]! - r1[i - 1]!) * Math.sign(r2[i]! - r2[i - 1]!) >= 0, true);
  assert.ok(correlation(face, await kaggleCopy(face, 1.8)) > 0.97);
  assert.ok(Math.abs(correlation(face, makeFace(2))) < 0.9);
});

test('each face finds its remapped JPEG copy among 40 candidates; a duplicate is ambiguous; a face without a copy is none', async () => {
  const originals = Array.from({ length: 40 }, (_, i) => makeFace(100 + i));
  const candidates = await Promise.all(originals.map(async (p, i) => faceOf(`k${i}.jpg`, `class${i % 7}`, await kaggleCopy(p, 0.6 + (i % 5) * 0.2))));
  for (const [i, p] of originals.entries()) {
    const { match, corr, verdict } = bestMatch(faceOf(`fer${i}.png`, '', p), candidates);
    assert.equal(verdict, 'matched', `face ${i}: ${verdict} (corr ${corr.toFixed(3)})`);
    assert.equal(match?.name, `k${i}.jpg`);
    assert.equal(match?.label, `class${i % 7}`);
  }
  // The same JPEG twice among the candidates (FER2013 has duplicate faces): which label is unknowable.
  const twice = [...candidates, faceOf('dup.jpg', 'other', candidates[3]!.pixels)];
  assert.equal(bestMatch(faceOf('fer3.png', '', originals[3]!), twice).verdict, 'ambiguous');
  assert.equal(bestMatch(faceOf('stranger.png', '', makeFace(999)), candidates).verdict, 'none');
});
