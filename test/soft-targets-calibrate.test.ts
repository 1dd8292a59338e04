import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CKPLUS, hasShared, linkSubset, runCli, tempDir } from './helpers.js';

const skip = hasShared ? false : 'needs ../shared/datasets/ckplus48';
const CLASSES = ['happiness', 'sadness', 'surprise'];

test('train reads a dataset soft-targets.csv, records it, and refuses to resume once it changed', { skip }, async () => {
  const data = await linkSubset(CKPLUS, CLASSES, 12);
  const files = (await fs.readdir(path.join(data, 'happiness'))).sort().slice(0, 4);
  // Four happy faces taught as half happy, half surprised.
  await fs.writeFile(path.join(data, 'soft-targets.csv'), `${['file,happiness,sadness,surprise', ...files.map((f) => `happiness/${f},1,0,1`)].join('\n')}\n`);
  const out = path.join(tempDir(), 'run');
  const r = runCli(['train', data, '--size', '16', '--epochs', '1', '--split', 'random', '--test-fraction', '0', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const split = JSON.parse(await fs.readFile(path.join(out, 'split.json'), 'utf8'));
  const inTrain = split.files.train.filter(([rel]: [string]) => files.some((f) => rel === `happiness/${f}`)).length;
  assert.ok(inTrain > 0);
  assert.match(r.stdout, new RegExp(`soft targets: ${inTrain} of ${split.files.train.length} training images`));
  const meta = JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8'));
  assert.equal(meta.dataset.softTargets.images, inTrain);
  assert.match(meta.dataset.softTargets.hash, /^[0-9a-f]{16}$/);

  await fs.appendFile(path.join(data, 'soft-targets.csv'), `sadness/${(await fs.readdir(path.join(data, 'sadness')))[0]},0,1,1\n`);
  const resumed = runCli(['train', data, '--size', '16', '--epochs', '2', '--split', 'random', '--test-fraction', '0', '--out', out, '--resume']);
  assert.equal(resumed.code, 2);
  assert.match(resumed.stderr, /the soft targets of .* changed since run .* started/);

  await fs.writeFile(path.join(data, 'soft-targets.csv'), 'file,happiness\nhappiness/nothere.png,-1\n');
  const bad = runCli(['train', data, '--size', '16', '--epochs', '1', '--out', path.join(tempDir(), 'run')]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /soft-targets\.csv line 2: '-1' is not a non-negative number/);
});

test('calibrate fits offsets into the run, evaluate applies them, and nothing is replaced without --force', { skip }, async () => {
  const data = await linkSubset(CKPLUS, CLASSES, 15);
  const out = path.join(tempDir(), 'run');
  assert.equal(runCli(['train', data, '--size', '16', '--epochs', '2', '--split', 'random', '--out', out]).code, 0);
  const before = runCli(['evaluate', out, '--split', 'train', '--json']);
  assert.equal(before.code, 0, before.stderr);

  const r = runCli(['calibrate', out, '--data', data]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /class\s+true\s+predicted before\s+predicted after\s+offset/);
  assert.match(r.stdout, /accuracy on these 45 images: [\d.]+% before, [\d.]+% after \(balanced-nll fit/);
  const meta = JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8'));
  assert.equal(meta.calibration.offsets.length, 3);
  assert.equal(meta.calibration.fittedOn.images, 45);
  assert.ok(Math.abs(meta.calibration.offsets.reduce((a: number, v: number) => a + v, 0)) < 1e-5);

  // Offsets that forbid two classes: evaluate must now answer the third for every image.
  await fs.writeFile(path.join(out, 'metadata.json'), JSON.stringify({ ...meta, calibration: { ...meta.calibration, offsets: [-50, -50, 100] } }));
  const after = runCli(['evaluate', out, '--split', 'train', '--json']);
  assert.equal(after.code, 0, after.stderr);
  const m = JSON.parse(after.stdout);
  assert.deepEqual(
    m.confusion.map((row: number[]) => row.slice(0, 2).reduce((a, v) => a + v, 0)),
    [0, 0, 0],
    'calibration offsets are applied by evaluate',
  );

  const again = runCli(['calibrate', out, '--data', data]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already has a calibration.*--force/s);
  assert.equal(runCli(['calibrate', out, '--data', data, '--force']).code, 0);
  const bundled = runCli(['calibrate', 'visemo7', '--data', data]);
  assert.equal(bundled.code, 2);
  assert.match(bundled.stderr, /bundled model, which calibrate does not change in place/);
});
