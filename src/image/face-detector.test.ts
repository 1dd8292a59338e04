import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { tf } from '../engine/tf.js';
import { detectFaces, loadFaceDetector } from './face-detector.js';
import { largestFace, type RawImage } from './geometry.js';

const CKPLUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets/ckplus48');

/** A 720x576 frame with a CK+ face scaled to `side` pixels at (left, top), on a flat background. */
async function frameWithFace(left: number, top: number, side: number): Promise<RawImage> {
  const face = await sharp(path.join(CKPLUS, 'happiness', 'S010_006_00000013.png')).resize(side, side).toColourspace('srgb').png().toBuffer();
  const { data, info } = await sharp({ create: { width: 720, height: 576, channels: 3, background: { r: 90, g: 110, b: 130 } } })
    .composite([{ input: face, left, top }])
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 };
}

function overlap(a: { x: number; y: number; width: number; height: number }, b: typeof a): number {
  const w = Math.max(0, Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x));
  const h = Math.max(0, Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y));
  return (w * h) / (a.width * a.height + b.width * b.height - w * h);
}

test('finds the face placed in a frame, with both detectors, without leaking tensors', async () => {
  const frame = await frameWithFace(380, 200, 240);
  const placed = { x: 380, y: 200, width: 240, height: 240 };
  const faces = await detectFaces(frame);
  const best = largestFace(faces);
  assert.ok(best, 'no face found');
  assert.ok(overlap(best.box, placed) > 0.4, `box ${JSON.stringify(best.box)} far from the placed face`);
  assert.ok(best.score >= 0.5 && best.score <= 1);

  const tiny = await loadFaceDetector({ model: 'tiny' });
  const before = tf.memory().numTensors;
  const tinyFaces = await tiny.detect(frame);
  assert.equal(tf.memory().numTensors, before, 'detection leaked tensors');
  assert.ok(tinyFaces.length >= 1 && overlap(tinyFaces[0]!.box, placed) > 0.4);
});

test('finds nothing in a blank frame, and accepts gray input', async () => {
  const blank: RawImage = { data: new Uint8Array(320 * 240).fill(128), width: 320, height: 240, channels: 1 };
  assert.deepEqual(await detectFaces(blank), []);
});
