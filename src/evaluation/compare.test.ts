import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { PAPER_CLASSES } from '../data/classes.js';
import { trainRun } from '../training/train.js';
import { CKPLUS, hasShared, linkSubset, runCli, tempDir } from '../../test/helpers.js';
import { compareModels, describePairs, formatComparison, pairedTests, restrictedArgmax, type ComparisonResult } from './compare.js';
import { wilson } from './intervals.js';

const skip = hasShared ? false : 'needs ../shared/datasets/ckplus48';
const PAPER = [...PAPER_CLASSES];
let data = '';
let run = '';

before(async () => {
  if (!hasShared) return;
  data = await linkSubset(CKPLUS, [...PAPER, 'contempt'], 12);
  run = path.join(tempDir(), 'tiny-run');
  // A tiny 7-class run: compare must score it on the six by ignoring its contempt output.
  await trainRun({ data, out: run, backend: 'wasm', recipe: { size: 24, seed: 1, epochs: 3, batchSize: 16, learningRate: 1e-3, channels: 1, arch: 'visemo' } });
});

test('restricted argmax: the most probable of the compared classes, whatever else the model knows', () => {
  const faceapi = ['neutral', 'happiness', 'sadness', 'anger', 'fear', 'disgust', 'surprise'];
  assert.equal(restrictedArgmax([0.6, 0.05, 0.1, 0.2, 0, 0.05, 0], faceapi, PAPER), PAPER.indexOf('anger'));
  assert.equal(restrictedArgmax([0.1, 0.5, 0.2, 0.1, 0, 0.05, 0.05], faceapi, PAPER), PAPER.indexOf('happiness'));
});

test('paired tests: every two models once, counts and exact p from the predictions, described in words', () => {
  const truth = Array.from({ length: 40 }, (_, i) => i % 4);
  const a = truth.map((t, i) => (i < 20 ? t : (t + 1) % 4)); // right on 0–19
  const b = truth.map((t, i) => (i < 5 || i >= 20 ? t : (t + 1) % 4)); // right on 0–4 and 20–39
  const c = [...a];
  const pairs = pairedTests(truth, [a, b, c]);
  assert.deepEqual(
    pairs.map((t) => [t.first, t.second, t.b, t.c]),
    [
      [0, 1, 15, 20],
      [0, 2, 0, 0],
      [1, 2, 20, 15],
    ],
  );
  // 15 vs 20 discordant: 2·P(X ≤ 15 | 35, ½) = 0.4996; identical models: p = 1.
  assert.ok(Math.abs(pairs[0]!.p - 0.49954) < 1e-4, String(pairs[0]!.p));
  assert.equal(pairs[1]!.p, 1);
  const models = ['A', 'B', 'C'].map((model) => ({ model, metrics: undefined as never }));
  assert.match(describePairs(models, pairs), /^Not significant at 5 % .*A and B \(p = 0\.500\); A and C \(p = 1\.000\); B and C/);
  const strong = pairedTests(truth, [truth, truth.map((t) => (t + 1) % 4)]);
  assert.ok(strong[0]!.significant);
  assert.match(describePairs(models, strong), /^Significant at 5 %: A beats B \(p < 0\.0001\)\.$/);
});

