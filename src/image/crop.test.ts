import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cropFace } from './crop.js';
import type { RawImage } from './geometry.js';

test('cropFace cuts, pads with edge pixels and resizes', async () => {
  // 4x4 gradient: value = 10*row + col, one channel.
  const data = new Uint8Array(16).map((_, i) => 10 * Math.floor(i / 4) + (i % 4));
  const img: RawImage = { data, width: 4, height: 4, channels: 1 };
  const inside = await cropFace(img, { x: 1, y: 1, width: 2, height: 2 }, { margin: 0 });
  assert.deepEqual([...inside.data], [11, 12, 21, 22]);
  // A square reaching past the top-left corner repeats the edge.
  const edge = await cropFace(img, { x: -1, y: -1, width: 2, height: 2 }, { margin: 0 });
  assert.deepEqual([...edge.data], [0, 0, 0, 0]);
  const big = await cropFace(img, { x: 0, y: 0, width: 4, height: 4 }, { margin: 0.5, size: 16 });
  assert.equal(big.width, 16);
  assert.equal(big.data.length, 256);
  assert.deepEqual(big.square, { x: -2, y: -2, width: 8, height: 8 });
});
