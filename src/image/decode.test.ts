import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import path from 'node:path';
import { decodeGray, toRgb } from './decode.js';

test('alpha is flattened onto black by both decoders', async () => {
  const rgba = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 200, g: 200, b: 200, alpha: 0.5 } } })
    .png()
    .toBuffer();
  const rgb = await toRgb(rgba);
  assert.equal(rgb.channels, 3);
  assert.ok(Math.abs(rgb.data[0]! - 100) <= 1, `flattened to ${rgb.data[0]}`);
  assert.deepEqual(await decodeGray(rgba, 8), await decodeGray(rgb, 8));
});

test('an image over the pixel budget is refused from its header, with its size, before it is decoded', async () => {
  const { tempDir } = await import('../../test/helpers.js');
  const file = path.join(tempDir(), 'bomb.png');
  // 9000×9000 gray compresses to a few hundred KB but would decode to 81 megapixels.
  await sharp({ create: { width: 9000, height: 9000, channels: 3, background: { r: 0, g: 0, b: 0 } } })
    .grayscale()
    .png({ compressionLevel: 9 })
    .toFile(file);
  const before = process.memoryUsage().rss;
  await assert.rejects(toRgb(file), /9000×9000 \(81 megapixels\), over the 64 visemo decodes/);
  await assert.rejects(decodeGray(file, 48), /over the 64 visemo decodes/);
  assert.ok(process.memoryUsage().rss - before < 200e6, 'it was decoded after all');
});
