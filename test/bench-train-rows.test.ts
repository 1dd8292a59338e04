/**
 * bench/train-rows.ts: the rows `npm run bench -- train` writes to runs/bench/train.json (each with
 * its precision), the JSON's top (date, CPU model and flags), and which bf16 rows a machine times,
 * for the three kinds of CPU of the cpuinfo fixtures.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchHead, bf16Plan, median, trainResult } from '../bench/train-rows.js';
import { parseCpuinfo } from '../src/engine/cpu-features.js';
import { EPYC_AVX2, SAPPHIRE_RAPIDS, XEON_AVX512 } from './fixtures/cpuinfo.js';

test('a row: the issue fields first-class, the step the median of data + model time, the rest derived from it', () => {
  const row = trainResult(
    { arch: 'visemo', size: 48, threads: 2, backend: 'pytorch', precision: 'bf16' },
    { dataMs: [1, 2, 1, 9], modelMs: [40, 50, 60, 100] },
    { batch: 32, trainImages: 11475, forwardFlopsPerImage: 1e6 },
  );
  // Steps 41, 52, 61, 109: median 56.5; data alone 1.5, model alone 55.
  assert.deepEqual(
    { arch: row.arch, size: row.size, threads: row.threads, backend: row.backend, precision: row.precision, stepMs: row.stepMs },
    { arch: 'visemo', size: 48, threads: 2, backend: 'pytorch', precision: 'bf16', stepMs: 56.5 },
  );
  assert.equal(row.dataMs, 1.5);
  assert.equal(row.modelMs, 55);
  assert.equal(row.imagesPerSecond, 32000 / 56.5);
  assert.equal(row.secondsPerEpoch, (359 * 56.5) / 1000, '11,475 images are 359 batches of 32');
  assert.equal(row.gflopPerSecond, (3 * 1e6 * 32) / 56.5 / 1e6);
  assert.deepEqual(JSON.parse(JSON.stringify(row)), row, 'the row survives JSON as it is');
  assert.throws(
    () =>
      trainResult(
        { arch: 'paper', size: 50, threads: 1, backend: 'native-blk', precision: 'fp32' },
        { dataMs: [], modelMs: [] },
        { batch: 32, trainImages: 1, forwardFlopsPerImage: 1 },
      ),
    /no timed steps for native-blk paper@50/,
  );
  assert.equal(median([3, 1, 2]), 2);
});

test("the JSON's top: the date and the CPU's model and bf16-deciding flags", () => {
  const head = benchHead(parseCpuinfo(SAPPHIRE_RAPIDS), new Date(Date.UTC(2026, 11, 7, 21, 0, 0)));
  assert.deepEqual(head, {
    date: '2026-12-07T21:00:00.000Z',
    cpu: {
      model: 'Intel(R) Xeon(R) Platinum 8481C CPU @ 2.70GHz',
      known: true,
      flags: { avx2: true, avx512f: true, avx512_bf16: true, amx_bf16: true, amx_tile: true },
    },
  });
});

test('bf16 rows: none without a bf16 CPU (saying so); PyTorch only with one but an addon without bf16 kernels; all with both', () => {
  for (const text of [EPYC_AVX2, XEON_AVX512]) {
    const cpu = parseCpuinfo(text);
    const plan = bf16Plan(cpu, ['fp32', 'bf16']);
    assert.equal(plan.pytorch, `bf16 needs a CPU with avx512_bf16 or amx_bf16 (this ${cpu.model} has neither)`);
    assert.equal(plan.native, plan.pytorch, 'native bf16 is skipped for the same reason');
  }
  const spr = parseCpuinfo(SAPPHIRE_RAPIDS);
  const thisAddon = bf16Plan(spr, ['fp32']);
  assert.equal(thisAddon.pytorch, null, 'PyTorch bf16 autocast is timed on a bf16 CPU');
  assert.match(thisAddon.native ?? '', /^this version of visemo's native addon has no bf16 kernels/);
  assert.deepEqual(bf16Plan(spr, ['fp32', 'bf16']), { pytorch: null, native: null });
});
