/**
 * engine/precision.ts: --precision auto|fp32|bf16 resolved for every kind of CPU (with and without
 * bf16), backend and addon (with and without bf16 kernels), from injected contexts; and this
 * machine's context as the CLI builds it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EPYC_AVX2, SAPPHIRE_RAPIDS, XEON_AVX512 } from '../../test/fixtures/cpuinfo.js';
import { cpuFeatures, hasBf16, parseCpuinfo } from './cpu-features.js';
import { precisionContext, resolvePrecision, type PrecisionContext } from './precision.js';
import { VisemoError } from '../util/errors.js';

const epyc = parseCpuinfo(EPYC_AVX2);
const avx512 = parseCpuinfo(XEON_AVX512);
const spr = parseCpuinfo(SAPPHIRE_RAPIDS);
const ctx = (cpu: PrecisionContext['cpu'], backend: string, addon: string[]): PrecisionContext => ({ cpu, backend, addon });
/** The error's one line, as the CLI prints it. */
const refusal = (c: PrecisionContext): string => {
  try {
    resolvePrecision('bf16', c);
  } catch (err) {
    assert.ok(err instanceof VisemoError, `not a VisemoError: ${String(err)}`);
    return err.toLine();
  }
  assert.fail('bf16 was not refused');
};

test("'fp32' is fp32 on every CPU, backend and addon", () => {
  for (const cpu of [epyc, avx512, spr])
    for (const backend of ['native', 'wasm', 'cpu', 'onnx'])
      for (const addon of [[], ['fp32'], ['fp32', 'bf16']]) {
        assert.equal(resolvePrecision('fp32', ctx(cpu, backend, addon)), 'fp32');
      }
});

test("'auto' is bf16 only with a bf16 CPU, the native backend and an addon with bf16 kernels", () => {
  assert.equal(resolvePrecision('auto', ctx(spr, 'native', ['fp32', 'bf16'])), 'bf16');
  assert.equal(resolvePrecision('auto', ctx(spr, 'native', ['fp32'])), 'fp32', 'an addon without bf16 kernels');
  assert.equal(resolvePrecision('auto', ctx(spr, 'wasm', [])), 'fp32', 'another backend');
  assert.equal(resolvePrecision('auto', ctx(spr, 'onnx', [])), 'fp32');
  for (const cpu of [epyc, avx512]) assert.equal(resolvePrecision('auto', ctx(cpu, 'native', ['fp32', 'bf16'])), 'fp32', cpu.model);
  const amxOnly = { ...spr, flags: { ...spr.flags, avx512_bf16: false } };
  assert.equal(resolvePrecision('auto', ctx(amxOnly, 'native', ['fp32', 'bf16'])), 'bf16', 'amx_bf16 alone is enough');
});

test("'bf16' where it can run is bf16", () => {
  assert.equal(resolvePrecision('bf16', ctx(spr, 'native', ['fp32', 'bf16'])), 'bf16');
});

test("'bf16' on a CPU without it: one line naming the missing feature and the CPU, whatever the backend", () => {
  for (const backend of ['native', 'wasm']) {
    assert.equal(
      refusal(ctx(epyc, backend, ['fp32', 'bf16'])),
      '--precision bf16 needs a CPU with avx512_bf16 or amx_bf16 (this AMD EPYC has neither) — use --precision fp32 or auto',
    );
  }
  assert.match(refusal(ctx(avx512, 'native', ['fp32'])), /needs a CPU with avx512_bf16 or amx_bf16 \(this Intel\(R\) Xeon\(R\) CPU @ 2\.80GHz has neither\)/);
  const unknown = parseCpuinfo('model name\t: Apple M2\n');
  assert.match(refusal(ctx(unknown, 'native', ['fp32'])), /needs a CPU with avx512_bf16 or amx_bf16 \(this Apple M2's features are unknown: .*\)/);
});

test("'bf16' on a bf16 CPU but another backend, or an addon without bf16 kernels: refused, naming which", () => {
  assert.match(refusal(ctx(spr, 'wasm', [])), /^--precision bf16 runs on the native backend only, not wasm — use --backend native/);
  assert.match(refusal(ctx(spr, 'onnx', [])), /not onnx/);
  assert.match(
    refusal(ctx(spr, 'native', ['fp32'])),
    /^--precision bf16: this version of visemo's native addon has no bf16 kernels .* — use --precision fp32 or auto/,
  );
});

test("this machine: the addon of this version lists fp32 only, so 'auto' is fp32, and 'bf16' is refused with the reason that applies", () => {
  const here = precisionContext('native');
  assert.ok(!here.addon.includes('bf16'), 'this version has no bf16 kernels');
  assert.equal(resolvePrecision('auto', here), 'fp32');
  const line = refusal(here);
  if (hasBf16(cpuFeatures())) assert.match(line, /has no bf16 kernels/);
  else assert.match(line, /needs a CPU with avx512_bf16 or amx_bf16/);
  assert.deepEqual(precisionContext('wasm').addon, [], 'the addon is not asked about for another backend');
});
