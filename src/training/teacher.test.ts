import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { useBackend } from '../engine/backend.js';
import { scanImageFolder } from '../data/image-folder.js';
import { tempDir, writeGrayPng } from '../../test/helpers.js';
import { combineTeachers, foldToClasses, mixTargets, teacherTargets } from './teacher.js';

const close = (a: ArrayLike<number>, b: number[], eps = 1e-6) => b.forEach((v, i) => assert.ok(Math.abs(a[i]! - v) < eps, `[${i}] ${a[i]} vs ${v}`));

test('a teacher is folded to the student classes, renormalised and softened by the temperature', () => {
  // face-api order: neutral, happiness, sadness; the student has happiness and sadness only.
  close(foldToClasses([0.5, 0.3, 0.2], ['neutral', 'happiness', 'sadness'], ['happiness', 'sadness'], 1) as number[], [0.6, 0.4]);
  // T = 2: square roots, renormalised: √0.64 : √0.36 = 0.8 : 0.6.
  close(foldToClasses([0.64, 0.36], ['a', 'b'], ['a', 'b'], 2) as number[], [0.8 / 1.4, 0.6 / 1.4]);
  assert.deepEqual(foldToClasses([1], ['a'], ['a', 'b'], 1), [1, null]);
});

test('teachers are averaged; one that lacks a class leaves it to the others', () => {
  const full = { classes: ['a', 'b', 'n'], probs: [0.2, 0.4, 0.4] };
  const partial = { classes: ['a', 'b'], probs: [0.75, 0.25] };
  // The partial teacher gives n the full one's 0.4 and scales its own to 0.6: [0.45, 0.15, 0.4].
  close(combineTeachers([full, partial], ['a', 'b', 'n'], 1), [(0.2 + 0.45) / 2, (0.4 + 0.15) / 2, 0.4]);
  assert.throws(() => combineTeachers([partial], ['a', 'b', 'n'], 1), /no teacher knows every class of this run \(n\)/);
});

test('targets mix smoothed labels with the teacher; an unlabeled image learns from the teacher alone', () => {
  const teacher = { probs: Float32Array.from([0.1, 0.9, 0.5, 0.5]), weight: 0.25 };
  const y = mixTargets(Int32Array.from([0, -1]), 2, 0.1, teacher, [0, 1]);
  // Row 0: 0.75 · [0.95, 0.05] + 0.25 · [0.1, 0.9]; row 1: the teacher's [0.5, 0.5].
  close(y, [0.75 * 0.95 + 0.025, 0.75 * 0.05 + 0.225, 0.5, 0.5]);
  close(mixTargets(Int32Array.from([1]), 2, 0, null, [0]), [0, 1]);
  assert.throws(() => mixTargets(Int32Array.from([-1]), 2, 0, null, [0]), /no label and there is no teacher/);
});

test('teacher probabilities are computed once per image and read back from the cache', async () => {
  await useBackend('cpu', { quiet: true });
  const data = tempDir();
  for (const [c, k] of [
    ['happiness', 1],
    ['sadness', 2],
    ['neutral', 3],
  ] as const) {
    for (let i = 0; i < 2; i++) await writeGrayPng(path.join(data, c, `${i}.png`), 48, 48, (x, y) => (x * k + y * (i + 1) * 3) % 256);
  }
  const { items } = await scanImageFolder(data);
  const classes = ['happiness', 'neutral', 'sadness'];
  const cacheDir = tempDir();
  const lines: string[] = [];
  const spec = { models: ['visemo', 'faceapi'], weight: 0.5, temperature: 2 };
  const chosen: string[] = [];
  const backendFor = async (name: string) => {
    chosen.push(name);
    await useBackend('cpu', { quiet: true });
  };
  const first = await teacherTargets(items, classes, spec, { cacheDir, log: (l) => lines.push(l), backendFor });
  assert.deepEqual(chosen, ['visemo', 'faceapi'], 'each teacher selects its backend before it scores');
  assert.equal(first.length, items.length * 3);
  for (let i = 0; i < items.length; i++) {
    const row = first.subarray(i * 3, i * 3 + 3);
    assert.ok(Math.abs(row.reduce((a, v) => a + v, 0) - 1) < 1e-5, 'each row is a distribution');
  }
  assert.ok(
    lines.some((l) => /teacher faceapi: 6 of 6 images to score/.test(l)),
    lines.join('\n'),
  );
  const files = await fs.readdir(cacheDir);
  assert.equal(files.length, 2, files.join(','));
  // A second run scores nothing; a value planted in the cache comes back, so the cache is what is read.
  const faceFile = path.join(cacheDir, files.find((f) => f.startsWith('faceapi'))!);
  const cache = JSON.parse(await fs.readFile(faceFile, 'utf8'));
  for (const h of Object.keys(cache.probs)) cache.probs[h] = [0, 0, 0, 0, 0, 0, 1]; // all surprise (face-api's last)
  await fs.writeFile(faceFile, JSON.stringify(cache));
  lines.length = 0;
  const again = await teacherTargets(
    items,
    ['happiness', 'surprise'],
    { models: ['faceapi'], weight: 0.5, temperature: 1 },
    { cacheDir, log: (l) => lines.push(l) },
  );
  assert.ok(
    lines.every((l) => /cached/.test(l)),
    lines.join('\n'),
  );
  close(again.subarray(0, 2), [0, 1], 1e-4);
});

test('a dataset soft target takes the place of the one-hot label, then smoothing and the teacher mix in', () => {
  const labelRows = Float32Array.from([0.5, 0.5, 0, 1]);
  close(mixTargets(Int32Array.from([0, 1]), 2, 0, null, [0, 1], labelRows), [0.5, 0.5, 0, 1]);
  const teacher = { probs: Float32Array.from([1, 0, 1, 0]), weight: 0.5 };
  // Row 0: 0.5 · (0.9 · [0.5, 0.5] + 0.05) + 0.5 · [1, 0].
  close(mixTargets(Int32Array.from([0, 1]), 2, 0.1, teacher, [0], labelRows), [0.5 * 0.5 + 0.5, 0.5 * 0.5]);
});
