import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { EmotionRecognizer, looksLikeFaceCrop } from '../src/inference/recognizer.js';
import { runCli, tempDir, writeGrayPng } from './helpers.js';

test('a face crop is told by its shape: small and near square', () => {
  assert.ok(looksLikeFaceCrop(48, 48));
  assert.ok(looksLikeFaceCrop(143, 181));
  assert.ok(!looksLikeFaceCrop(640, 480), 'a photo');
  assert.ok(!looksLikeFaceCrop(100, 200), 'a strip');
  assert.ok(!looksLikeFaceCrop(400, 400), 'too large for a crop');
});

test('predict: --crops classifies each image whole; without it a faceless crop-shaped image is taken whole and said so', async () => {
  const dir = tempDir();
  // No detector finds a face in a smooth gradient: the crop-shaped one falls back, the photo-shaped one does not.
  await writeGrayPng(path.join(dir, 'crop.png'), 64, 64, (x, y) => 60 + x + y);
  await writeGrayPng(path.join(dir, 'photo.png'), 640, 480, (x) => 40 + x / 4);

  const plain = runCli(['predict', dir, '--format', 'json']);
  assert.equal(plain.code, 0, plain.stderr);
  const byName = (r: { results: { file: string; faces: { cut: string; box: object }[] }[] }, n: string) => r.results.find((x) => path.basename(x.file) === n)!;
  const j = JSON.parse(plain.stdout);
  assert.equal(byName(j, 'crop.png').faces.length, 1);
  assert.equal(byName(j, 'crop.png').faces[0]!.cut, 'whole-image');
  assert.equal((byName(j, 'crop.png').faces[0] as unknown as { faceScore: number }).faceScore, 0, 'no detector vouched for it');
  assert.deepEqual(byName(j, 'crop.png').faces[0]!.box, { x: 0, y: 0, width: 64, height: 64 });
  assert.equal(byName(j, 'photo.png').faces.length, 0);

  const table = runCli(['predict', dir]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /1 image with no face found but shaped like a face crop: the whole image was taken as the face/);
  assert.match(table.stdout, /photo\.png\s+-\s+no face found/);

  const crops = runCli(['predict', dir, '--crops', '--format', 'csv']);
  assert.equal(crops.code, 0, crops.stderr);
  const lines = crops.stdout.trim().split('\n');
  assert.match(lines[0]!, /,error,cut$/);
  assert.equal(lines.length, 3, 'one face per image');
  for (const l of lines.slice(1)) assert.match(l, /,crop$/);
  assert.match(lines.find((l) => l.includes('photo.png'))!, /,0,0,640,480,1,/);
});

test('the library can turn the whole-image fallback off', async () => {
  const file = path.join(tempDir(), 'crop.png');
  await writeGrayPng(file, 48, 48, (x, y) => 60 + 2 * x + y);
  const r = await EmotionRecognizer.load({ backend: 'wasm' });
  try {
    assert.equal((await r.recognize(file))[0]?.cut, 'whole-image');
    assert.deepEqual(await r.recognize(file, { wholeImageFallback: false }), []);
    assert.equal((await r.recognize(file, { detect: false }))[0]?.cut, 'crop');
  } finally {
    r.dispose();
  }
});
