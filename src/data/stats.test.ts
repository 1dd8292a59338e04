import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { ChannelMeanStd, datasetStats, formatStats } from './stats.js';

async function solid(file: string, rgb: [number, number, number], size = 2): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  await sharp({ create: { width: size, height: size, channels: 3, background: { r: rgb[0], g: rgb[1], b: rgb[2] } } })
    .png()
    .toFile(file);
}

test('ChannelMeanStd gives the population mean and std per channel', () => {
  const acc = new ChannelMeanStd(2);
  acc.add(new Uint8Array([0, 255, 255, 255])); // channel 0: 0, 1; channel 1: 1, 1
  acc.add(new Uint8Array([51, 0])); // channel 0: 0.2; channel 1: 0
  const r = acc.result();
  assert.equal(r.pixels, 3);
  // channel 0: values 0, 1, 0.2 → mean 0.4, var (0.16 + 0.36 + 0.04)/3
  assert.ok(Math.abs(r.mean[0]! - 0.4) < 1e-12);
  assert.ok(Math.abs(r.std[0]! - Math.sqrt(0.56 / 3)) < 1e-12);
  assert.ok(Math.abs(r.mean[1]! - 2 / 3) < 1e-12);
  assert.ok(Math.abs(r.std[1]! - Math.sqrt(2 / 9)) < 1e-12);
  assert.throws(() => acc.add(new Uint8Array(3)), /multiple of 2/);
});

test('datasetStats counts Table 1 and measures only the training images', async () => {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), 'visemo-stats-'));
  try {
    await solid(path.join(root, 'train/anger/a.png'), [255, 0, 51]);
    await solid(path.join(root, 'train/anger/b.png'), [0, 0, 51]);
    await solid(path.join(root, 'train/fear/c.png'), [255, 255, 51], 4); // 16 pixels, weighs 4x
    await solid(path.join(root, 'test/fear/d.png'), [10, 10, 10]);
    await solid(path.join(root, 'val/anger/e.png'), [10, 10, 10]);
    const s = await datasetStats(root);
    assert.deepEqual(s.counts, { train: { anger: 2, fear: 1 }, val: { anger: 1, fear: 0 }, test: { anger: 0, fear: 1 } });
    assert.equal(s.imagesMeasured, 3);
    assert.equal(s.pixels, 24);
    // R: 4 px of 1, 4 of 0, 16 of 1 → mean 20/24; G: 16 of 1 → 16/24; B: 0.2 everywhere.
    const expMean = [20 / 24, 16 / 24, 0.2];
    const expStd = expMean.map((m, i) => (i === 2 ? 0 : Math.sqrt(m - m * m)));
    s.mean.forEach((v, i) => assert.ok(Math.abs(v - expMean[i]!) < 1e-9, `mean[${i}] ${v}`));
    s.std.forEach((v, i) => assert.ok(Math.abs(v - expStd[i]!) < 1e-6, `std[${i}] ${v}`));
    const text = formatStats(s);
    assert.match(text, /Train\s+2\s+1\s+3/);
    assert.match(text, /mean: \[0\.833333, 0\.666667, 0\.200000\]/);
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

test('stats names an unreadable image, leaves it out and goes on; --out never replaces a file it did not write', async () => {
  const { runCli, tempDir } = await import('../../test/helpers.js');
  const root = tempDir();
  await solid(path.join(root, 'happy', 'a.png'), [255, 255, 255]);
  await solid(path.join(root, 'sad', 'b.png'), [0, 0, 0]);
  await fs.writeFile(path.join(root, 'sad', 'broken.png'), 'not a png');
  const s = await datasetStats(root, { channels: 1 });
  assert.equal(s.imagesMeasured, 2);
  assert.deepEqual(
    s.skipped.map((x) => path.basename(x.path)),
    ['broken.png'],
  );
  assert.deepEqual(s.mean, [0.5]);
  const out = path.join(tempDir(), 'stats.json');
  const r = runCli(['stats', root, '--gray', '-o', out]);
  assert.equal(r.code, 1, 'some images were skipped');
  assert.match(r.stderr, /skipped .*broken\.png: /);
  assert.match(r.stdout, /1 unreadable image skipped/);
  // Written by stats: a re-run may replace it. Someone else's file, or a folder: refused before any work.
  assert.equal(runCli(['stats', root, '--gray', '-o', out]).code, 1);
  const theirs = path.join(tempDir(), 'notes.json');
  await fs.writeFile(theirs, '{"mine": true}');
  const refused = runCli(['stats', root, '-o', theirs]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /notes\.json exists and was not written by this command — .*--force/);
  assert.equal(await fs.readFile(theirs, 'utf8'), '{"mine": true}');
  assert.equal(runCli(['stats', root, '-o', theirs, '--force']).code, 1);
  assert.match(runCli(['stats', root, '-o', path.dirname(theirs)]).stderr, /is a folder/);
});
