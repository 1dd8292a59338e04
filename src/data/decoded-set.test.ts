import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { decodeGray, toRgb } from '../image/decode.js';
import type { RawImage } from '../image/geometry.js';
import { decodeItems } from './decoded-set.js';

/** 40×24 RGB, different in every corner, so a turn or a mirror shows. */
function upright(): RawImage {
  const [width, height] = [40, 24];
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = x * 6;
      data[i + 1] = y * 10;
      data[i + 2] = x < 10 && y < 6 ? 255 : 0;
    }
  }
  return { data, width, height, channels: 3 };
}

const meanAbsDiff = (a: Uint8Array, b: Uint8Array) => a.reduce((s, v, i) => s + Math.abs(v - b[i]!), 0) / a.length;

test('EXIF orientation: training decode and inference decode both turn the picture upright, and agree', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-exif-'));
  try {
    const up = upright();
    const upGray = await decodeGray(up, 32);
    for (const format of ['png', 'jpeg'] as const) {
      // Stored turned a quarter left, with orientation 6 ("turn 90° clockwise to show").
      const file = path.join(dir, `turned.${format === 'png' ? 'png' : 'jpg'}`);
      await sharp(up.data, { raw: { width: up.width, height: up.height, channels: 3 } })
        .rotate(270)
        .withMetadata({ orientation: 6 })
        // (quality would make a PNG a palette image)
        .toFormat(format, format === 'jpeg' ? { quality: 100 } : {})
        .toFile(file);
      const meta = await sharp(file).metadata();
      assert.deepEqual([meta.width, meta.height, meta.orientation], [24, 40, 6], `${format} written as stored-turned`);

      // Inference: the detector's RGB is the upright picture.
      const rgb = await toRgb(file);
      assert.deepEqual([rgb.width, rgb.height], [40, 24], `${format}: toRgb applies the orientation`);
      if (format === 'png') assert.deepEqual(rgb.data, up.data);
      else assert.ok(meanAbsDiff(rgb.data, up.data) < 3, `${format}: toRgb far from the upright picture`);

      // Training (decodeItems, what train and evaluate read through) decodes with the recogniser's
      // own call for an image that is already a face, so their pixels are the same...
      const { set } = await decodeItems([{ path: file, rel: path.basename(file), label: 'a', file: path.basename(file) }], ['a'], 32, { concurrency: 1 });
      assert.deepEqual(set.pixels, await decodeGray(file, 32));
      // ...and show the upright picture, as the detector's RGB does. Not to the byte: sharp resizes
      // before it turns, so the lanczos taps fall differently than on the turned pixels.
      assert.ok(meanAbsDiff(set.pixels, await decodeGray(rgb, 32)) < 3, `${format}: training and inference decode differ`);
      assert.ok(meanAbsDiff(set.pixels, upGray) < 3, `${format}: training decode far from the upright picture`);
      // Without the orientation (as training decoded before) the picture is another one.
      const ignored = await sharp(file).flatten({ background: '#000000' }).grayscale().resize(32, 32, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
      assert.ok(meanAbsDiff(new Uint8Array(ignored), upGray) > 20, `${format}: the test image does not show a turn`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
