/** Failure paths named in one line with the exit code the help promises (issue 17's item 12). */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { CKPLUS, hasShared, linkSubset, REPO, runCli, tempDir } from './helpers.js';

test('serve --port out of range is a usage error, not a Node range error', () => {
  const r = runCli(['serve', '--port', '99999']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--port must be an integer from 0 to 65535, got '99999'/);
});

test('a truncated weights.bin is named with what to do, before tfjs meets it', async () => {
  const dir = path.join(tempDir(), 'model');
  await fs.cp(path.join(REPO, 'models', 'paper-fer50'), dir, { recursive: true });
  const weights = path.join(dir, 'weights.bin');
  await fs.truncate(weights, (await fs.stat(weights)).size - 1000);
  const image = path.join(tempDir(), 'x.png');
  await fs.writeFile(image, Buffer.alloc(0));
  const p = runCli(['predict', image, '--model', dir]);
  assert.equal(p.code, 2, p.stderr);
  assert.match(p.stderr, /weights\.bin holds \d+ bytes, model\.json describes \d+ — the model folder is damaged/);
  assert.equal(p.stderr.trim().split('\n').length, 1, p.stderr);
});

test('outputs inside the data are refused: train --out in the dataset, prepare --out in a source reached through a link', {
  skip: hasShared ? false : 'needs ../shared',
}, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 3);
  const r = runCli(['train', data, '--out', path.join(data, 'run1'), '--size', '16', '--epochs', '1']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--out .*run1 is inside the dataset/);
  assert.deepEqual((await fs.readdir(data)).sort(), ['happiness', 'surprise'], 'nothing was written into the data');
  const link = path.join(tempDir(), 'source-link');
  await fs.symlink(data, link);
  const p = runCli(['prepare', link, '-o', path.join(data, 'prepared'), '--no-detect']);
  assert.equal(p.code, 2);
  assert.match(p.stderr, /is inside the source folder/);
  assert.deepEqual((await fs.readdir(data)).sort(), ['happiness', 'surprise']);
});

test('a kill during the first metadata write does not block --resume, and temporary files left by kills are cleaned', {
  skip: hasShared ? false : 'needs ../shared',
}, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 10);
  const out = path.join(tempDir(), 'run');
  await fs.mkdir(out);
  // What a kill inside writeJsonAtomic leaves: the temporary file, and no metadata.json yet.
  await fs.writeFile(path.join(out, '.metadata.json.4242.0.tmp'), '{"format": "visemo-run@1", "cla');
  const args = ['train', data, '--out', out, '--size', '16', '--epochs', '1', '--resume'];
  const first = runCli(args);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /no run to resume .*starting a new one/);
  await fs.writeFile(path.join(out, '.weights.bin.4243.1.tmp'), 'half');
  await fs.mkdir(path.join(out, '.checkpoint.4243.tmp'));
  const resumed = runCli([...args.slice(0, -3), '--epochs', '2', '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming .* after epoch 1 of 2/);
  assert.deepEqual(
    (await fs.readdir(out)).filter((f) => f.endsWith('.tmp')),
    [],
    'temporary files are left',
  );
});

test("the face detector's weights can be freed through the library, and load again when needed", { skip: hasShared ? false : 'needs ../shared' }, async () => {
  const { EmotionRecognizer } = await import('../src/index.js');
  const { tf } = await import('../src/engine/tf.js');
  const { ckFace, composite } = await import('./predict-helpers.js');
  const image = await composite(400, 300, [{ file: ckFace('happiness'), left: 100, top: 50, side: 200 }]);
  const first = await EmotionRecognizer.load({ model: 'paper' });
  assert.equal((await first.recognize(image)).length, 1);
  const loaded = tf.memory().numBytes;
  first.dispose({ faceNets: true });
  const freed = loaded - tf.memory().numBytes;
  assert.ok(freed > 15e6, `only ${(freed / 1e6).toFixed(1)} MB freed`);
  const again = await EmotionRecognizer.load({ model: 'paper' });
  assert.equal((await again.recognize(image)).length, 1, 'the detector loads again');
  again.dispose({ faceNets: true });
});

test('a file where a folder should be is named, not a raw ENOTDIR', { skip: hasShared ? false : 'needs ../shared' }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 3);
  const file = path.join(tempDir(), 'notes.txt');
  await fs.writeFile(file, 'mine');
  const t = runCli(['train', data, '--out', path.join(file, 'run'), '--size', '16', '--epochs', '1']);
  assert.equal(t.code, 2, t.stderr);
  assert.match(t.stderr, /cannot make the run folder .*notes\.txt\/run \(ENOTDIR\) — a file stands where a folder/);
  const face = path.join(data, 'happiness', (await fs.readdir(path.join(data, 'happiness')))[0]!);
  const p = runCli(['predict', face, '--model', 'paper', '--annotate', file]);
  assert.equal(p.code, 2, p.stderr);
  assert.match(p.stderr, /--annotate .*notes\.txt is a file, not a folder/);
  assert.equal(await fs.readFile(file, 'utf8'), 'mine');
});
