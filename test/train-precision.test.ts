/**
 * train --precision through the CLI on this machine: an explicit bf16 this machine cannot run is
 * refused with exit 2 and one line, writing nothing; a run records the precision it computed in,
 * --resume keeps it (a recorded bf16 is not quietly resumed in fp32), and runs from before the
 * field existed read as fp32. Which refusal a bf16 request meets depends on the CPU: without
 * avx512_bf16 or amx_bf16 the CPU is named, with them this version's addon (no bf16 kernels yet).
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { cpuFeatures, hasBf16 } from '../src/engine/cpu-features.js';
import { CKPLUS, hasShared, linkSubset, runCli, tempDir } from './helpers.js';

const skip = hasShared ? false : 'needs ../shared/datasets/ckplus48';
/** The refusal this machine gives an explicit bf16 on the native backend. */
const BF16_REFUSAL = hasBf16(cpuFeatures())
  ? /^visemo: --precision bf16: this version of visemo's native addon has no bf16 kernels/
  : /^visemo: --precision bf16 needs a CPU with avx512_bf16 or amx_bf16 \(this .* has neither\) — use --precision fp32 or auto$/;

const readMeta = async (out: string) => JSON.parse(await fs.readFile(path.join(out, 'metadata.json'), 'utf8'));

test('train --precision bf16 this machine cannot run: exit 2, one line, no run folder', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 10);
  const out = path.join(tempDir(), 'run');
  const r = runCli(['train', data, '--size', '16', '--epochs', '1', '--backend', 'native', '--precision', 'bf16', '--out', out]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stderr.trim().split('\n').length, 1, `more than one line: ${r.stderr}`);
  assert.match(r.stderr.trim(), BF16_REFUSAL);
  assert.equal(existsSync(out), false, 'a refused run wrote its folder');
  // On another backend a bf16 CPU is refused for the backend; this one for whichever comes first.
  const wasm = runCli(['train', data, '--size', '16', '--epochs', '1', '--backend', 'wasm', '--precision', 'bf16', '--out', out]);
  assert.equal(wasm.code, 2);
  assert.match(wasm.stderr, hasBf16(cpuFeatures()) ? /runs on the native backend only, not wasm/ : /needs a CPU with avx512_bf16 or amx_bf16/);
});

test('a run records its precision; --resume keeps it, refuses another, and re-checks a recorded bf16', { skip }, async () => {
  const data = await linkSubset(CKPLUS, ['happiness', 'surprise'], 20);
  const out = path.join(tempDir(), 'run');
  const args = ['train', data, '--size', '16', '--out', out];
  const first = runCli([...args, '--epochs', '1']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stdout, /backend {3}\w+ in fp32, 16x16x3/);
  assert.equal((await readMeta(out)).training.precision, 'fp32', "'auto' computes in fp32 with this version's addon");

  // Another explicit precision than the recorded one: refused, naming both, the run untouched.
  const before = await fs.readFile(path.join(out, 'metadata.json'), 'utf8');
  const other = runCli([...args, '--epochs', '2', '--resume', '--precision', 'bf16']);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /^visemo: --precision bf16 differs from fp32, the precision run .* was trained in — leave --precision out \(or give fp32\)/);
  assert.equal(await fs.readFile(path.join(out, 'metadata.json'), 'utf8'), before);

  // --precision auto (the default) and fp32 both resume in the recorded fp32.
  const resumed = runCli([...args, '--epochs', '2', '--resume', '--precision', 'fp32']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stdout, /resuming .* after epoch 1 of 2/);
  assert.equal((await readMeta(out)).training.precision, 'fp32');

  // A run from before precision was recorded trained in fp32, and resumes so.
  const meta = await readMeta(out);
  delete meta.training.precision;
  await fs.writeFile(path.join(out, 'metadata.json'), JSON.stringify(meta));
  const old = runCli([...args, '--epochs', '3', '--resume']);
  assert.equal(old.code, 0, old.stderr);
  assert.equal((await readMeta(out)).training.precision, 'fp32');

  // A run recorded in bf16 resumes in bf16 or not at all: here it meets the refusal a bf16 run would.
  await fs.writeFile(path.join(out, 'metadata.json'), JSON.stringify({ ...meta, training: { ...meta.training, precision: 'bf16' } }));
  const bf16 = runCli([...args, '--epochs', '4', '--resume', '--backend', 'native']);
  assert.equal(bf16.code, 2, bf16.stderr);
  assert.match(bf16.stderr.trim(), BF16_REFUSAL);
  const history = JSON.parse(await fs.readFile(path.join(out, 'history.json'), 'utf8'));
  assert.deepEqual(
    history.epochs.map((e: { epoch: number }) => e.epoch),
    [1, 2, 3],
    'the refused resume trained an epoch',
  );
});
