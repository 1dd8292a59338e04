import assert from 'node:assert/strict';
import { test } from 'node:test';
import path from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { CKPLUS, FER_TRAIN, hasShared } from '../../test/helpers.js';
import { tf } from '../engine/tf.js';
import { cropFace } from '../image/crop.js';
import type { RawImage } from '../image/geometry.js';
import { alignFace, alignFaces, cutAligned, FALLBACK_MARGIN } from './align-image.js';
import { eyeCentres, FER_GEOMETRY, toAligned } from './geometry.js';
import { loadLandmarkNet } from './landmarks.js';

const noShared = hasShared ? false : 'the shared CK+/FER2013 datasets are not in ../shared/datasets';

async function rawGray(input: Sharp): Promise<RawImage> {
  const { data, info } = await input.grayscale().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 1);
  return { data: new Uint8Array(data), width: info.width, height: info.height, channels: 1 };
}

/** A w×h one-channel image with value f(x, y). */
function synthetic(w: number, h: number, f: (x: number, y: number) => number): RawImage {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { data, width: w, height: h, channels: 1 };
}

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / a.length;
}

/** The image turned `deg` degrees clockwise by sharp about its centre, edge pixels filling the corners, same size. */
async function turned(file: string, deg: number): Promise<RawImage> {
  const pad = 16;
  const { data, info } = await sharp(file)
    .extend({ top: pad, bottom: pad, left: pad, right: pad, extendWith: 'copy' })
    .rotate(deg)
    .toBuffer({ resolveWithObject: true });
  const meta = await sharp(file).metadata();
  const left = Math.round((info.width - meta.width) / 2);
  const top = Math.round((info.height - meta.height) / 2);
  return rawGray(sharp(data).extract({ left, top, width: meta.width, height: meta.height }));
}

test('cutAligned: the unturned square of the whole image gives the image back; edge pixels pad outside it', async () => {
  const img = synthetic(48, 48, (x, y) => (x * 5 + y * 3) % 256);
  const same = await cutAligned(img, { angle: 0, center: { x: 24, y: 24 }, side: 48 }, 48);
  assert.deepEqual([...same], [...img.data]);
  // Centred on the top-left corner: the top-left quadrant lies outside and repeats pixel (0, 0)'s row and column.
  const corner = await cutAligned(img, { angle: 0, center: { x: 0, y: 0 }, side: 48 }, 48);
  for (let y = 0; y < 24; y++) for (let x = 0; x < 24; x++) assert.equal(corner[y * 48 + x], img.data[0], `pixel ${x},${y}`);
  // Below the corner (x outside, y inside) the first column repeats.
  assert.equal(corner[30 * 48 + 3], img.data[6 * 48]);
});

test('cutAligned: a square turned 90° is the image turned 90° back (counter-clockwise), and resizes', async () => {
  const img = synthetic(40, 40, (x, y) => (x * 11 + y * 2) % 256);
  const cut = await cutAligned(img, { angle: 90, center: { x: 20, y: 20 }, side: 40 }, 40);
  const expected = await rawGray(sharp(img.data, { raw: { width: 40, height: 40, channels: 1 } }).rotate(270));
  assert.deepEqual([...cut], [...expected.data]);
  const small = await cutAligned(img, { angle: 90, center: { x: 20, y: 20 }, side: 40 }, 20);
  assert.equal(small.length, 400);
});

test('no face: a flat image falls back with a reason and its resized pixels, without leaking tensors', async () => {
  const net = await loadLandmarkNet();
  const flat = synthetic(64, 64, () => 128);
  const before = tf.memory().numTensors;
  const r = await alignFace(flat, { size: 32, net });
  assert.equal(tf.memory().numTensors, before, 'alignment leaked tensors');
  assert.equal(r.aligned, false);
  if (r.aligned) return;
  assert.ok(['eyes-too-close', 'angle-too-large', 'eyes-not-above-mouth'].includes(r.reason), r.reason);
  assert.ok(r.detail.length > 0);
  assert.equal(r.landmarks.length, 68);
  assert.equal(r.pixels.length, 32 * 32);
  assert.ok(r.pixels.every((v) => v === 128));
});

