import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../../test/helpers.js';
import { contentType, resolveInside } from './safe-path.js';

test('resolveInside: files under the root only; traversal, dotfiles, NUL, backslashes and outside links refused', async () => {
  const root = tempDir();
  const outside = tempDir();
  await fs.mkdir(path.join(root, 'run', 'figures'), { recursive: true });
  await fs.writeFile(path.join(root, 'run', 'report.html'), 'ok');
  await fs.writeFile(path.join(root, 'run', 'figures', 'a b.png'), 'png');
  await fs.writeFile(path.join(root, '.secret'), 'no');
  await fs.writeFile(path.join(outside, 'passwd'), 'no');
  await fs.symlink(path.join(outside, 'passwd'), path.join(root, 'run', 'leak.txt'));
  await fs.symlink(path.join(root, 'run', 'report.html'), path.join(root, 'run', 'alias.html'));
  const real = await fs.realpath(root);
  assert.equal(await resolveInside(root, 'run/report.html'), path.join(real, 'run', 'report.html'));
  assert.equal(await resolveInside(root, 'run/figures/a%20b.png'), path.join(real, 'run', 'figures', 'a b.png'));
  assert.equal(await resolveInside(root, 'run/alias.html'), path.join(real, 'run', 'report.html'), 'a link that stays inside is followed');
  for (const bad of [
    '',
    'run',
    '../etc/passwd',
    'run/../../etc/passwd',
    '%2e%2e/etc/passwd',
    'run/%2E%2E/%2E%2E/x',
    '.secret',
    'run/./report.html',
    'run\\report.html',
    'run/report.html%00',
    '%E0%A4%A',
    'run/leak.txt',
    'run/missing.html',
  ]) {
    assert.equal(await resolveInside(root, bad), null, `'${bad}' was let through`);
  }
});

test('contentType by extension, octet-stream otherwise', () => {
  assert.equal(contentType('x/REPORT.HTML'), 'text/html; charset=utf-8');
  assert.equal(contentType('weights.bin'), 'application/octet-stream');
  assert.equal(contentType('tfjs-backend-wasm-simd.wasm'), 'application/wasm');
  assert.equal(contentType('noext'), 'application/octet-stream');
});
