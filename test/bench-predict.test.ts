/**
 * bench/predict-model.ts and bench/predict.ts: which model `npm run bench -- predict` times (--arch
 * with --width and --size, or a trained --model), and its rows: batch 1, batch 16 per face and
 * batch 64, set against PyTorch's, measured here on a tiny untrained net with few steps (no timing
 * is asserted, only what the rows are made of).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parseWidth, predictModelLine, resolvePredictModel } from '../bench/predict-model.js';
import { benchPredict, benchPredictOnnx, predictLine, predictResult, predictTableLines, type PredictTimes } from '../bench/predict.js';
import { useBackend } from '../src/engine/backend.js';
import { BUNDLED_MODELS } from '../src/model/run-folder.js';
import { REPO } from './helpers.js';

const hasBundledVisemo = existsSync(path.join(REPO, 'models', BUNDLED_MODELS.visemo!, 'model.json'));
const hasOnnxRuntime = (() => {
  try {
    createRequire(import.meta.url).resolve('onnxruntime-node');
    return true;
  } catch {
    return false;
  }
})();

describe('which model predict times', () => {
  it('an architecture spec: --arch visemo --width 1.5 --size 64, an untrained net of that shape', async () => {
    assert.equal(parseWidth('1.5'), 1.5);
    for (const bad of ['0', '-1', 'wide', 'Infinity']) assert.throws(() => parseWidth(bad), /above 0/);
    assert.deepEqual(await resolvePredictModel({ width: 1.5, size: 64 }, { arch: ['visemo'] }), { arch: ['visemo'], sizes: [64], width: 1.5 });
    assert.deepEqual(await resolvePredictModel({}, { arch: ['paper', 'visemo'], sizes: [20, 48] }), { arch: ['paper', 'visemo'], sizes: [20, 48], width: 1 });
    const line = predictModelLine({ width: 1.5 });
    assert.match(line, /untrained/);
    assert.match(line, /width 1\.5/);
    assert.match(line, /latency does not depend on the weights/);
  });

  it('refuses a width for the paper CNN, and a size given twice', async () => {
    await assert.rejects(resolvePredictModel({ width: 2 }, { arch: ['paper'] }), /--width 2 is the visemo net's/);
    await assert.rejects(resolvePredictModel({ size: 20 }, { arch: ['visemo'], sizes: [30] }), /--size and --sizes/);
  });

  it('a trained model by bundled name: its own architecture, size, channels and weights', {
    skip: !hasBundledVisemo && 'the bundled visemo model is absent',
  }, async () => {
    const o = await resolvePredictModel({ model: 'visemo' }, { arch: ['paper'] });
    assert.deepEqual(o.arch, [o.model!.meta.arch]);
    assert.deepEqual(o.sizes, [o.model!.meta.inputSize]);
    assert.equal(o.model!.bundled, true);
    assert.match(predictModelLine(o), /the bundled model 'visemo' .*its trained weights/);
    await assert.rejects(resolvePredictModel({ model: 'visemo', width: 2 }, { arch: ['paper'] }), /has its own width and input size/);
    await assert.rejects(resolvePredictModel({ model: path.join(REPO, 'no-such-run') }, { arch: ['paper'] }), /does not exist/);
  });
});

describe('predict rows', () => {
  before(async () => {
    await useBackend('cpu', { quiet: true });
  });

  it('times a tiny untrained visemo net at batch 1, 16 and 64 and makes its row, batch 16 per face', async () => {
    const opts = { warmup: 1, steps: 2, width: 0.25 };
    const times = await benchPredict('visemo', 16, opts);
    for (const batch of ['batch1', 'batch16', 'batch64'] as const) {
      assert.equal(times[batch].length, 2, `${batch}: the timed steps only`);
      assert.ok(times[batch].every((ms) => ms > 0));
    }
    const row = predictResult('visemo', 16, null, 'cpu', times);
    assert.equal(row.batch16.msPerFace, row.batch16.ms / 16);
    assert.equal(row.batch16.imagesPerSecond, 16000 / row.batch16.ms);
    assert.match(predictLine(times), /^batch 1 [\d.]+ ms, batch 16 [\d.]+ ms per face, batch 64 [\d.]+ ms$/);
  });

  it('times the same net exported to ONNX on onnxruntime-node', { skip: !hasOnnxRuntime && 'onnxruntime-node is not installed' }, async () => {
    const times = await benchPredictOnnx('visemo', 16, { warmup: 0, steps: 1, width: 0.25 });
    assert.deepEqual([times.batch1.length, times.batch16.length, times.batch64.length], [1, 1, 1]);
  });

  it('the table: per-face milliseconds at batch 16 beside batch 1 and 64, each against PyTorch', () => {
    const t = (b1: number, b16: number, b64: number): PredictTimes => ({ batch1: [b1], batch16: [b16], batch64: [b64] });
    const lines = predictTableLines([predictResult('visemo', 48, 2, 'native', t(2, 32, 64)), predictResult('visemo', 48, 2, 'pytorch', t(1, 16, 64))]);
    assert.match(lines[0]!, /batch16 ms\/face/);
    assert.match(lines[0]!, /vs PyTorch \(batch 1 \/ 16 \/ 64\)/);
    // 32 ms for 16 faces: 2.00 ms per face, 500 faces/s; twice PyTorch at batches 1 and 16, even at 64.
    assert.match(lines[1]!, /^visemo\s+48\s+2\s+native\s+2\.00\s+500\s+2\.00\s+500\s+64\.0\s+1000\s+2\.00x \/ 2\.00x \/ 1\.00x$/);
    assert.match(lines[2]!, /^visemo\s+48\s+2\s+pytorch\s+1\.00\s+1000\s+1\.00\s+1000\s+64\.0\s+1000\s*$/);
  });
});
