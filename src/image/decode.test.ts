import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { decodeGray, toRgb } from './decode.js';

test('alpha is flattened onto black by both decoders', async () => {
  const rgba = await sharp({ create: { width: 8, height: 8, channels: 4, background: { r: 200, g: 200, b: 200, alpha: 0.5 } } }).png().toBuffer();
  const rgb = await toRgb(rgba);
  assert.equal(rgb.channels, 3);
  assert.ok(Math.abs(rgb.data[0]! - 100) <= 1, `flattened to ${rgb.data[0]}`);
  assert.deepEqual(await decodeGray(rgba, 8), await decodeGray(rgb, 8));
});
