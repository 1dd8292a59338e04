/** Failure paths named in one line with the exit code the help promises (issue 17's item 12). */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO, runCli, tempDir } from './helpers.js';

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
