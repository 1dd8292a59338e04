import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DecodedSet } from '../data/decoded-set.js';
import { createRng } from '../util/random.js';
import { augmentBatch, DEFAULT_AUGMENT, formatTrainAugment, NO_AUGMENT, parseTrainAugment } from './augment.js';

const S = 24;

/** Two images: a horizontal ramp (left dark, right bright) and a vertical one. */
function rampSet(): DecodedSet {
  const pixels = new Uint8Array(2 * S * S);
  for (let y = 0; y < S; y++) {
    for (let x = 0; x < S; x++) {
      pixels[y * S + x] = Math.round((x * 255) / (S - 1));
      pixels[S * S + y * S + x] = Math.round((y * 255) / (S - 1));
    }
  }
  return { size: S, pixels, labels: Int32Array.from([3, 5]), rels: ['a.png', 'b.png'] };
}

const at = (set: DecodedSet, i: number, x: number, y: number) => set.pixels[i * S * S + y * S + x]!;

test('--augment parses none, default and lists, and formats back', () => {
  assert.deepEqual(parseTrainAugment('none'), NO_AUGMENT);
  assert.deepEqual(parseTrainAugment('default'), DEFAULT_AUGMENT);
  assert.deepEqual(parseTrainAugment('rotate=10, flip'), { rotate: 10, crop: 0, flip: true, noise: 0, erase: 0 });
  assert.deepEqual(parseTrainAugment(formatTrainAugment(DEFAULT_AUGMENT)), DEFAULT_AUGMENT);
  assert.equal(formatTrainAugment(NO_AUGMENT), 'none');
  assert.throws(() => parseTrainAugment('rotate=200'), /cannot read 'rotate=200'/);
  assert.throws(() => parseTrainAugment('blur=2'), /cannot read 'blur=2'/);
  assert.deepEqual(parseTrainAugment('flip,erase=0.5'), { ...NO_AUGMENT, flip: true, erase: 0.5 });
  assert.equal(formatTrainAugment({ ...DEFAULT_AUGMENT, erase: 0.5 }), 'rotate=15,crop=0.15,flip,noise=0.03,erase=0.5');
  assert.throws(() => parseTrainAugment('erase=2'), /cannot read 'erase=2'/);
});

test('erasing replaces one rectangle of 2–25 % of a share of the images, and draws nothing when off', () => {
  const n = 200;
  const flat: DecodedSet = { size: S, pixels: new Uint8Array(S * S).fill(128), labels: Int32Array.from([0]), rels: ['g'] };
  const out = augmentBatch(flat, new Array(n).fill(0), { ...NO_AUGMENT, erase: 0.5 }, createRng(3));
  let erased = 0;
  for (let i = 0; i < n; i++) {
    const changed: [number, number][] = [];
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) if (at(out, i, x, y) !== 128) changed.push([x, y]);
    if (changed.length === 0) continue;
    erased++;
    // The changed pixels lie in one rectangle of the drawn size (a random value may hit 128).
    const xs = changed.map(([x]) => x);
    const ys = changed.map(([, y]) => y);
    const box = (Math.max(...xs) - Math.min(...xs) + 1) * (Math.max(...ys) - Math.min(...ys) + 1);
    assert.ok(box <= 0.3 * S * S && changed.length >= 0.9 * box, `image ${i}: ${changed.length} changed pixels in a box of ${box}`);
  }
  assert.ok(erased > 70 && erased < 130, `${erased} of ${n} erased (about half expected)`);
  // Off, it draws no number: the random stream is the one earlier runs drew, so they resume as before
  // (four draws per image for the warp: angle, zoom, shift x, shift y).
  let draws = 0;
  const rng = createRng(4);
  augmentBatch(rampSet(), [0, 1], NO_AUGMENT, () => (draws++, rng()));
  assert.equal(draws, 8);
});

test('no augmentation copies the images exactly, in the order asked, labels kept', () => {
  const set = rampSet();
  const out = augmentBatch(set, [1, 0], NO_AUGMENT, createRng(1));
  assert.deepEqual(out.pixels.subarray(0, S * S), set.pixels.subarray(S * S));
  assert.deepEqual(out.pixels.subarray(S * S), set.pixels.subarray(0, S * S));
  assert.deepEqual(Array.from(out.labels), [5, 3]);
  assert.deepEqual(out.rels, ['b.png', 'a.png']);
});

