import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { tf } from '../engine/tf.js';
import { detectFaces, loadFaceDetector } from './face-detector.js';
import { BLAZEFACE_INPUT, blazeFaceAnchors, detectBlazeFaces, SSD_LIKE } from './blazeface.js';
import { applyCalibration, IDENTITY_CALIBRATION } from './boxes.js';
import { largestFace, type RawImage } from './geometry.js';

const CKPLUS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/datasets/ckplus48');

/** A 720x576 frame with a CK+ face scaled to `side` pixels at (left, top), on a flat background. */
async function frameWithFace(left: number, top: number, side: number): Promise<RawImage> {
  const face = await sharp(path.join(CKPLUS, 'happiness', 'S010_006_00000013.png'))
    .resize(side, side)
    .toColourspace('srgb')
    .png()
    .toBuffer();
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

test('BlazeFace: its 896 anchors, and the face found where SSD finds it, at any frame shape', async () => {
  const a = blazeFaceAnchors();
  assert.equal(a.length, 2 * (16 * 16 * 2 + 8 * 8 * 6));
  assert.deepEqual([...a.slice(0, 4)], [8, 8, 8, 8]); // two anchors in the first 16-pixel cell
  assert.deepEqual([...a.slice(-2)], [BLAZEFACE_INPUT - 16, BLAZEFACE_INPUT - 16]); // the last 32-pixel cell's centre

  const frame = await frameWithFace(380, 200, 240);
  const placed = { x: 380, y: 200, width: 240, height: 240 };
  const detector = await loadFaceDetector({ model: 'blazeface' });
  await detector.detect(frame); // loads the weights
  const before = tf.memory().numTensors;
  const faces = await detector.detect(frame);
  assert.equal(tf.memory().numTensors, before, 'detection leaked tensors');
  assert.equal(faces.length, 1, JSON.stringify(faces));
  const ssd = largestFace(await detectFaces(frame))!;
  assert.ok(overlap(faces[0]!.box, placed) > 0.5, `box ${JSON.stringify(faces[0]!.box)} far from the placed face`);
  assert.ok(overlap(faces[0]!.box, ssd.box) > 0.6, `BlazeFace ${JSON.stringify(faces[0]!.box)} vs SSD ${JSON.stringify(ssd.box)}`);
  // The raw box, mapped by SSD_LIKE, is the box returned.
  const raw = await detectBlazeFaces(frame, { calibration: IDENTITY_CALIBRATION });
  const mapped = applyCalibration(raw[0]!.box, SSD_LIKE);
  for (const k of ['x', 'y', 'width', 'height'] as const) assert.ok(Math.abs(mapped[k] - faces[0]!.box[k]) < 1e-3, k);

  // A tall frame (padded to a square, not squashed) and a gray one find the same face.
  const { data, info } = await sharp(Buffer.from(frame.data), { raw: { width: 720, height: 576, channels: 3 } })
    .extract({ left: 300, top: 0, width: 400, height: 576 })
    .raw()
    .toBuffer({ resolveWithObject: true });
  const tall = await detectBlazeFaces({ data: new Uint8Array(data), width: info.width, height: info.height, channels: 3 });
  assert.equal(tall.length, 1);
  assert.ok(overlap(tall[0]!.box, { ...placed, x: 80 }) > 0.5, JSON.stringify(tall[0]!.box));
  const gray: RawImage = { data: new Uint8Array(720 * 576).map((_, i) => frame.data[i * 3]!), width: 720, height: 576, channels: 1 };
  assert.equal((await detectBlazeFaces(gray)).length, 1);
  const blank: RawImage = { data: new Uint8Array(320 * 240).fill(128), width: 320, height: 240, channels: 1 };
  assert.deepEqual(await detector.detect(blank), []);
});
