/** train --arch visemo with the full recipe: recorded in metadata, applied per epoch, kept on resume; evaluate --tta. */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { PAPER_CLASSES } from '../data/classes.js';
import { evaluateRunDetailed } from '../evaluation/evaluate.js';
import type { History, RunMetadata } from '../model/run-folder.js';
import { loadEmotionModel } from '../model/model-io.js';
import { CKPLUS, FER_TRAIN, hasShared, linkSubset, runCli, tempDir } from '../../test/helpers.js';
import { DEFAULT_AUGMENT, formatTrainAugment, type TrainAugment } from './augment.js';
import { COSINE_FLOOR } from './schedule.js';
import { trainRun } from './train.js';

const skip = hasShared ? false : 'needs ../shared/datasets/ckplus48';

test('visemo arch with augmentation, label smoothing, class weights and a cosine schedule; resume keeps the recipe', { skip }, async () => {
  const data = await linkSubset(CKPLUS, [...PAPER_CLASSES], 15);
  const out = path.join(tempDir(), 'run');
  const base = { size: 16, seed: 3, batchSize: 16, learningRate: 2e-3, channels: 1 as const };
  const recipe = {
    arch: 'visemo' as const,
    augment: formatTrainAugment(DEFAULT_AUGMENT),
    labelSmoothing: 0.1,
    classWeights: 'balanced' as const,
    lrSchedule: 'cosine' as const,
  };
  const first = await trainRun({ data, out, backend: 'wasm', recipe: { ...base, ...recipe, epochs: 2 } });
  const meta = first.metadata;
  assert.equal(meta.arch, 'visemo');
  assert.equal(meta.training.augment, 'rotate=15,crop=0.15,flip,noise=0.03');
  assert.equal(meta.training.labelSmoothing, 0.1);
  assert.equal(meta.training.lrSchedule, 'cosine');
  assert.equal(meta.training.loss, 'weightedCategoricalCrossentropy');
  // 15 per class, 80% to train: 12 each, so balanced weights are all 1.
  assert.deepEqual(meta.training.classWeightValues, [1, 1, 1, 1, 1, 1]);
  const model = JSON.parse(await fs.readFile(path.join(out, 'model.json'), 'utf8'));
  assert.equal(model.modelTopology.config.name, 'visemo_net');

  // Resumed without the recipe options: they come back from metadata.json, and the schedule
  // stretches over the new epoch count.
  const resumed = await trainRun({ data, out, backend: 'wasm', recipe: { ...base, epochs: 3 }, resume: true });
  const history = JSON.parse(await fs.readFile(path.join(out, 'history.json'), 'utf8')) as History;
  assert.deepEqual(
    history.epochs.map((e) => e.epoch),
    [1, 2, 3],
  );
  assert.equal(history.epochs[0]!.learningRate, 2e-3);
  assert.ok(Math.abs(history.epochs[2]!.learningRate! - 2e-3 * COSINE_FLOOR) < 1e-12, `last rate ${history.epochs[2]!.learningRate}`);
  const saved = JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8')) as RunMetadata;
  assert.equal(saved.arch, 'visemo');
  assert.equal(saved.training.augment, meta.training.augment);
  assert.equal(resumed.metadata.training.epochs, 3);

  // The run loads as an emotion model (predict, compare), and evaluates with flip averaging.
  const loaded = await loadEmotionModel(out);
  assert.equal(loaded.model.name, 'visemo_net');
  loaded.model.dispose();
  const plain = await evaluateRunDetailed({ run: out, split: 'test', backend: 'wasm' });
  const tta = await evaluateRunDetailed({ run: out, split: 'test', backend: 'wasm', tta: true });
  assert.equal(path.basename(tta.file), 'metrics-test-tta.json');
  assert.equal(tta.metrics.n, plain.metrics.n);
});

