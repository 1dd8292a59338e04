/**
 * Backends said, not guessed: an explicit --backend that cannot run fails with the reason (exit 2),
 * and predict's JSON and its footer line name the backend and the model that ran.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, tempDir, writeGrayPng } from './helpers.js';

function predict(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src', 'cli', 'main.ts'), 'predict', ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 240_000,
    env: { ...process.env, VISEMO_PROGRESS: '0', ...env },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('predict --backend native that cannot load exits 2 with the reason, running nothing on another backend', async () => {
  const image = path.join(tempDir(), 'grey.png');
  await writeGrayPng(image, 96, 96, (x, y) => (x * 3 + y) % 256);
  const r = predict([image, '--backend', 'native', '--format', 'json'], { VISEMO_NATIVE: '0' });
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, '', 'no result computed on a backend not asked for');
  assert.match(r.stderr, /^visemo: the native backend cannot run: native backend disabled by VISEMO_NATIVE=0 — run `npx visemo doctor`/m);
});

test("predict's JSON and footer name the backend and the model that ran", async () => {
  const image = path.join(tempDir(), 'grey.png');
  await writeGrayPng(image, 96, 96, (x, y) => (x + y * 2) % 256);
  const r = predict([image, '--backend', 'wasm', '--format', 'json']);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { model: { name: string; backend: string; runtimeLabel: string } };
  assert.equal(report.model.backend, 'wasm');
  assert.equal(report.model.runtimeLabel, 'tfjs wasm');
  assert.match(r.stderr, new RegExp(`\\(model ${report.model.name}, \\d+x\\d+, backend wasm\\)`));
});
