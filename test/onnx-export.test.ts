/**
 * `visemo export --format onnx` on the bundled models (paper: the paper's CNN; visemo and visemo7:
 * the visemo net), each file run on onnxruntime-node against tfjs on real FER2013 publictest faces
 * (the first 40 of each of the model's classes, by file name): identical argmax and
 * max |Δp| ≤ 1e-4. Then `--backend onnx` through the recogniser (predict) and compare. Skipped,
 * saying why, when the models or the dataset are absent.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { decodeItems } from '../src/data/decoded-set.js';
import type { ImageItem } from '../src/data/image-folder.js';
import { useBackend } from '../src/engine/backend.js';
import { openOnnxSession } from '../src/engine/onnx.js';
import { compareModels } from '../src/evaluation/compare.js';
import { describeOnnx, ONNX_OPSET } from '../src/export/onnx-model.js';
import { EmotionRecognizer } from '../src/index.js';
import { predictSetOnnx } from '../src/inference/emotion-net.js';
import { loadEmotionModel } from '../src/model/model-io.js';
import { predictSet } from '../src/model/predict-set.js';
import { BUNDLED_MODELS } from '../src/model/run-folder.js';
import { argmax } from '../src/util/argmax.js';
import { FER_TEST, REPO, runCli, tempDir } from './helpers.js';

const PER_CLASS = 40;
const TOLERANCE = 1e-4;
const MODELS = ['paper', 'visemo', 'visemo7'];

const missing = MODELS.filter((m) => !existsSync(path.join(REPO, 'models', BUNDLED_MODELS[m]!, 'model.json')));
const skip = missing.length ? `bundled models ${missing.join(', ')} are not in this checkout` : !existsSync(FER_TEST) ? `${FER_TEST} is not there` : false;

/** The first PER_CLASS faces of each class, by file name. */
async function faces(classes: string[]): Promise<ImageItem[]> {
  const items: ImageItem[] = [];
  for (const label of classes) {
    for (const file of (await fs.readdir(path.join(FER_TEST, label))).sort().slice(0, PER_CLASS)) {
      items.push({ path: path.join(FER_TEST, label, file), rel: `${label}/${file}`, label, file });
    }
  }
  return items;
}

describe('visemo export --format onnx on the bundled models', { skip }, () => {
  const dir = tempDir('visemo-onnx-');
  after(() => fs.rm(dir, { recursive: true, force: true }));

  for (const name of MODELS) {
    it(`${name}: the exported file gives tfjs's class and probabilities (within ${TOLERANCE}) on ${PER_CLASS} real faces per class`, async () => {
      const out = path.join(dir, `${name}.onnx`);
      const r = runCli(['export', name, '--format', 'onnx', '--out', out]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`ONNX opset ${ONNX_OPSET}`));
      const bytes = new Uint8Array(await fs.readFile(out));

      await useBackend('wasm', { quiet: true });
      const loaded = await loadEmotionModel(name);
      const { classes, inputSize, channels, normalisation } = loaded.metadata;
      const info = describeOnnx(bytes);
      assert.deepEqual(JSON.parse(info.metadata.classes!), classes);
      assert.deepEqual(info.inputDims, ['batch', channels, inputSize, inputSize]);

      const { set, skipped } = await decodeItems(await faces(classes), classes, inputSize);
      assert.equal(skipped.length, 0);
      assert.ok(set.labels.length >= 200, `${set.labels.length} faces`);
      const expected = predictSet(loaded.model, set, normalisation, channels);
      loaded.model.dispose();
      const session = await openOnnxSession(bytes);
      const got = await predictSetOnnx(session, set, normalisation, channels);
      await session.release();

      let maxDiff = 0;
      let argmaxDiffers = 0;
      let correct = 0;
      for (let i = 0; i < got.length; i++) {
        for (let k = 0; k < classes.length; k++) maxDiff = Math.max(maxDiff, Math.abs(got[i]![k]! - expected[i]![k]!));
        if (argmax(got[i]!) !== argmax(expected[i]!)) argmaxDiffers++;
        if (argmax(got[i]!) === set.labels[i]) correct++;
      }
      console.log(
        `${name}: ${got.length} faces, max |Δp| ${maxDiff.toExponential(2)}, argmax differs on ${argmaxDiffers}, onnx accuracy ${((100 * correct) / got.length).toFixed(2)}%`,
      );
      assert.equal(argmaxDiffers, 0);
      assert.ok(maxDiff <= TOLERANCE, `max |Δp| ${maxDiff}`);
      // Real predictions, not a constant: well above chance.
      assert.ok(correct / got.length > 0.4, `accuracy ${correct}/${got.length}`);
    });
  }

  it('refuses to overwrite the file without --force, and replaces it with --force', async () => {
    const out = path.join(dir, 'paper.onnx');
    const before = await fs.readFile(out).catch(() => null);
    assert.ok(before, 'the paper export above wrote the file');
    await fs.writeFile(out, 'not a model');
    const refused = runCli(['export', 'paper', '-o', out]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /already exists.*--force/);
    assert.equal(await fs.readFile(out, 'utf8'), 'not a model');
    const forced = runCli(['export', 'paper', '-o', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(await fs.readFile(out), before);
    assert.deepEqual(
      (await fs.readdir(dir)).filter((f) => f.endsWith('.tmp')),
      [],
      'no temporary file left',
    );
  });

  it("--backend onnx: the recogniser (predict's) gives tfjs's emotions and scores", async () => {
    const files = (await faces(['anger', 'happiness', 'neutral', 'surprise'])).filter((_, i) => i % 8 === 0).map((f) => f.path);
    const onWasm = await EmotionRecognizer.load({ model: 'visemo7', backend: 'wasm' });
    const onOnnx = await EmotionRecognizer.load({ model: 'visemo7', backend: 'onnx' });
    assert.equal(onOnnx.runtime, 'onnx');
    const a = await onWasm.recognizeMany(files, { detect: false });
    const b = await onOnnx.recognizeMany(files, { detect: false });
    onWasm.dispose();
    onOnnx.dispose();
    assert.equal(b.length, files.length);
    for (let i = 0; i < files.length; i++) {
      assert.equal(b[i]![0]!.emotion, a[i]![0]!.emotion, files[i]);
      for (const [c, p] of Object.entries(a[i]![0]!.scores)) assert.ok(Math.abs(b[i]![0]!.scores[c]! - p) <= TOLERANCE, `${files[i]} ${c}`);
    }
  });

  it('--backend onnx: compare scores the same as on tfjs, and says what ran each model', async () => {
    const opts = { data: FER_TEST, models: ['paper', 'faceapi'], limitPerClass: 6 };
    const tfjs = await compareModels({ ...opts, backend: 'wasm' });
    const onnx = await compareModels({ ...opts, backend: 'onnx' });
    assert.deepEqual(
      onnx.models.map((m) => m.metrics.confusion),
      tfjs.models.map((m) => m.metrics.confusion),
    );
    assert.match(onnx.models[0]!.runtime, /^onnxruntime-node /);
    assert.equal(onnx.models[1]!.runtime, 'tfjs wasm', "face-api.js's net stays on tfjs");
    const cli = runCli(['compare', FER_TEST, '--models', 'visemo', '--limit-per-class', '3', '--backend', 'onnx']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /Run on: visemo onnxruntime-node/);
  });
});