test('the same seed trains identically; augmentation and label smoothing each change what is trained on', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise', 'anger'], 12);
  const firstLoss = async (extra: { augment?: TrainAugment; labelSmoothing?: number }) => {
    const augment = extra.augment ? formatTrainAugment(extra.augment) : undefined;
    const r = await trainRun({
      data,
      out: path.join(tempDir(), 'run'),
      backend: 'wasm',
      recipe: { size: 16, seed: 5, epochs: 1, batchSize: 8, learningRate: 1e-3, channels: 1, arch: 'visemo', labelSmoothing: extra.labelSmoothing, augment },
    });
    return r.history.epochs[0]!.loss;
  };
  const plain = await firstLoss({});
  assert.equal(await firstLoss({}), plain, 'not deterministic for a seed');
  assert.equal(await firstLoss({ augment: { rotate: 0, crop: 0, flip: false, noise: 0, erase: 0 } }), plain, 'an identity augmentation changed training');
  assert.notEqual(await firstLoss({ augment: { rotate: 15, crop: 0, flip: false, noise: 0, erase: 0 } }), plain, 'rotation was not applied');
  assert.notEqual(await firstLoss({ augment: { rotate: 0, crop: 0, flip: true, noise: 0, erase: 0 } }), plain, 'flips were not applied');
  assert.notEqual(await firstLoss({ augment: { rotate: 0, crop: 0, flip: false, noise: 0, erase: 1 } }), plain, 'erasing was not applied');
  assert.notEqual(await firstLoss({ labelSmoothing: 0.2 }), plain, 'label smoothing was not applied');
});

test('class weights enter the loss on unbalanced data', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness'], 20);
  await linkSubset(CKPLUS, ['surprise', 'anger'], 5, data);
  const run = (classWeights: 'none' | 'balanced') =>
    trainRun({
      data,
      out: path.join(tempDir(), 'run'),
      backend: 'wasm',
      recipe: { size: 16, seed: 5, epochs: 1, batchSize: 8, learningRate: 1e-3, channels: 1, arch: 'visemo', classWeights },
    });
  const plain = await run('none');
  const weighted = await run('balanced');
  const w = weighted.metadata.training.classWeightValues!;
  assert.ok(w[0]! > 1 && w[1]! < 1 && w[2]! > 1, `anger and surprise (rare) weigh more than happiness (common): ${w}`);
  assert.notEqual(weighted.history.epochs[0]!.loss, plain.history.epochs[0]!.loss);
});

test('train CLI: --arch, --augment, --label-smoothing, --class-weights, --lr-schedule; bad values are one-line errors', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 10);
  const out = path.join(tempDir(), 'run');
  const r = runCli([
    'train',
    data,
    '--arch',
    'visemo',
    '--size',
    '16',
    '--channels',
    '1',
    '--epochs',
    '1',
    '--augment',
    'rotate=10,flip',
    '--label-smoothing',
    '0.05',
    '--class-weights',
    'sqrt',
    '--lr-schedule',
    'step',
    '--backend',
    'wasm',
    '--out',
    out,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const meta = JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8')) as RunMetadata;
  assert.deepEqual(
    [meta.arch, meta.training.augment, meta.training.labelSmoothing, meta.training.classWeights, meta.training.lrSchedule],
    ['visemo', 'rotate=10,flip', 0.05, 'sqrt', 'step'],
  );
  for (const [args, re] of [
    [['--arch', 'resnet'], /argument 'resnet' is invalid/],
    [['--augment', 'blur=1'], /--augment 'blur=1': cannot read 'blur=1'/],
    [['--label-smoothing', '1'], /--label-smoothing must be a share from 0 to under 1/],
    [['--arch', 'visemo', '--size', '12'], /--size 12 is too small for the visemo architecture/],
    [['--width', '2'], /--width 2 applies to the visemo net only/],
  ] as [string[], RegExp][]) {
    const bad = runCli(['train', data, '--epochs', '1', '--out', path.join(tempDir(), 'bad'), ...args]);
    assert.notEqual(bad.code, 0, args.join(' '));
    assert.match(bad.stderr, re);
    assert.ok(bad.stderr.trim().split('\n').length <= 2, bad.stderr);
  }
});

