/** visemo average: the element-wise mean of weights, checked before anything is written. */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { tf } from '../engine/tf.js';
import type { RunMetadata } from './run-folder.js';
import { runCli, tempDir } from '../../test/helpers.js';
import { buildModel } from './architectures.js';
import { averageModels, meanOf } from './average.js';
import { loadModel, saveModel, loadEmotionModel } from './model-io.js';

const CLASSES = ['anger', 'happiness', 'surprise'];

/** A small untrained visemo net saved as a run folder; the seed makes its weights differ. */
async function writeRun(seed: number, classes = CLASSES): Promise<string> {
  const dir = tempDir('visemo-avg-');
  const model = buildModel({ arch: 'visemo', size: 16, numClasses: classes.length, channels: 1, seed });
  await saveModel(model, dir);
  model.dispose();
  const metadata: RunMetadata = {
    format: 'visemo-run@1',
    arch: 'visemo',
    classes,
    inputSize: 16,
    channels: 1,
    normalisation: { mean: [0.5], std: [0.25] },
    faceCut: { method: 'box', margin: 0 },
    split: { mode: 'random', seed },
    dataset: { path: '/nowhere', fingerprint: 'f', images: { train: 1, val: 0, test: 0 } },
    training: {
      epochs: 1,
      batchSize: 1,
      optimizer: 'adam',
      learningRate: 1e-3,
      loss: 'categoricalCrossentropy',
      seed,
      backend: 'cpu',
      precision: 'fp32',
      lrSchedule: 'constant',
      augment: 'none',
      labelSmoothing: 0,
      classWeights: 'none',
    },
    versions: {},
    commandLine: `visemo train --seed ${seed}`,
    createdAt: new Date(0).toISOString(),
  };
  await fs.writeFile(path.join(dir, 'metadata.json'), JSON.stringify(metadata));
  return dir;
}

async function weightsOf(dir: string): Promise<Float32Array[]> {
  const model = await loadModel(dir);
  const out = model.getWeights().map((w) => w.dataSync() as Float32Array);
  model.dispose();
  return out;
}

test('meanOf: element-wise mean, the same in any order', () => {
  const a = new Float32Array([1, 2, 3]);
  const b = new Float32Array([3, 2, -3]);
  const c = new Float32Array([0.1, 0.2, 0.3]);
  assert.deepEqual(Array.from(meanOf([a, b])), [2, 2, 0]);
  assert.deepEqual(Array.from(meanOf([a, b, c])), Array.from(meanOf([c, a, b])));
});

test('average: every weight tensor of the result is the mean of the ingredients, and it loads as a model', async () => {
  await useBackend('cpu', { quiet: true });
  const dirs = [await writeRun(1), await writeRun(2), await writeRun(3)];
  const out = path.join(tempDir(), 'soup');
  const r = await averageModels(dirs, out);
  assert.equal(r.parameters, 842_019, 'the visemo net with three classes (192·3 + 3 fewer than with six)');
  const ins = await Promise.all(dirs.map(weightsOf));
  const soup = await weightsOf(out);
  assert.equal(soup.length, ins[0]!.length);
  for (let t = 0; t < soup.length; t++) {
    for (const i of [0, Math.floor(soup[t]!.length / 2), soup[t]!.length - 1]) {
      const expected = (ins[0]![t]![i]! + ins[1]![t]![i]! + ins[2]![t]![i]!) / 3;
      assert.ok(Math.abs(soup[t]![i]! - expected) < 1e-6, `tensor ${t}, element ${i}`);
    }
  }
  // The seeds differ, so the mean differs from each ingredient.
  assert.notDeepEqual(Array.from(soup[0]!.slice(0, 9)), Array.from(ins[0]![0]!.slice(0, 9)));

  const loaded = await loadEmotionModel(out);
  const meta = loaded.metadata as RunMetadata & { averagedFrom: { dir: string; commandLine: string }[] };
  assert.deepEqual(meta.classes, CLASSES);
  assert.deepEqual(
    meta.averagedFrom.map((a) => a.dir),
    dirs.map((d) => path.resolve(d)),
  );
  assert.equal(meta.averagedFrom[1]!.commandLine, 'visemo train --seed 2');
  const y = tf.tidy(() => (loaded.model.predict(tf.zeros([1, 16, 16, 1])) as tf.Tensor).shape);
  assert.deepEqual(y, [1, 3]);
  loaded.model.dispose();
});

test('average: mismatched or damaged models, an ingredient as --out and an existing run are refused before anything is written', async () => {
  await useBackend('cpu', { quiet: true });
  const a = await writeRun(1);
  const b = await writeRun(2);
  const out = path.join(tempDir(), 'soup');

  const six = await writeRun(3, [...CLASSES, 'fear', 'sadness', 'disgust']);
  await assert.rejects(averageModels([a, six], out), /cannot average .* it has classes anger,happiness,surprise,fear,sadness,disgust where/);
  assert.equal(existsSync(out), false, 'no folder after a refusal');

  await assert.rejects(averageModels([a], out), /at least two models/);
  await assert.rejects(averageModels([a, b], a), /is one of the models being averaged/);

  const cut = await writeRun(4);
  await fs.truncate(path.join(cut, 'weights.bin'), 1000);
  await assert.rejects(averageModels([a, cut], out), new RegExp(`${cut}: weights.bin holds 1000 bytes`));
  assert.equal(existsSync(out), false);

  // An existing run is kept byte for byte without --force, and replaced with it.
  await averageModels([a, b], out);
  const before = await fs.readFile(path.join(out, 'weights.bin'));
  const c = await writeRun(5);
  await assert.rejects(averageModels([a, c], out), /already exists and is not empty/);
  assert.ok(before.equals(await fs.readFile(path.join(out, 'weights.bin'))));
  await averageModels([a, c], out, { force: true });
  assert.ok(!before.equals(await fs.readFile(path.join(out, 'weights.bin'))));
});

test('visemo average CLI: writes the soup and prints a summary; bad input is one line and exit 2', async () => {
  const a = await writeRun(1);
  const b = await writeRun(2);
  const out = path.join(tempDir(), 'soup');
  const ok = runCli(['average', a, b, '--out', out]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /averaged 2 models \(842,019 parameters, 3\.37 MB\)/);
  const missing = runCli(['average', a, path.join(a, 'nope'), '--out', path.join(tempDir(), 'x')]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^visemo: cannot use model folder .*nope: .*nope does not exist/);
  assert.equal(missing.stderr.trim().split('\n').length, 1);
});

test('visemo average resolves bundled model names as every command does (issue 34)', () => {
  // visemo (six classes) and visemo7 (seven) cannot be averaged: what matters is that both were found and read.
  const r = runCli(['average', 'visemo', 'visemo7', '--out', path.join(tempDir(), 'soup')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /cannot average .*models\/visemo7-wild48 with .*models\/visemo-fer48: it has classes/);
  assert.doesNotMatch(r.stderr, /cannot read visemo/);
});