test('a FER2013 and a CK+ face turned 20° by sharp: the angle is recovered and both align alike', { skip: noShared }, async () => {
  const net = await loadLandmarkNet();
  for (const file of [path.join(FER_TRAIN, 'happiness', 'Training_10019449.jpg'), path.join(CKPLUS, 'happiness', 'S010_006_00000013.png')]) {
    const name = path.basename(file);
    const upright = await rawGray(sharp(file));
    const tilted = await turned(file, 20);
    const [a, b] = await alignFaces([{ image: upright }, { image: tilted }], { size: 48, net });
    if (!a?.aligned || !b?.aligned) return assert.fail(`${name}: not aligned`);
    const recovered = b.angle - a.angle;
    assert.ok(Math.abs(recovered - 20) < 3, `${name}: recovered ${recovered.toFixed(1)}° of the 20° turn`);
    // The aligned crops differ far less than the raw pair does (~50–60 gray levels on these two).
    const rawDiff = meanAbsDiff(upright.data, tilted.data);
    const alignedDiff = meanAbsDiff(a.pixels, b.pixels);
    assert.ok(alignedDiff < 20 && alignedDiff < 0.4 * rawDiff, `${name}: aligned crops differ by ${alignedDiff.toFixed(1)} (raw pair ${rawDiff.toFixed(1)})`);
    // Deterministic: the same image aligns to the same bytes, alone or in a batch.
    const again = await alignFace(tilted, { size: 48, net });
    assert.deepEqual(again.pixels, b.pixels);
    // Landmarks are in the source's coordinates, and the square levels their eye line at FER2013's eye height.
    const { left, right } = eyeCentres(b.landmarks);
    assert.ok(Math.abs((Math.atan2(right.y - left.y, right.x - left.x) * 180) / Math.PI - b.angle) < 1e-6);
    const l = toAligned(b.square, left);
    const r = toAligned(b.square, right);
    assert.ok(Math.abs(l.y - r.y) < 1e-9 && Math.abs(l.y - FER_GEOMETRY.eyeY) < 0.03, `${name}: eyes at ${l.y.toFixed(3)}, ${r.y.toFixed(3)}`);
  }
});

test('with a detector box the net looks around the box, and the face aligns as its crop does', { skip: noShared }, async () => {
  const net = await loadLandmarkNet();
  const file = path.join(CKPLUS, 'happiness', 'S010_006_00000013.png');
  const face = await sharp(file).resize(96, 96, { kernel: 'lanczos3' }).png().toBuffer();
  const crop = await rawGray(sharp(face));
  const frame = await rawGray(
    sharp({ create: { width: 240, height: 180, channels: 3, background: { r: 100, g: 100, b: 100 } } }).composite([{ input: face, left: 110, top: 50 }]),
  );
  const box = { x: 110, y: 50, width: 96, height: 96 };
  const inFrame = await alignFace(frame, { size: 48, net, box });
  const alone = await alignFace(crop, { size: 48, net });
  assert.ok(inFrame.aligned && alone.aligned, 'not aligned');
  // The same eyes, in frame coordinates (the crop's shifted by the box), within a pixel or two.
  const f = eyeCentres(inFrame.landmarks);
  const c = eyeCentres(alone.landmarks);
  assert.ok(Math.hypot(f.left.x - c.left.x - 110, f.left.y - c.left.y - 50) < 2.5, 'left eye moved');
  assert.ok(Math.hypot(f.right.x - c.right.x - 110, f.right.y - c.right.y - 50) < 2.5, 'right eye moved');
  assert.ok(Math.abs(inFrame.angle - alone.angle) < 2, `angles ${inFrame.angle} and ${alone.angle}`);
  // The aligned square reaches past the face crop (padded differently from the flat frame), so compare the middle.
  let diff = 0;
  for (let y = 12; y < 36; y++) for (let x = 12; x < 36; x++) diff += Math.abs(inFrame.pixels[y * 48 + x]! - alone.pixels[y * 48 + x]!);
  assert.ok(diff / 576 < 8, `middles differ by ${(diff / 576).toFixed(1)}`);
  // A fallback with a box is the box's square (margin FALLBACK_MARGIN), not the whole frame.
  const halves = synthetic(240, 180, (x) => (x < 160 ? 20 : 230));
  const blank = await alignFace(halves, { size: 48, net, box });
  assert.equal(blank.aligned, false);
  assert.deepEqual(blank.pixels, (await cropFace(halves, box, { margin: FALLBACK_MARGIN, size: 48, gray: true })).data);
});