test('--init starts from another model: its weights and normalisation; a mismatched model is refused by name', { skip }, async () => {
  const classes = ['happiness', 'surprise'];
  const base = { size: 16, seed: 5, epochs: 1, batchSize: 8, channels: 1 as const, arch: 'visemo' as const };
  const run = (data: string, out: string, learningRate: number, extra: { seed?: number; size?: number; init?: string; width?: number } = {}, hooks = {}) =>
    trainRun(
      {
        data,
        out,
        backend: 'wasm',
        init: extra.init,
        recipe: {
          ...base,
          learningRate,
          width: extra.width,
          ...(extra.seed === undefined ? {} : { seed: extra.seed }),
          ...(extra.size ? { size: extra.size } : {}),
        },
      },
      hooks,
    );
  const first = await run(await linkSubset(CKPLUS, classes, 10), path.join(tempDir(), 'first'), 1e-3);
  // Other images (so other pixel statistics) and a learning rate too small to move any weight.
  const other = await linkSubset(CKPLUS, classes, 20);
  const tuned = await run(other, path.join(tempDir(), 'tuned'), 1e-12, { init: first.runDir });
  assert.equal(tuned.metadata.training.initFrom, first.runDir);
  assert.deepEqual(tuned.metadata.normalisation, first.metadata.normalisation, 'the start model keeps its input encoding');
  const scratch = await run(other, path.join(tempDir(), 'scratch'), 1e-12);
  assert.notDeepEqual(scratch.metadata.normalisation, first.metadata.normalisation);
  // A second cycle on the same images with the same seed would replay the first one's shuffles and augmentations: warned.
  const logsOf = async (seed: number) => {
    const logs: string[] = [];
    await run(other, path.join(tempDir(), `again-${seed}`), 1e-12, { seed, init: tuned.runDir }, { log: (m: string) => logs.push(m) });
    return logs.join('\n');
  };
  assert.match(await logsOf(base.seed), /was trained on these same images with seed 5; .*give another --seed/);
  assert.doesNotMatch(await logsOf(base.seed + 1), /same images/);

  const firstKernel = async (dir: string) => {
    const m = await loadEmotionModel(dir);
    const w = Float32Array.from(m.model.getWeights()[0]!.dataSync());
    m.model.dispose();
    return w;
  };
  const start = await firstKernel(first.runDir);
  const maxDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
  assert.ok(maxDiff(start, await firstKernel(tuned.runDir)) < 1e-6, 'the tuned run did not start from --init');
  assert.ok(maxDiff(start, await firstKernel(scratch.runDir)) > 1e-3, 'a run without --init should start elsewhere');

  await assert.rejects(run(other, path.join(tempDir(), 'bad'), 1e-3, { size: 20, init: first.runDir }), (e: Error & { hint?: string }) => {
    assert.match(e.message, /--init .* has size 16, this run 20/);
    assert.equal(e.hint, 'train with --size 16');
    return true;
  });
  // A wider net starts from the narrow one (init-weights.test.ts checks it computes the same); a narrower one cannot.
  const wide = await run(other, path.join(tempDir(), 'wide'), 1e-12, { init: first.runDir, width: 1.5 });
  assert.equal(wide.metadata.training.width, 1.5);
  const wideModel = await loadEmotionModel(wide.runDir);
  assert.deepEqual(wideModel.model.getWeights()[0]!.shape, [3, 3, 1, 48]);
  wideModel.model.dispose();
  await assert.rejects(run(other, path.join(tempDir(), 'bad'), 1e-3, { init: wide.runDir }), (e: Error & { hint?: string }) => {
    assert.match(e.message, /--init .* has width 1.5, wider than this run's 1/);
    assert.equal(e.hint, 'train with --width 1.5 or more');
    return true;
  });
  await assert.rejects(
    run(other, path.join(tempDir(), 'bad'), 1e-3, { init: tempDir() }),
    /--init: cannot use model folder .* has no model\.json, weights\.bin, metadata\.json/,
  );
  // A bundled model by name: the paper's CNN is 50×50×3, so this 16×16 visemo run is refused, naming the arch.
  const bad = path.join(tempDir(), 'bad');
  await assert.rejects(run(other, bad, 1e-3, { init: 'paper' }), /--init paper has arch paper, this run visemo/);
  assert.equal(existsSync(bad), false, 'a refused run leaves no output folder behind');
});

test('distillation: a seven-class run starts from the six-class bundled model, learns from face-api and visemo, and resumes with the same teachers', {
  skip: hasShared ? false : 'needs ../shared/datasets/fer2013',
}, async () => {
  const seven = [...PAPER_CLASSES.slice(0, 4), 'neutral', ...PAPER_CLASSES.slice(4)];
  const data = await linkSubset(FER_TRAIN, seven, 8);
  const out = path.join(tempDir(), 'run');
  const cacheDir = tempDir();
  const logs: string[] = [];
  const recipe = {
    size: 48,
    seed: 11,
    batchSize: 16,
    learningRate: 1e-4,
    channels: 1 as const,
    arch: 'visemo' as const,
    epochs: 1,
    teacher: { models: ['faceapi', 'visemo'], weight: 0.6, temperature: 2 },
  };
  const first = await trainRun(
    { data, out, backend: 'wasm', recipe, dataset: { fractions: { val: 0.15, test: 0 } }, init: 'visemo', cacheDir },
    { log: (l) => logs.push(l) },
  );
  assert.deepEqual(first.metadata.classes, seven);
  assert.deepEqual(first.metadata.training.teacher, { models: ['faceapi', 'visemo'], weight: 0.6, temperature: 2 });
  assert.match(logs.join('\n'), /new classes start fresh: neutral/);
  assert.match(logs.join('\n'), /teacher faceapi: \d+ of \d+ images to score/);
  assert.equal((await fs.readdir(cacheDir)).length, 2, 'one cache file per teacher');
  // Resumed for a second epoch: the teachers come from the metadata and from the cache.
  logs.length = 0;
  const resumed = await trainRun({ data, out, backend: 'wasm', recipe: { epochs: 2 }, resume: true, cacheDir }, { log: (l) => logs.push(l) });
  assert.equal(resumed.history.epochs.length, 2);
  assert.match(logs.join('\n'), /teacher faceapi: all \d+ images cached/);
  const loaded = await loadEmotionModel(out);
  assert.equal(loaded.model.outputs[0]!.shape[1], 7);
  loaded.model.dispose();
});

test('distillation on faces without labels: --unlabeled images learn from the teacher alone, and need one', {
  skip: hasShared ? false : 'needs ../shared/datasets/fer2013',
}, async () => {
  const data = await linkSubset(FER_TRAIN, ['happiness', 'sadness'], 6);
  const unlabeledDir = await linkSubset(FER_TRAIN, ['surprise', 'neutral'], 4);
  const cacheDir = tempDir();
  const recipe = { size: 48, seed: 2, batchSize: 8, learningRate: 1e-4, channels: 1 as const, arch: 'visemo' as const, epochs: 1 };
  const run = (out: string, withTeacher: boolean) =>
    trainRun({
      data,
      out,
      backend: 'wasm',
      cacheDir,
      init: 'visemo',
      recipe: { ...recipe, teacher: withTeacher ? { models: ['faceapi'], weight: 0.5, temperature: 1 } : undefined },
      dataset: { fractions: { val: 0, test: 0 }, unlabeled: unlabeledDir },
    });
  await assert.rejects(run(path.join(tempDir(), 'no-teacher'), false), /--unlabeled images need a teacher/);
  const logs: string[] = [];
  const out = path.join(tempDir(), 'run');
  const r = await trainRun(
    {
      data,
      out,
      backend: 'wasm',
      cacheDir,
      init: 'visemo',
      recipe: { ...recipe, teacher: { models: ['faceapi'], weight: 0.5, temperature: 1 } },
      dataset: { fractions: { val: 0, test: 0 }, unlabeled: unlabeledDir },
    },
    { log: (l) => logs.push(l) },
  );
  assert.deepEqual(r.metadata.dataset.unlabeled, { path: path.resolve(unlabeledDir), images: 8 });
  assert.equal(r.metadata.dataset.images.train, 12);
  // The teacher scored the 12 labeled and the 8 unlabeled faces; class weights count labeled images only.
  assert.match(logs.join('\n'), /teacher faceapi: 20 of 20 images to score/);
  assert.equal(r.history.epochs.length, 1);
  assert.ok(Number.isFinite(r.history.epochs[0]!.loss));
});
