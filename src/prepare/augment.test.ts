import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import type { RawImage } from '../image/geometry.js';
import { addNoise, encodePng, grayCrop, parseAugment, planAugmentations, rotatedGrayCrop } from './augment.js';

/** Orientation of the bright mass in degrees, clockwise from horizontal (image y points down). */
export function orientation(img: RawImage): number {
  let m = 0,
    mx = 0,
    my = 0;
  const at = (x: number, y: number) => img.data[y * img.width + x]!;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const v = at(x, y);
      m += v;
      mx += v * x;
      my += v * y;
    }
  const cx = mx / m,
    cy = my / m;
  let mu20 = 0,
    mu02 = 0,
    mu11 = 0;
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const v = at(x, y);
      mu20 += v * (x - cx) ** 2;
      mu02 += v * (y - cy) ** 2;
      mu11 += v * (x - cx) * (y - cy);
    }
  return (0.5 * Math.atan2(2 * mu11, mu20 - mu02) * 180) / Math.PI;
}

/** 64x64, black, with a white horizontal bar 40x4 in the middle. */
function bar(): RawImage {
  const data = new Uint8Array(64 * 64);
  for (let y = 30; y < 34; y++) for (let x = 12; x < 52; x++) data[y * 64 + x] = 255;
  return { data, width: 64, height: 64, channels: 1 };
}

test('parseAugment reads the paper spec, none, and rejects nonsense', () => {
  assert.deepEqual(parseAugment('rotate=15,noise=0.05'), { rotate: 15, noise: 0.05 });
  assert.deepEqual(parseAugment('none'), {});
  assert.throws(() => parseAugment('rotate=abc'), /cannot read 'rotate=abc'/);
  assert.throws(() => parseAugment('blur=2'), /cannot read/);
});

test('planAugmentations is deterministic per image and uses both rotation signs', () => {
  const a = planAugmentations({ rotate: 15, noise: 0.05 }, 7, 'x/1.png');
  assert.deepEqual(a, planAugmentations({ rotate: 15, noise: 0.05 }, 7, 'x/1.png'));
  assert.equal(a.length, 2);
  const signs = new Set(Array.from({ length: 20 }, (_, i) => (planAugmentations({ rotate: 15 }, 7, `img${i}`)[0]!.aug as { degrees: number }).degrees));
  assert.deepEqual([...signs].sort(), [-15, 15]);
});

test('a rotated copy is turned by the angle, an unrotated crop is not', async () => {
  const src = bar();
  const square = { x: 0, y: 0, width: 64, height: 64 };
  const plain = await grayCrop(src, square, 64);
  assert.ok(Math.abs(orientation(plain)) < 0.5, `plain crop orientation ${orientation(plain)}`);
  for (const deg of [15, -15]) {
    const rot = await rotatedGrayCrop(src, square, 64, deg);
    assert.equal(rot.width, 64);
    assert.equal(rot.channels, 1);
    const measured = orientation(rot);
    assert.ok(Math.abs(measured - deg) < 1.5, `rotated by ${deg}, measured ${measured.toFixed(2)}`);
  }
});

test('noise has the asked standard deviation on 0–1 pixels and is seeded', () => {
  const gray: RawImage = { data: new Uint8Array(100 * 100).fill(128), width: 100, height: 100, channels: 1 };
  const noisy = addNoise(gray, 0.05, 3);
  const diffs = [...noisy.data].map((v, i) => (v - gray.data[i]!) / 255);
  const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
  const std = Math.sqrt(diffs.reduce((a, b) => a + (b - mean) ** 2, 0) / diffs.length);
  assert.ok(Math.abs(std - 0.05) < 0.003, `std ${std}`);
  assert.ok(Math.abs(mean) < 0.003, `mean ${mean}`);
  assert.deepEqual(addNoise(gray, 0.05, 3).data, noisy.data);
});

test('encodePng keeps monochrome as one channel', async () => {
  const meta = await sharp(await encodePng(bar())).metadata();
  assert.equal(meta.channels, 1);
  assert.equal(meta.width, 64);
});