test('a run and faceapi on the same CK+ images, classes and metrics', { skip }, async () => {
  const r = await compareModels({ data, models: [run, 'faceapi'], limitPerClass: 8, backend: 'wasm' });
  assert.deepEqual(r.classes, PAPER);
  assert.equal(r.n, 6 * 8, 'contempt images are left out: only the six classes are scored');
  assert.deepEqual(
    r.models.map((m) => m.model),
    [run, 'faceapi'],
  );
  assert.deepEqual(
    r.models.map((m) => m.inputSize),
    [24, 112],
  );
  for (const m of r.models) {
    assert.deepEqual(m.metrics.classes, PAPER);
    assert.equal(m.metrics.n, r.n);
    assert.deepEqual(
      m.metrics.perClass.map((c) => c.support),
      new Array(6).fill(8),
      `${m.model}: the same images per class`,
    );
    assert.ok(m.msPerImage > 0);
  }
  assert.equal(r.models[0]!.modelClasses.length, 7);
  // face-api's net knows CK+-style posed expressions well: far above chance (1/6).
  const faceapi = r.models[1]!.metrics;
  assert.ok(faceapi.accuracy > 0.5, `faceapi accuracy ${faceapi.accuracy}`);
  const table = formatComparison(r);
  assert.match(table, /model\s+accuracy \(95% CI\)\s+macro F1\s+anger R/);
  const ci = wilson(Math.round(faceapi.accuracy * r.n), r.n);
  const p1 = (x: number) => (x * 100).toFixed(1);
  assert.match(table, new RegExp(`faceapi\\s+${p1(faceapi.accuracy)} % \\(${p1(ci.lower)}–${p1(ci.upper)}\\)\\s+${faceapi.macro.f1.toFixed(3)}`));
  // One exact McNemar test for the two models, its counts from their predictions.
  assert.equal(r.pairs.length, 1);
  const [pair] = r.pairs;
  const correct = r.models.map((m) => m.metrics.confusion.reduce((a, row, c) => a + row[c]!, 0));
  assert.equal(pair!.b - pair!.c, correct[0]! - correct[1]!, 'b − c is the difference in images right');
  assert.match(table, /paired test on the same images \(exact McNemar/);
  assert.match(table, new RegExp(`${pair!.significant ? 'Significant' : 'Not significant'} at 5 %`));

  // The sample is seeded: the same images again, so the same scores.
  const again = await compareModels({ data, models: ['faceapi'], limitPerClass: 8, backend: 'wasm' });
  assert.deepEqual(again.models[0]!.metrics.confusion, faceapi.confusion);
});

test('visemo compare CLI: table, --json, --out; unknown models and classes are one-line errors', { skip }, async () => {
  const out = path.join(tempDir(), 'cmp.json');
  const r = runCli(['compare', data, '--models', `${run},faceapi`, '--limit-per-class', '3', '--tta', '--backend', 'wasm', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /18 images .*flip averaging/);
  assert.match(r.stdout, /^faceapi\s+\d+\.\d % \(\d+\.\d–\d+\.\d\)/m);
  const saved = JSON.parse(await fs.readFile(out, 'utf8')) as ComparisonResult;
  assert.equal(saved.format, 'visemo-compare@1');
  assert.equal(saved.tta, true);
  assert.equal(saved.models.length, 2);

  const bad = runCli(['compare', data, '--models', 'no-such-model', '--limit-per-class', '2']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /cannot use model folder no-such-model/);
  const sixClassFolder = await linkSubset(CKPLUS, ['happiness', 'surprise'], 2);
  const missing = runCli(['compare', sixClassFolder, '--models', 'faceapi', '--classes', 'happiness,neutral']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /class neutral not found/);
  const unknown = runCli(['compare', data, '--models', 'faceapi', '--classes', 'happiness,contempt']);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /model faceapi has no class contempt/);
});

test('compare --classes all scores every class folder of the data: seven with neutral for face-api and a seven-class run', {
  skip: hasShared ? false : 'needs ../shared/datasets/fer2013',
}, async () => {
  const seven = [...PAPER.slice(0, 4), 'neutral', ...PAPER.slice(4)];
  const fer = await linkSubset(path.join(path.dirname(CKPLUS), 'fer2013', 'publictest'), seven, 4);
  const r = await compareModels({ data: fer, models: ['faceapi'], classes: 'all', backend: 'wasm' });
  assert.deepEqual(r.classes, seven);
  assert.equal(r.n, 28);
  assert.deepEqual(
    r.models[0]!.metrics.perClass.map((c) => c.support),
    new Array(7).fill(4),
  );
  // The CK+ run (six classes and contempt) knows no neutral: named, not scored as something else.
  await assert.rejects(compareModels({ data: fer, models: [run], classes: 'all', backend: 'wasm' }), /has no class neutral/);
});

test('compare --out refuses a folder or a file it did not write, before scoring anything', { skip }, async () => {
  const theirs = path.join(tempDir(), 'results.json');
  await fs.writeFile(theirs, '{"format": "someone-else"}');
  const started = Date.now();
  const r = runCli(['compare', data, '--models', 'faceapi', '--limit-per-class', '2', '-o', theirs]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /results\.json exists and was not written by this command/);
  assert.doesNotMatch(r.stderr, /images of \d+ classes/, 'it scored before refusing');
  assert.equal(await fs.readFile(theirs, 'utf8'), '{"format": "someone-else"}');
  const dir = runCli(['compare', data, '--models', 'faceapi', '--limit-per-class', '2', '-o', path.dirname(theirs)]);
  assert.equal(dir.code, 2);
  assert.match(dir.stderr, /is a folder/);
  assert.ok(Date.now() - started < 60_000);
});