test('a flip mirrors left–right exactly; rotation turns a ramp; zoom keeps the centre', () => {
  const set = rampSet();
  // rng below 0.5 flips; with rotate and crop at 0 nothing else moves.
  const flipped = augmentBatch(set, [0, 1], { ...NO_AUGMENT, flip: true }, () => 0.1);
  for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) assert.equal(at(flipped, 0, x, y), at(set, 0, S - 1 - x, y));
  assert.deepEqual(flipped.pixels.subarray(S * S), set.pixels.subarray(S * S), 'a vertical ramp is its own mirror');

  // rng → 1 turns by (almost) +90°: the horizontal ramp becomes vertical.
  const turned = augmentBatch(set, [0], { ...NO_AUGMENT, rotate: 90 }, () => 0.999999);
  const column = Array.from({ length: S }, (_, y) => at(turned, 0, S / 2, y));
  const row = Array.from({ length: S }, (_, x) => at(turned, 0, x, S / 2));
  assert.ok(Math.abs(column[0]! - column[S - 1]!) > 200, `column ${column}`);
  assert.ok(Math.abs(row[0]! - row[S - 1]!) < 10, `row ${row}`);

  // rng 0.5 with crop=1: a 1.5× zoom about the centre (shift 0) spreads the ramp's middle two
  // thirds over the image: the edges read 255·(11.5 ∓ 11.5/1.5)/23 ≈ 42.5 and 212.5.
  const zoomed = augmentBatch(set, [0], { ...NO_AUGMENT, crop: 1 }, () => 0.5);
  const z = Array.from({ length: S }, (_, x) => at(zoomed, 0, x, 3));
  assert.ok(Math.abs(z[0]! - 42.5) <= 1 && Math.abs(z[S - 1]! - 212.5) <= 1, `zoomed row ${z}`);
});

test('seeded: the same seed gives the same batch, another seed another; noise has about the asked spread', () => {
  const set = rampSet();
  const a = augmentBatch(set, [0, 1, 0, 1], DEFAULT_AUGMENT, createRng(5));
  const b = augmentBatch(set, [0, 1, 0, 1], DEFAULT_AUGMENT, createRng(5));
  const c = augmentBatch(set, [0, 1, 0, 1], DEFAULT_AUGMENT, createRng(6));
  assert.deepEqual(a.pixels, b.pixels);
  assert.notDeepEqual(a.pixels, c.pixels);
  assert.notDeepEqual(a.pixels.subarray(0, S * S), a.pixels.subarray(2 * S * S, 3 * S * S), 'two draws of one image differ');

  // Noise alone, on a flat gray image: every image drawn noisy has std ≈ 0.1·255.
  const flat: DecodedSet = { size: S, pixels: new Uint8Array(S * S).fill(128), labels: Int32Array.from([0]), rels: ['g'] };
  const noisy = augmentBatch(flat, new Array(40).fill(0), { ...NO_AUGMENT, noise: 0.1 }, createRng(9));
  const stds: number[] = [];
  for (let i = 0; i < 40; i++) {
    const px = Array.from(noisy.pixels.subarray(i * S * S, (i + 1) * S * S));
    const mean = px.reduce((s, v) => s + v, 0) / px.length;
    stds.push(Math.sqrt(px.reduce((s, v) => s + (v - mean) ** 2, 0) / px.length));
  }
  const withNoise = stds.filter((s) => s > 0);
  assert.ok(withNoise.length > 10 && withNoise.length < 30, `${withNoise.length} of 40 noisy (about half expected)`);
  for (const s of withNoise) assert.ok(Math.abs(s - 25.5) < 4, `noise std ${s}`);
});

test('fast enough not to dominate a step: a 32-image 48×48 batch in a few milliseconds', () => {
  const size = 48;
  const set: DecodedSet = { size, pixels: new Uint8Array(64 * size * size).map((_, i) => i % 251), labels: new Int32Array(64), rels: new Array(64).fill('x') };
  const rng = createRng(1);
  const idx = Array.from({ length: 32 }, (_, i) => i * 2);
  augmentBatch(set, idx, DEFAULT_AUGMENT, rng);
  const t0 = performance.now();
  for (let r = 0; r < 20; r++) augmentBatch(set, idx, DEFAULT_AUGMENT, rng);
  const ms = (performance.now() - t0) / 20;
  assert.ok(ms < 25, `${ms.toFixed(1)} ms per batch`);
});
